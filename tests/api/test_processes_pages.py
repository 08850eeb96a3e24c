"""The German pages: start a process, check off, advance (with its error summary), decide."""

from __future__ import annotations

import asyncio
import re

from httpx import ASGITransport, AsyncClient

from api.deps import SESSION_COOKIE
from tests.support.forms import form_token, token_in
from tests.support.process_harness import make_org


def browser(app, staff) -> AsyncClient:  # type: ignore[no-untyped-def]
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver",
                       cookies={SESSION_COOKIE: staff.token})


async def test_coordinator_and_steering_pages(papp, worker, make_committed_staff):  # type: ignore[no-untyped-def]
    org = await make_org(make_committed_staff, steering=1)
    async with browser(papp, org.coordinator) as web:
        home = await web.get("/app")
        assert f'href="/app/processes?org={org.slug}"' in home.text
        csrf = await form_token(web, "/app/processes")

        page = await web.get("/app/processes")
        assert page.status_code == 200 and "Neuen Prozess starten" in page.text
        assert '<label for="title">' in page.text and '<th scope="col">Titel</th>' in page.text

        # A bad date shows the form again with an error summary, nothing created.
        r = await web.post("/app/processes", data={
            "csrf_token": csrf,
            "org": org.slug, "template": "bergkamen-for-all", "title": "Bergkamen for all",
            "starts_on": "morgen"})
        assert r.status_code == 422 and 'class="error-summary"' in r.text
        assert 'value="Bergkamen for all"' in r.text and "Noch keine Prozesse." in r.text

        r = await web.post("/app/processes", data={
            "csrf_token": csrf,
            "org": org.slug, "template": "bergkamen-for-all", "title": "Bergkamen for all",
            "starts_on": "2027-02-01"})
        assert r.status_code == 303
        url = r.headers["location"].split("?")[0]
        page = await web.get(r.headers["location"])
        assert "Der Prozess wurde gestartet." in page.text
        assert "Steuerungsgruppe bilden" in page.text and "(aktuell)" in page.text
        assert "01.02.2027 – 28.02.2027" in page.text

        # Advance with an open checklist: 409 and the reason at the top of the page.
        r = await web.post(f"{url}/advance", data={"csrf_token": csrf,
                                                   "expected_current": "steuerungsgruppe"})
        assert r.status_code == 409 and 'class="error-summary"' in r.text
        assert "Checkliste ist nicht erledigt" in r.text

        for item in ("akteure-auflisten", "perspektiven", "interviewpartner"):
            r = await web.post(f"{url}/phases/steuerungsgruppe/checklist/{item}",
                               data={"csrf_token": csrf, "done": "1"})
            assert r.status_code == 303
        page = await web.get(url)
        assert page.text.count("✓ erledigt") == 3

        r = await web.post(f"{url}/phases/interviews/reschedule",
                           data={"csrf_token": csrf,
                                 "planned_start": "2027-03-01", "planned_end": "2027-02-01"})
        assert r.status_code == 422 and "Ende liegt vor dem geplanten Beginn" in r.text
        r = await web.post(f"{url}/advance", data={"csrf_token": csrf,
                                                   "expected_current": "steuerungsgruppe"})
        assert r.status_code == 303 and r.headers["location"].endswith("ok=advanced")
        # The same form sent twice (a double click): the second is refused by the guard.
        r = await web.post(f"{url}/advance", data={"csrf_token": csrf,
                                                   "expected_current": "steuerungsgruppe"})
        assert r.status_code == 409 and "aktuelle Phase" in r.text
        r = await web.post(f"{url}/advance", data={"csrf_token": csrf,
                                                   "expected_current": "interviews",
                                                   "override_reason": "Genug Interviews"})
        assert r.status_code == 303
        r = await web.post(f"{url}/advance", data={"csrf_token": csrf,
                                                   "expected_current": "erreichbarkeit",
                                                   "override_reason": "Matrix steht"})
        assert r.status_code == 303
        assert r.headers["location"].endswith("ok=awaiting_approval")
        page = await web.get(url)
        approval_id = re.search(r'href="/app/approvals/([0-9a-f-]+)"', page.text).group(1)
        assert "Phase abgeschlossen" in page.text and "Freigabe angefragt" in page.text

    steering = org.steering[0]
    async with browser(papp, steering) as web:
        for _ in range(100):
            listing = await web.get("/app/approvals")
            if approval_id in listing.text:
                break
            await asyncio.sleep(0.05)
        assert "Fokusgruppen bestätigen" in listing.text
        page = await web.get(f"/app/approvals/{approval_id}")
        csrf = token_in(page.text)
        assert '<fieldset>' in page.text and 'for="d-reject"' in page.text
        r = await web.post(f"/app/approvals/{approval_id}/decision", data={"csrf_token": csrf,
                                                                           "decision": "reject"})
        assert r.status_code == 422 and "begründen" in r.text
        r = await web.post(f"/app/approvals/{approval_id}/decision",
                           data={"csrf_token": csrf,
                                 "decision": "approve", "comment": "Gute Auswahl"})
        assert r.status_code == 303
        page = await web.get(r.headers["location"])
        assert "Ihre Entscheidung wurde gespeichert." in page.text and "Gute Auswahl" in page.text
        assert "Entscheidung abgeben" not in page.text

    async with browser(papp, org.coordinator) as web:
        for _ in range(100):
            page = await web.get(url)
            if "Jugendkonferenz (aktuell)" in page.text or \
                    "Jugendkonferenz <span class=\"status\">(aktuell)" in page.text:
                break
            await asyncio.sleep(0.05)
        assert "Jugendkonferenz <span class=\"status\">(aktuell)" in page.text
        assert "Zustimmung" in page.text and steering.email in page.text
