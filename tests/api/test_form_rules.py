"""Staff page forms (issue 13, "Errors as pages"): a refused form comes back as the form, with
the errors and what was typed, not the stored values or a bare message; and the page date
inputs keep the API's window (contracts/input_rules.py): a process starting in 1990 is
refused by both, and so is a council meeting in 1990 (the shared resolution rules)."""

from __future__ import annotations

from datetime import date

from httpx import ASGITransport, AsyncClient

from api.deps import SESSION_COOKIE
from contracts.input_rules import DATE_RANGE_MESSAGE
from contracts.resolution import OutcomeInput, ScheduledInput, outcome_problems, scheduled_problems
from services.models.organisation import Role
from tests.support.forms import form_token
from tests.support.surveys import make_process


def _web(app, staff) -> AsyncClient:  # type: ignore[no-untyped-def]
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver",
                       cookies={SESSION_COOKIE: staff.token})


async def test_a_process_in_1990_is_refused_by_the_page(app, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff(role=Role.coordinator)
    async with _web(app, staff) as web:
        csrf = await form_token(web, "/app/processes")
        r = await web.post("/app/processes", data={
            "csrf_token": csrf, "org": staff.org_slug, "template": "bergkamen-for-all",
            "title": "Bergkamen for all", "starts_on": "1990-03-01"})
        assert r.status_code == 422 and 'class="error-summary"' in r.text
        assert DATE_RANGE_MESSAGE in r.text
        assert 'value="Bergkamen for all"' in r.text and 'value="1990-03-01"' in r.text


async def test_the_api_refuses_it_too(papp, make_committed_staff):  # type: ignore[no-untyped-def]
    # The API needs its Temporal client before the body is checked: the time-skipping one.
    staff = await make_committed_staff(role=Role.coordinator)
    async with AsyncClient(transport=ASGITransport(app=papp), base_url="http://testserver") as c:
        r = await c.post(f"/api/v1/orgs/{staff.org_slug}/processes", headers=staff.headers,
                         json={"template": "bergkamen-for-all", "title": "Bergkamen for all",
                               "starts_on": "1990-03-01"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    assert "starts_on" in str(r.json()["error"]["details"])


async def test_a_refused_reschedule_keeps_the_typed_dates(papp, worker, make_committed_staff):  # type: ignore[no-untyped-def]
    staff = await make_committed_staff(role=Role.coordinator)
    async with _web(papp, staff) as web:
        csrf = await form_token(web, "/app/processes")
        r = await web.post("/app/processes", data={
            "csrf_token": csrf, "org": staff.org_slug, "template": "bergkamen-for-all",
            "title": "Bergkamen for all", "starts_on": "2027-02-01"})
        assert r.status_code == 303, r.text
        url = r.headers["location"].split("?")[0]
        r = await web.post(f"{url}/phases/interviews/reschedule", data={
            "csrf_token": csrf, "planned_start": "1990-03-01", "planned_end": "1990-04-01"})
        assert r.status_code == 422 and DATE_RANGE_MESSAGE in r.text
        # The typed dates stay in that phase's form, which is open; the others keep theirs.
        assert 'value="1990-03-01"' in r.text and 'value="1990-04-01"' in r.text
        assert r.text.count("<details open>") == 1


async def test_a_refused_event_edit_keeps_what_was_typed(app, session, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff(role=Role.coordinator)
    process = await make_process(session, staff.org_id)
    async with _web(app, staff) as web:
        list_url = f"/app/processes/{process.id}/events"
        csrf = await form_token(web, list_url)
        r = await web.post(list_url, data={
            "csrf_token": csrf, "phase": "kickoff", "title": "Kick-off",
            "starts_at": "2027-05-04T18:00", "ends_at": "2027-05-04T20:00",
            "location": "Bürgerhaus", "capacity": "10"})
        assert r.status_code == 303, r.text
        event_url = r.headers["location"].split("?")[0]
        r = await web.post(event_url, data={
            "csrf_token": csrf, "aktion": "speichern", "title": "Kick-off im Rathaus",
            "starts_at": "2027-06-05T18:00", "ends_at": "2027-06-05T17:00",
            "location": "Rathaus, Saal 2", "accessibility": "", "capacity": "12",
            "reminder_hours": "24", "description": "Neu geplant"})
        assert r.status_code == 422 and 'class="error-summary"' in r.text
        for typed in ('value="Kick-off im Rathaus"', 'value="2027-06-05T18:00"',
                      'value="2027-06-05T17:00"', 'value="Rathaus, Saal 2"', 'value="12"',
                      ">Neu geplant</textarea>"):
            assert typed in r.text, typed
        # Nothing was saved: the stored event is unchanged.
        page = await web.get(event_url)
        assert 'value="Bürgerhaus"' in page.text and "Rathaus, Saal 2" not in page.text


def test_council_dates_in_1990_are_refused_by_the_shared_rules() -> None:
    scheduling = ScheduledInput(body="Stadtverordnetenversammlung", meeting_date=date(1990, 5, 1))
    assert scheduled_problems(scheduling) == [
        {"field": "meeting_date", "message": DATE_RANGE_MESSAGE}]
    outcome = OutcomeInput(outcome="adopted", decided_on=date(1990, 5, 1))
    assert outcome_problems(outcome) == [{"field": "decided_on", "message": DATE_RANGE_MESSAGE}]
    fine = ScheduledInput(body="Stadtverordnetenversammlung", meeting_date=date(2027, 5, 1))
    assert scheduled_problems(fine) == []


async def test_an_event_in_1990_is_refused_by_page_and_api(app, client, session, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff(role=Role.coordinator)
    process = await make_process(session, staff.org_id)
    list_url = f"/app/processes/{process.id}/events"
    async with _web(app, staff) as web:
        csrf = await form_token(web, list_url)
        r = await web.post(list_url, data={
            "csrf_token": csrf, "phase": "kickoff", "title": "Kick-off",
            "starts_at": "1990-05-04T18:00", "ends_at": "1990-05-04T20:00"})
        assert r.status_code == 422 and DATE_RANGE_MESSAGE in r.text
        assert 'value="1990-05-04T18:00"' in r.text
    r = await client.post(f"/api/v1/processes/{process.id}/events", headers=staff.headers,
                          json={"phase": "kickoff", "title": "Kick-off",
                                "starts_at": "1990-05-04T18:00:00+02:00",
                                "ends_at": "1990-05-04T20:00:00+02:00"})
    assert r.status_code == 422 and DATE_RANGE_MESSAGE in r.text


async def test_a_consent_in_1990_is_refused_by_page_and_api(app, client, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff(role=Role.coordinator)
    base = f"/app/orgs/{staff.org_slug}/stakeholders"
    async with _web(app, staff) as web:
        csrf = await form_token(web, f"{base}/new")
        r = await web.post(f"{base}/new", data={
            "csrf_token": csrf, "name": "Erika Muster", "email": "erika@example.org",
            "kind": "person", "group": "verwaltung", "reach_tier": "1", "tags": "",
            "language": "de", "legal_basis": "consent", "consent_at": "1990-02-01",
            "consent_method": "Formular", "accessibility_needs": "", "notes": ""})
        assert r.status_code == 422 and DATE_RANGE_MESSAGE in r.text
        assert 'value="1990-02-01"' in r.text and 'value="Erika Muster"' in r.text
    r = await client.post(f"/api/v1/orgs/{staff.org_slug}/stakeholders", headers=staff.headers,
                          json={"name": "Erika Muster", "email": "erika@example.org",
                                "group": "verwaltung", "legal_basis": "consent",
                                "consent_at": "1990-02-01T10:00:00+01:00"})
    assert r.status_code == 422 and DATE_RANGE_MESSAGE in r.text
