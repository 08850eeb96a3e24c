"""Survey definition endpoints: create (from a template or questions), read, version, scoping."""

from __future__ import annotations

import uuid

from services.models.organisation import Role
from services.surveys import service
from tests.support.surveys import make_campaign, make_invites, make_process


async def test_create_read_and_version(client, session, make_staff):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    url = f"/api/v1/processes/{process.id}/surveys"
    r = await client.post(url, headers=staff.headers, json={
        "phase": "kickoff", "from_template": "weltoffene-kommune-selbstcheck",
        "closes_at": "2030-01-01T12:00:00+01:00"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert len(body["blocks"]) == 7 and body["status"] == "open" and body["version"] == 1
    assert body["questions"][0]["text"]["de"]
    survey_id = body["id"]
    assert (await client.get(f"/api/v1/surveys/{survey_id}",
                             headers=staff.headers)).status_code == 200

    definition = {"title": {"de": "Kurz", "en": "Short"}, "questions": [
        {"id": "a", "kind": "likert", "text": {"de": "Aussage"}, "required": True}]}
    r = await client.put(f"/api/v1/surveys/{survey_id}/questions", headers=staff.headers,
                         json=definition)
    assert r.status_code == 200 and r.json()["id"] == survey_id  # no answers yet: in place
    survey = await service.get_survey(session, uuid.UUID(survey_id))
    campaign = await make_campaign(session, survey)
    (inv,) = await make_invites(session, campaign)
    assert (await client.post(f"/api/v1/participation/{inv.token}/response",
                              json={"answers": {"a": 4}})).status_code == 201
    r = await client.put(f"/api/v1/surveys/{survey_id}/questions", headers=staff.headers,
                         json={**definition, "title": "Kurz, Version 2"})
    assert r.status_code == 201 and r.json()["id"] != survey_id and r.json()["version"] == 2
    old = (await client.get(f"/api/v1/surveys/{survey_id}", headers=staff.headers)).json()
    assert old["title"] == {"de": "Kurz", "en": "Short"} and old["responses"] == 1


async def test_invalid_definitions_and_roles(client, session, make_staff):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    url = f"/api/v1/processes/{process.id}/surveys"
    r = await client.post(url, headers=staff.headers, json={"title": "x", "questions": [
        {"id": "Bad Id", "kind": "single", "text": "t", "options": []}]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_survey"
    r = await client.post(url, headers=staff.headers, json={"from_template": "gibt-es-nicht"})
    assert r.status_code == 404
    r = await client.post(url, headers=staff.headers,
                          json={"from_template": "vielfaltsmanager-feedback", "phase": "mond"})
    assert r.status_code == 422
    r = await client.post(url, headers=staff.headers, json={
        "from_template": "vielfaltsmanager-feedback", "allow_edits": True})
    assert r.status_code == 422  # anonymous answers cannot be edited
    steering = await make_staff(role=Role.steering, org_slug=staff.org_slug)
    r = await client.post(url, headers=steering.headers,
                          json={"from_template": "vielfaltsmanager-feedback"})
    assert r.status_code == 403
    other = await make_staff()
    r = await client.post(url, headers=other.headers,
                          json={"from_template": "vielfaltsmanager-feedback"})
    assert r.status_code == 404
    r = await client.get("/api/v1/survey-templates", headers=staff.headers)
    assert {t["key"] for t in r.json()} >= {"weltoffene-kommune-selbstcheck",
                                           "bergkamen-interviewleitfaden"}
