"""The participation API: every error path gives the API.md error and writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.surveys import counts, make_campaign, make_invites, make_process, make_survey

QUESTIONS = [
    {"id": "wahl", "kind": "single", "required": True, "text": {"de": "Eine Wahl", "en": "One"},
     "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
    {"id": "mehr", "kind": "multiple", "text": "Mehrfach", "max_choices": 2,
     "options": [{"value": "x", "label": "X"}, {"value": "y", "label": "Y"},
                 {"value": "z", "label": "Z"}]},
    {"id": "skala", "kind": "likert", "required": True, "text": "Skala"},
    {"id": "frei", "kind": "text", "text": "Freitext", "max_length": 20},
    {"id": "zahl", "kind": "number", "text": "Zahl", "min": 0, "max": 120, "integer": True},
    {"id": "rang", "kind": "ranking", "text": "Rangfolge",
     "options": [{"value": "r1", "label": "R1"}, {"value": "r2", "label": "R2"},
                 {"value": "r3", "label": "R3"}]},
    {"id": "warum", "kind": "text", "text": "Warum B?", "required": True,
     "show_if": {"question": "wahl", "equals": "b"}},
]
VALID = {"wahl": "a", "mehr": ["x", "y"], "skala": 3, "frei": "gut", "zahl": 42,
         "rang": ["r2", "r1", "r3"]}


@pytest.fixture
async def setup(session, make_staff):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, title="Test", questions=QUESTIONS)
    campaign = await make_campaign(session, survey)
    return staff, survey, campaign


def _assert_error(r, status, code):
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


async def test_submit_once_then_409(client, session, setup):
    _, survey, campaign = setup
    (inv,) = await make_invites(session, campaign)
    r = await client.get(f"/api/v1/participation/{inv.token}")
    assert r.status_code == 200 and r.json()["status"] == "open"
    assert [q["id"] for q in r.json()["survey"]["questions"]][:2] == ["wahl", "mehr"]
    before = await counts(session)
    r = await client.post(f"/api/v1/participation/{inv.token}/response", json={"answers": VALID})
    assert r.status_code == 201, r.text
    after = await counts(session)
    assert after["responses"] == before["responses"] + 1
    # 1 + 2 + 1 + 1 + 1 + 3 rows
    assert after["answers"] == before["answers"] + 9
    r = await client.post(f"/api/v1/participation/{inv.token}/response", json={"answers": VALID})
    _assert_error(r, 409, "already_answered")
    assert await counts(session) == after
    r = await client.get(f"/api/v1/participation/{inv.token}")
    assert r.json()["status"] == "answered"


@pytest.mark.parametrize(("answers", "fields"), [
    ({**VALID, "wahl": "c"}, {"wahl"}),
    ({**VALID, "wahl": ""}, {"wahl"}),
    ({**VALID, "mehr": ["x", "y", "z"]}, {"mehr"}),
    ({**VALID, "mehr": ["q"]}, {"mehr"}),
    ({**VALID, "skala": 6}, {"skala"}),
    ({**VALID, "skala": 2.5}, {"skala"}),
    ({**VALID, "skala": True}, {"skala"}),
    ({**VALID, "frei": "x" * 21}, {"frei"}),
    ({**VALID, "frei": 5}, {"frei"}),
    ({**VALID, "zahl": 121}, {"zahl"}),
    ({**VALID, "zahl": 1.5}, {"zahl"}),
    ({**VALID, "zahl": "viele"}, {"zahl"}),
    ({**VALID, "zahl": "1e400"}, {"zahl"}),
    ({**VALID, "skala": "NaN"}, {"skala"}),
    ({**VALID, "wahl": {"a": 1}}, {"wahl"}),
    ({**VALID, "rang": ["r1", "r2"]}, {"rang"}),
    ({**VALID, "rang": ["r1", "r1", "r2"]}, {"rang"}),
    ({**VALID, "wahl": "b"}, {"warum"}),
    ({**VALID, "unbekannt": 1}, {"unbekannt"}),
    ({"mehr": ["x"]}, {"wahl", "skala"}),
])
async def test_invalid_answers_422_name_each_question(client, session, setup, answers, fields):
    _, _, campaign = setup
    (inv,) = await make_invites(session, campaign)
    before = await counts(session)
    r = await client.post(f"/api/v1/participation/{inv.token}/response",
                          json={"answers": answers})
    err = _assert_error(r, 422, "invalid_answers")
    assert {d["field"] for d in err["details"]} == fields
    assert await counts(session) == before


async def test_hidden_conditional_answer_is_dropped(client, session, setup):
    _, _, campaign = setup
    (inv,) = await make_invites(session, campaign)
    r = await client.post(f"/api/v1/participation/{inv.token}/response",
                          json={"answers": {**VALID, "warum": "egal"}})
    assert r.status_code == 201


async def test_token_errors(client, session, setup):
    _, survey, campaign = setup
    before = await counts(session)
    r = await client.post("/api/v1/participation/gibt-es-nicht/response",
                          json={"answers": VALID})
    _assert_error(r, 404, "token_unknown")
    _assert_error(await client.get("/api/v1/participation/gibt-es-nicht"), 404, "token_unknown")
    (expired,) = await make_invites(session, campaign,
                                    expires_at=datetime.now(UTC) - timedelta(minutes=1))
    r = await client.post(f"/api/v1/participation/{expired.token}/response",
                          json={"answers": VALID})
    _assert_error(r, 410, "token_expired")
    (declined,) = await make_invites(session, campaign, status="declined")
    r = await client.post(f"/api/v1/participation/{declined.token}/response",
                          json={"answers": VALID})
    _assert_error(r, 410, "invitation_declined")
    (late,) = await make_invites(session, campaign)
    survey.closes_at = datetime.now(UTC) - timedelta(seconds=1)
    await session.flush()
    r = await client.post(f"/api/v1/participation/{late.token}/response",
                          json={"answers": VALID})
    _assert_error(r, 410, "survey_closed")
    after = await counts(session)
    assert after == before


async def test_bad_bodies(client, session, setup):
    _, _, campaign = setup
    (inv,) = await make_invites(session, campaign)
    before = await counts(session)
    url = f"/api/v1/participation/{inv.token}/response"
    r = await client.post(url, json={"answers": {**VALID, "frei": "x" * 2_000_000}})
    _assert_error(r, 413, "payload_too_large")
    r = await client.post(url, content=b"{kein json", headers={"content-type": "application/json"})
    _assert_error(r, 422, "validation_error")
    r = await client.post(url, json={"antworten": VALID})
    _assert_error(r, 422, "validation_error")
    assert await counts(session) == before


async def test_draft_then_submit_deletes_draft(client, session, setup):
    _, _, campaign = setup
    (inv,) = await make_invites(session, campaign)
    r = await client.post(f"/api/v1/participation/{inv.token}/draft",
                          json={"answers": {"wahl": "b", "skala": 9}})
    assert r.status_code == 200 and [e["field"] for e in r.json()["errors"]] == ["skala"]
    assert (await counts(session))["drafts"] == 1
    r = await client.get(f"/api/v1/participation/{inv.token}")
    assert r.json()["draft"] == {"wahl": "b"}
    r = await client.post(f"/api/v1/participation/{inv.token}/response",
                          json={"answers": {**VALID, "wahl": "b", "warum": "darum"}})
    assert r.status_code == 201
    assert (await counts(session))["drafts"] == 0


async def test_identified_survey_with_edits(client, session, make_staff):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, title="Namentlich", anonymity="identified",
                               allow_edits=True, questions=QUESTIONS)
    campaign = await make_campaign(session, survey)
    (inv,) = await make_invites(session, campaign, language="en")
    r = await client.get(f"/api/v1/participation/{inv.token}")
    assert r.json()["language"] == "en" and r.json()["survey"]["questions"][0]["text"] == "One"
    url = f"/api/v1/participation/{inv.token}/response"
    assert (await client.post(url, json={"answers": VALID})).status_code == 201
    r = await client.post(url, json={"answers": {**VALID, "skala": 5}})
    assert r.status_code == 200 and r.json()["status"] == "updated"
    c = await counts(session)
    assert c["links"] >= 1
    r = await client.get(f"/api/v1/participation/{inv.token}")
    assert r.json()["draft"]["skala"] == 5


async def test_rate_limit_per_token(client, session, setup, app):
    from api.ratelimit import ParticipationLimits

    app.state.participation_limits = ParticipationLimits(token_per_minute=3,
                                                         address_per_minute=1000)
    _, _, campaign = setup
    (inv,) = await make_invites(session, campaign)
    statuses = [(await client.get(f"/api/v1/participation/{inv.token}")).status_code
                for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    r = await client.get(f"/api/v1/participation/{inv.token}")
    _assert_error(r, 429, "rate_limited")


async def test_rate_limit_per_address(client, session, setup, app):
    from api.ratelimit import ParticipationLimits

    app.state.participation_limits = ParticipationLimits(token_per_minute=100,
                                                         address_per_minute=2)
    _, _, campaign = setup
    invites = await make_invites(session, campaign, 3)
    statuses = [(await client.get(f"/api/v1/participation/{inv.token}")).status_code
                for inv in invites]
    assert statuses == [200, 200, 429]
    before = await counts(session)
    r = await client.post(f"/api/v1/participation/{invites[0].token}/response",
                          json={"answers": VALID})
    _assert_error(r, 429, "rate_limited")
    assert await counts(session) == before


def test_token_bucket_refills():
    from api.ratelimit import TokenBucket

    bucket = TokenBucket(per_minute=60)
    assert all(bucket.allow("k", now=0.0) for _ in range(60))
    assert not bucket.allow("k", now=0.0)
    assert bucket.allow("k", now=1.0)  # one per second comes back
    assert not bucket.allow("k", now=1.0)
