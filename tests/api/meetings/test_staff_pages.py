"""The coordinator's event pages with their forms (CSRF token, as a browser posts them): plan
an event, edit and reschedule, see registrations with needs and the waitlist, cancel one,
check people in by code (as the QR code's link fills it in), by list, a walk-in, an upload."""

from __future__ import annotations

import re

from httpx import ASGITransport, AsyncClient

from api.deps import SESSION_COOKIE
from services.models.organisation import Role
from tests.api.meetings.test_meetings_api import _links
from tests.support.forms import form_token
from tests.support.surveys import make_process


def _web(app, staff) -> AsyncClient:  # type: ignore[no-untyped-def]
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver",
                       cookies={SESSION_COOKIE: staff.token})


async def test_plan_edit_and_check_in_by_page(app, client, session, make_staff):
    staff = await make_staff(role=Role.coordinator)
    process = await make_process(session, staff.org_id)
    async with _web(app, staff) as web:
        list_url = f"/app/processes/{process.id}/events"
        csrf = await form_token(web, list_url)
        # Without the token the form is refused.
        r = await web.post(list_url, data={"title": "X"})
        assert r.status_code == 403
        bad = await web.post(list_url, data={
            "csrf_token": csrf, "phase": "kickoff", "title": "Kick-off",
            "starts_at": "2027-05-04T18:00", "ends_at": "2027-05-04T17:00"})
        assert bad.status_code == 422 and 'class="error-summary"' in bad.text
        r = await web.post(list_url, data={
            "csrf_token": csrf, "phase": "kickoff", "title": "Kick-off",
            "starts_at": "2027-05-04T18:00", "ends_at": "2027-05-04T20:00",
            "location": "Bürgerhaus", "capacity": "1", "public": "1"})
        assert r.status_code == 303, r.text
        event_url = r.headers["location"].split("?")[0]
        eid = event_url.rsplit("/", 1)[1]
        page = await web.get(r.headers["location"])
        assert "Die Veranstaltung wurde angelegt." in page.text
        assert "4. Mai 2027, 18:00 – 20:00 Uhr" in page.text
        assert "<script" not in page.text

        a, b = await _links(session, staff.org_id, process.id, eid, 2)
        await client.post(f"/api/v1/participation/{a}/registration",
                          json={"attending": True, "needs": {"sign_language": True}})
        await client.post(f"/api/v1/participation/{b}/registration", json={"attending": True})
        page = await web.get(event_url)
        assert "Gebärdensprache" in page.text and "Warteliste (1)" in page.text

        # Reschedule and more places through the edit form.
        r = await web.post(event_url, data={
            "csrf_token": csrf, "aktion": "speichern", "title": "Kick-off",
            "starts_at": "2027-05-05T18:00", "ends_at": "2027-05-05T20:00",
            "location": "Bürgerhaus", "accessibility": "", "capacity": "2",
            "reminder_hours": "24", "description": "", "public": "1"})
        assert r.status_code == 303, r.text
        page = await web.get(event_url)
        assert "5. Mai 2027" in page.text and "Warteliste (0)" in page.text

        # The door: the code as the QR code's link brings it, then the list, a walk-in.
        rows = (await client.get(f"/api/v1/events/{eid}/registrations",
                                 headers=staff.headers)).json()
        code = rows[0]["checkin_code"]
        door = await web.get(f"/app/events/{eid}/checkin?code={code}")
        assert door.status_code == 200 and f'value="{code}"' in door.text
        r = await web.post(f"/app/events/{eid}/checkin", data={"csrf_token": csrf,
                                                               "code": code.lower()})
        assert r.status_code == 303 and r.headers["location"].endswith("ok=checked")
        r = await web.post(f"/app/events/{eid}/checkin", data={"csrf_token": csrf,
                                                               "code": "NICHTDA2"})
        assert r.status_code == 404 and 'class="error-summary"' in r.text
        r = await web.post(f"/app/events/{eid}/checkin/{rows[1]['id']}",
                           data={"csrf_token": csrf})
        assert r.status_code == 303
        full = await web.post(f"/app/events/{eid}/walk-in", data={"csrf_token": csrf,
                                                                  "name": "Gast"})
        assert full.status_code == 409 and "Kapazität erhöhen" in full.text
        door = await web.get(f"/app/events/{eid}/checkin")
        assert re.search(r"Anwesend: <strong>2</strong> von 2", door.text)
        r = await web.post(f"/app/events/{eid}/attendance", data={"csrf_token": csrf},
                           files={"file": ("l.csv", b"code\nABCDEFGH\n", "text/csv")})
        assert r.status_code == 200 and "Zeile 2: ABCDEFGH" in r.text

        # Cancel one registration from the list, then the whole event.
        r = await web.post(f"/app/events/{eid}/registrations/{rows[1]['id']}/cancel",
                           data={"csrf_token": csrf})
        assert r.status_code == 303
        r = await web.post(event_url, data={"csrf_token": csrf, "aktion": "absagen"})
        assert r.status_code == 303
        assert "abgesagt" in (await web.get(event_url)).text
        listing = await web.get(list_url)
        assert "Kick-off" in listing.text and "events.ics" in listing.text


async def test_other_roles_and_organisations(app, session, make_staff):
    staff = await make_staff(role=Role.coordinator)
    other = await make_staff(role=Role.coordinator)
    steering = await make_staff(role=Role.steering, org_slug=staff.org_slug)
    process = await make_process(session, staff.org_id)
    async with _web(app, staff) as web:
        csrf = await form_token(web, f"/app/processes/{process.id}/events")
        r = await web.post(f"/app/processes/{process.id}/events", data={
            "csrf_token": csrf, "phase": "kickoff", "title": "Intern",
            "starts_at": "2027-05-04T18:00", "ends_at": "2027-05-04T20:00"})
        eid = r.headers["location"].split("?")[0].rsplit("/", 1)[1]
    async with _web(app, other) as web:
        assert (await web.get(f"/app/events/{eid}")).status_code == 404
    async with _web(app, steering) as web:
        page = await web.get(f"/app/events/{eid}")
        assert page.status_code == 200 and "Angemeldet (" not in page.text  # no names
        assert (await web.get(f"/app/events/{eid}/checkin")).status_code == 403
