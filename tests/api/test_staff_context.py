"""The staff pages' shared prologue (api/pages/staff_context.py): every address under /app
sends someone not signed in to the login page, with the way back, before anything is loaded
or changed; a page whose object this user may not see ends with the staff error page."""

from __future__ import annotations

import re
import uuid

from fastapi.routing import APIRoute

from api.deps import SESSION_COOKIE
from api.routes import ROUTERS
from services.models.organisation import Role


def _staff_routes() -> list[tuple[str, str]]:
    out = []
    for route in (r for router in ROUTERS for r in router.routes):
        if isinstance(route, APIRoute) and route.path.startswith("/app"):
            # Path parameters filled with values of the right shape (ids are UUIDs, an
            # {number:int} is a number, a slug or a key any word).
            path = re.sub(r"\{[^}]*_id\}", str(uuid.uuid4()), route.path)
            path = re.sub(r"\{[^}]*:int\}", "1", path)
            path = re.sub(r"\{[^}]*\}", "wort", path)
            out += [(method, path) for method in sorted(route.methods)]
    return out


async def test_every_staff_address_asks_for_a_sign_in(client):  # type: ignore[no-untyped-def]
    routes = _staff_routes()
    assert len(routes) > 50, routes  # all the staff pages, not a few
    for method, path in routes:
        r = await client.request(method, path, headers={"Accept": "text/html"})
        assert r.status_code == 303, (method, path, r.status_code, r.text[:200])
        assert r.headers["location"] == f"/login?next={path}", (method, path)


async def test_another_organisations_survey_is_the_staff_error_page(client, session,  # type: ignore[no-untyped-def]
                                                                    make_staff):
    from tests.support.surveys import make_process, make_survey

    owner = await make_staff(role=Role.coordinator)
    other = await make_staff(role=Role.coordinator)
    survey = await make_survey(session, await make_process(session, owner.org_id),
                               from_template="weiterstadt-bedarfe-und-wuensche")
    await session.commit()
    client.cookies.set(SESSION_COOKIE, other.token)
    for path in (f"/app/surveys/{survey.id}/bearbeiten",
                 f"/app/surveys/{survey.id}/multiplikatoren"):
        r = await client.get(path)
        assert r.status_code == 404, (path, r.text)
        assert "<h1>Nicht gefunden</h1>" in r.text
        assert "Zu den Beteiligungsprozessen" in r.text
