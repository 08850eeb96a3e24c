"""The organisation's templates page: lists what it can start from, an admin uploads a file
or pasted text, errors come back with their path in the file."""

from __future__ import annotations

from pathlib import Path

import yaml

from services.models.organisation import Role
from tests.api.test_processes_pages import browser
from tests.support.forms import form_token

SHIPPED = Path(__file__).parents[2] / "services" / "templates"


async def test_admin_uploads_on_the_page(app, make_staff):  # type: ignore[no-untyped-def]
    admin = await make_staff(role=Role.admin)
    url = f"/app/orgs/{admin.org_slug}/templates"
    async with browser(app, admin) as web:
        home = await web.get("/app")
        assert f'href="{url}"' in home.text
        csrf = await form_token(web, url)
        page = await web.get(url)
        assert page.status_code == 200 and "Vorlage hochladen" in page.text
        assert "Noch keine eigenen Vorlagen." in page.text
        assert (f'/api/v1/templates/weiterstadt-vielfaltsstrategie.yaml?org={admin.org_slug}'
                f'&amp;kind=process') in page.text

        # Pasted text with a mistake: the form again, the problem named by its path.
        data = yaml.safe_load((SHIPPED / "surveys" / "vielfaltsmanager-feedback.yaml")
                              .read_text())
        data.update(key="unser-feedback", derived_from="vielfaltsmanager-feedback")
        data["questions"][0]["kind"] = "raten"
        text = yaml.safe_dump(data, allow_unicode=True)
        r = await web.post(url, data={"csrf_token": csrf, "kind": "survey", "text": text})
        assert r.status_code == 422 and 'class="error-summary"' in r.text
        assert "<code>questions[0] (tag).kind</code>: ungültiger Wert" in r.text
        assert "unser-feedback" in r.text  # the pasted text is kept

        # The fixed file as an upload.
        data["questions"][0]["kind"] = "single"
        files = {"file": ("feedback.yaml", yaml.safe_dump(data, allow_unicode=True).encode(),
                          "application/yaml")}
        r = await web.post(url, data={"csrf_token": csrf, "kind": "survey"}, files=files)
        assert r.status_code == 303 and r.headers["location"].endswith("?ok=created"), r.text
        page = await web.get(r.headers["location"])
        assert "Die Vorlage wurde gespeichert." in page.text
        assert "<code>unser-feedback</code>" in page.text and admin.email in page.text
        assert "eigene (aus <code>vielfaltsmanager-feedback</code>)" in page.text
        r = await web.post(url, data={"csrf_token": csrf, "kind": "survey"}, files=files)
        assert r.headers["location"].endswith("?ok=unchanged")

        # Without the form token nothing is stored.
        r = await web.post(url, data={"kind": "survey", "text": text})
        assert r.status_code == 403


async def test_members_see_but_do_not_upload(app, make_staff):  # type: ignore[no-untyped-def]
    admin = await make_staff(role=Role.admin)
    coordinator = await make_staff(role=Role.coordinator, org_slug=admin.org_slug)
    stranger = await make_staff(role=Role.admin)
    url = f"/app/orgs/{admin.org_slug}/templates"
    async with browser(app, coordinator) as web:
        csrf = await form_token(web, url)
        page = await web.get(url)
        assert page.status_code == 200 and "Vorlage hochladen" not in page.text
        r = await web.post(url, data={"csrf_token": csrf, "kind": "survey", "text": "key: x"})
        assert r.status_code == 403 and "Ihre Rolle erlaubt diese Aktion nicht." in r.text
    async with browser(app, stranger) as web:
        assert (await web.get(url)).status_code == 404
