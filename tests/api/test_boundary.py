"""Issue 8, section 4 (hostile review): bad input is refused at the boundary with a 422 naming
the field, never a 500 and never stored: control characters in any body, dates at the ends of
the calendar, durations beyond any plan, a campaign to events that do not exist, a survey
nobody could ever submit."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from api.deps import get_temporal
from services.models.organisation import Role
from services.models.process import Process
from tests.support.campaigns import audience_of_one
from tests.support.surveys import make_process, make_survey

MIGRATIONS = Path(__file__).parents[2] / "infra" / "migrations" / "versions"


def field_of(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error", error
    return error["details"][0]["field"]


async def test_control_characters_are_refused_in_every_kind_of_body(client, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff(role=Role.coordinator)
    url = f"/api/v1/orgs/{staff.org_slug}/processes"
    ok = {"template": "bergkamen-for-all", "title": "x", "starts_on": "2027-02-01"}
    # JSON: every C0 character but tab/LF/CR, as an escape, with the field named.
    for char in ("\x00", "\x01", "\x0b", "\x1b", "\x1f"):
        r = await client.post(url, headers=staff.headers, json={**ok, "title": f"a{char}b"})
        assert field_of(r) == "title", char
    r = await client.post(url, headers=staff.headers,
                          json={**ok, "extra": [{"deep": "x\x02"}]})
    assert field_of(r) == "extra.0.deep"
    # URL-encoded and multipart forms (the pages take both), the query string.
    assert field_of(await client.post("/app/processes", data={"title": "a\x01b"})) == "body"
    r = await client.post("/app/processes", files={"title": (None, "a\x00b")})
    assert field_of(r) == "title"
    assert field_of(await client.get(f"{url}?q=a%1Fb", headers=staff.headers)) == "query"
    # Tab and line breaks are text; a file part is the importer's business (any bytes).
    r = await client.post("/api/v1/auth/token", json={"email": "a\tb@x.de", "password": "x"})
    assert r.status_code == 401
    r = await client.post("/app/processes", files={"title": (None, "Zeile 1\r\nZeile 2")})
    assert r.status_code in (303, 307)  # not logged in: to the login page
    r = await client.post(f"/api/v1/orgs/{staff.org_slug}/stakeholders/import",
                          files={"file": ("a.csv", b"name\x00,email\n", "text/csv")})
    assert r.status_code == 401


@pytest.mark.parametrize("closes_at", [
    "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59-12:00",
    "1999-12-31T23:59:59+00:00", "2101-01-01T00:00:00+14:00", "2030-01-01T12:00:00"])
async def test_survey_times_outside_2000_2100_or_without_offset_are_422(  # type: ignore[no-untyped-def]
        client, session, make_staff, closes_at):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    url = f"/api/v1/processes/{process.id}/surveys"
    body = {"phase": "kickoff", "from_template": "weltoffene-kommune-selbstcheck"}
    r = await client.post(url, headers=staff.headers, json={**body, "closes_at": closes_at})
    assert field_of(r) == "closes_at"
    r = await client.post(url, headers=staff.headers, json={**body, "opens_at": closes_at})
    assert field_of(r) == "opens_at"
    # Nothing was stored: the list still reads (before the fix: 500 on ±infinity).
    r = await client.get(url, headers=staff.headers)
    assert r.status_code == 200 and r.json() == []


async def test_survey_with_a_far_west_offset_works(client, session, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    url = f"/api/v1/processes/{process.id}/surveys"
    r = await client.post(url, headers=staff.headers, json={
        "phase": "kickoff", "from_template": "weltoffene-kommune-selbstcheck",
        "closes_at": "2030-12-31T23:59:59-12:00"})
    assert r.status_code == 201, r.text
    survey_id = r.json()["id"]
    for path in (url, f"/api/v1/surveys/{survey_id}", f"/api/v1/surveys/{survey_id}/results"):
        assert (await client.get(path, headers=staff.headers)).status_code == 200, path


async def test_a_survey_that_can_never_be_submitted_is_422_naming_the_question(  # type: ignore[no-untyped-def]
        client, session, make_staff):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    r = await client.post(f"/api/v1/processes/{process.id}/surveys", headers=staff.headers,
                          json={"title": "Unmöglich", "questions": [
                              {"id": "farben", "kind": "multiple", "text": "Welche Farben?",
                               "required": True, "min_choices": 5,
                               "options": [{"value": "rot", "label": "Rot"},
                                           {"value": "blau", "label": "Blau"}]}]})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_survey"
    assert error["details"][0]["field"].startswith("questions.0")
    assert "farben" in error["details"][0]["message"]


@pytest.fixture
async def campaign_api(app, client, session, make_staff, time_skipping_env):  # type: ignore[no-untyped-def]
    """A coordinator, a process with a survey, and the app on a Temporal server (no worker:
    a started campaign just waits)."""
    staff = await make_staff(role=Role.coordinator)
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, await session.get_one(Process, process.id),
                               from_template="weiterstadt-bedarfe-und-wuensche")
    await audience_of_one(session, staff.org_id)
    await session.commit()
    app.dependency_overrides[get_temporal] = lambda: time_skipping_env.client
    deadline = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    body = {"kind": "survey", "target_id": str(survey.id), "reminders": ["P7D"],
            "deadline": deadline}
    yield client, staff, f"/api/v1/processes/{process.id}/campaigns", body
    app.dependency_overrides.pop(get_temporal, None)


@pytest.mark.parametrize(("change", "field"), [
    ({"deadline": "9999-12-31T23:59:59Z"}, "deadline"),
    ({"deadline": "9999-12-31T23:59:59-12:00"}, "deadline"),
    ({"deadline": "2101-01-01T00:00:00+01:00"}, "deadline"),
    ({"deadline": "2030-01-01T00:00:00"}, "deadline"),
    ({"reminders": ["P9999999999D"]}, "reminders"),
    ({"reminders": ["P7D", "P3000D"]}, "reminders"),
    ({"reminders": ["PT99999999999999999999H"]}, "reminders"),
])
async def test_campaign_deadlines_and_reminders_out_of_range_are_422(  # type: ignore[no-untyped-def]
        campaign_api, change, field):
    client, staff, url, body = campaign_api
    r = await client.post(url, headers=staff.headers, json={**body, **change})
    assert field_of(r) == field


async def test_campaign_deadline_with_minus_twelve_offset_works(campaign_api):  # type: ignore[no-untyped-def]
    client, staff, url, body = campaign_api
    deadline = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S-12:00")
    r = await client.post(url, headers=staff.headers, json={**body, "deadline": deadline})
    assert r.status_code == 201, r.text
    r = await client.get(f"/api/v1/campaigns/{r.json()['id']}", headers=staff.headers)
    assert r.status_code == 200


async def test_campaign_to_an_event_that_does_not_exist_is_refused(campaign_api):  # type: ignore[no-untyped-def]
    """A campaign of kind `event` used to take any target id and mail links that were 404s;
    now its target must be an event of this process (the survey's id is none)."""
    client, staff, url, body = campaign_api
    r = await client.post(url, headers=staff.headers, json={**body, "kind": "event"})
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "event_not_found"


async def test_a_browser_gets_a_german_page_for_a_control_character(client):  # type: ignore[no-untyped-def]
    r = await client.post("/t/some-token", data={"q1": "Zeile\x0bumbruch aus Word"},
                          headers={"accept": "text/html,application/xhtml+xml"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "Steuerzeichen" in r.text and 'lang="de"' in r.text
    # An English page's participant reads it too (the guard cannot know the page's language).
    assert '<section lang="en">' in r.text and "Control characters" in r.text


async def test_migration_repairs_survey_times_stored_as_infinity(client, session, make_staff):  # type: ignore[no-untyped-def]
    """Surveys stored with ±infinity before the bound existed answered 500 everywhere."""
    spec = importlib.util.spec_from_file_location("m0005", MIGRATIONS / "0009_boundary.py")
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    pid = process.id
    cases = {"never_closes": ("-infinity", "infinity"), "closed": (None, "-infinity"),
             "never_opens": ("infinity", None)}
    ids = {}
    for name, (opens, closes) in cases.items():
        survey = await make_survey(session, await session.get_one(Process, pid),
                                   from_template="weltoffene-kommune-selbstcheck")
        ids[name] = survey.id
        await session.execute(text(
            "UPDATE surveys SET opens_at = CAST(CAST(:o AS text) AS timestamptz), "
            "closes_at = CAST(CAST(:c AS text) AS timestamptz) WHERE id = :i"),
                              {"o": opens, "c": closes, "i": survey.id})
    for statement in migration.REPAIRS:
        await session.execute(text(statement))
    session.expire_all()
    r = await client.get(f"/api/v1/processes/{pid}/surveys", headers=staff.headers)
    assert r.status_code == 200, r.text
    status = {s["id"]: s["status"] for s in r.json()}
    assert status[str(ids["never_closes"])] == "open"
    assert status[str(ids["closed"])] == "closed"
    assert status[str(ids["never_opens"])] != "open"
    for survey_id in ids.values():
        for path in (f"/api/v1/surveys/{survey_id}", f"/api/v1/surveys/{survey_id}/results"):
            assert (await client.get(path, headers=staff.headers)).status_code == 200, path
