"""Issue 8, section 4: a control character in a multipart page form is refused at the boundary
(422 at once), so the process and approval workflows never take a state PostgreSQL refuses."""

from __future__ import annotations

import asyncio
import re

from httpx import ASGITransport, AsyncClient

from tests.api.test_processes_pages import browser
from tests.support.forms import form_token
from tests.support.process_harness import make_org


def multipart(fields: dict[str, str]) -> dict[str, tuple[None, str]]:
    """Text fields as multipart parts (no filename), as a browser with enctype=multipart."""
    return {name: (None, value) for name, value in fields.items()}


async def post(web: AsyncClient, url: str, fields: dict[str, str]):  # type: ignore[no-untyped-def]
    """Post a page form as multipart, with the session's CSRF token as a browser would."""
    fields = {"csrf_token": await form_token(web, "/app/processes"), **fields}
    # Before the fix these hung for minutes while the workflow retried its write.
    return await asyncio.wait_for(web.post(url, files=multipart(fields)), timeout=20)


async def test_nul_in_multipart_forms_is_422_and_workflows_stay_usable(  # type: ignore[no-untyped-def]
        papp, worker, make_committed_staff):
    org = await make_org(make_committed_staff, steering=1)
    async with browser(papp, org.coordinator) as web:
        r = await post(web, "/app/processes", {
            "org": org.slug, "template": "bergkamen-for-all", "title": "Grenzfall",
            "starts_on": "2027-02-01"})
        assert r.status_code == 303, r.text
        url = r.headers["location"].split("?")[0]
        for current in ("steuerungsgruppe", "interviews"):
            r = await post(web, f"{url}/advance", {"expected_current": current,
                                                   "override_reason": "weiter"})
            assert r.status_code == 303, r.text

        # The gated phase: before the fix its approval request could not be stored, the
        # workflow waited for an approval that did not exist and refused every advance.
        r = await post(web, f"{url}/advance", {"expected_current": "erreichbarkeit",
                                               "override_reason": "nul\x00reason"})
        assert r.status_code == 422
        detail = r.json()["error"]["details"][0]
        assert detail["field"] == "override_reason" and detail["type"] == "control_character"
        r = await post(web, f"{url}/phases/erreichbarkeit/skip", {"reason": "a\x1bb"})
        assert r.status_code == 422

        # Tab and line breaks are ordinary text; the same form goes through.
        r = await post(web, f"{url}/advance", {"expected_current": "erreichbarkeit",
                                               "override_reason": "Matrix\tsteht\r\nfertig"})
        assert r.status_code == 303 and r.headers["location"].endswith("ok=awaiting_approval")
        page = await web.get(url)
        approval_id = re.search(r'href="/app/approvals/([0-9a-f-]+)"', page.text).group(1)

    async with browser(papp, org.steering[0]) as web:
        decision = f"/app/approvals/{approval_id}/decision"
        r = await post(web, decision, {"decision": "approve", "comment": "ok\x00"})
        assert r.status_code == 422
        assert r.json()["error"]["details"][0]["field"] == "comment"
        # Before the fix the workflow counted that vote and refused this one.
        r = await post(web, decision, {"decision": "approve", "comment": "Gute Auswahl"})
        assert r.status_code == 303, r.text
        page = await web.get(r.headers["location"])
        assert "Gute Auswahl" in page.text and "Entscheidung abgeben" not in page.text


async def test_dates_outside_2000_2100_are_422_at_once(papp, worker, make_committed_staff):  # type: ignore[no-untyped-def]
    """Before the fix a reschedule to 9999-12-31 or 0001-01-01 broke the workflow's timer
    arithmetic (its task failed for good) and the API answered 503 after 20 s."""
    org = await make_org(make_committed_staff, steering=1)
    async with AsyncClient(transport=ASGITransport(app=papp), base_url="http://testserver",
                           headers=org.coordinator.headers) as api:
        r = await api.post(f"/api/v1/orgs/{org.slug}/processes", json={
            "template": "bergkamen-for-all", "title": "Grenzfall", "starts_on": "2027-02-01"})
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        url = f"/api/v1/processes/{pid}/phases/interviews/reschedule"
        for start, end in (("2027-03-01", "9999-12-31"), ("0001-01-01", "2027-03-01"),
                           ("1999-12-31", "2027-03-01"), ("2027-03-01", "2101-01-01")):
            r = await asyncio.wait_for(api.post(url, json={"planned_start": start,
                                                           "planned_end": end}), timeout=10)
            assert r.status_code == 422, r.text
        r = await api.post(url, json={"planned_start": "2027-03-01", "planned_end": "2027-04-30"})
        assert r.status_code == 200, r.text
        r = await api.post(f"/api/v1/orgs/{org.slug}/processes", json={
            "template": "bergkamen-for-all", "title": "Zu früh", "starts_on": "1999-12-31"})
        assert r.status_code == 422

    async with browser(papp, org.coordinator) as web:
        r = await post(web, f"/app/processes/{pid}/phases/interviews/reschedule",
                       {"planned_start": "2027-03-01", "planned_end": "9999-12-31"})
        assert r.status_code == 422 and "31.12.2100" in r.text
        r = await post(web, "/app/processes", {
            "org": org.slug, "template": "bergkamen-for-all", "title": "Grenzfall",
            "starts_on": "0001-01-01"})
        assert r.status_code == 422 and 'class="error-summary"' in r.text
