"""Tenant isolation and roles across the domains: objects of organisation A are "not found" (404)
for a coordinator of organisation B, whatever the endpoint (read, list, export, write), and B's
attempt changes nothing; members of A whose role lacks the right get 403.

The SSE stream's scoping is tested in test_events_feed.py (it needs a real server)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from api.deps import get_temporal
from services.events.service import record_event
from services.models.campaign import Campaign
from services.models.organisation import Role
from services.models.process import Approval, ApprovalVote, Process
from services.models.stakeholder import Stakeholder
from services.models.survey import Survey
from tests.support.surveys import make_campaign, make_process, make_survey

QUESTIONS = [{"id": "wahl", "kind": "single", "text": "Wahl",
              "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]}]
DEFINITION = {"title": {"de": "Neu"}, "questions": QUESTIONS}


@pytest.fixture
async def temporal(app, time_skipping_env) -> AsyncIterator[None]:  # type: ignore[no-untyped-def]
    """A reachable Temporal client, so endpoints that take one answer for themselves (the
    checks below all fail before any workflow is asked)."""
    app.dependency_overrides[get_temporal] = lambda: time_skipping_env.client
    yield
    app.dependency_overrides.pop(get_temporal, None)


async def _count(session, model, **where) -> int:  # type: ignore[no-untyped-def]
    stmt = select(func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return int(await session.scalar(stmt) or 0)


async def test_processes_of_another_org_are_not_found(client, session, make_staff, temporal):
    a = await make_staff(role=Role.coordinator)
    b = await make_staff(role=Role.coordinator)
    process = await make_process(session, a.org_id)
    await session.commit()
    pid = process.id

    for path in (f"/api/v1/processes/{pid}", f"/api/v1/processes/{pid}/timeline",
                 f"/api/v1/processes/{pid}/approvals", f"/api/v1/orgs/{a.org_slug}/processes",
                 f"/api/v1/orgs/{a.org_slug}", f"/app/processes/{pid}"):
        r = await client.get(path, headers=b.headers)
        assert r.status_code == 404, (path, r.text)
    listed = (await client.get(f"/api/v1/orgs/{b.org_slug}/processes", headers=b.headers)).json()
    assert pid not in {p["id"] for p in listed}

    writes = [(f"/api/v1/processes/{pid}/advance", {"expected_current": "kickoff"}),
              (f"/api/v1/processes/{pid}/phases/kickoff/skip", {"reason": "weil"}),
              (f"/api/v1/processes/{pid}/phases/kickoff/reschedule",
               {"planned_start": "2026-03-01", "planned_end": "2026-03-31"}),
              (f"/api/v1/processes/{pid}/phases/kickoff/checklist/x", {"done": True})]
    for path, body in writes:
        r = await client.post(path, json=body, headers=b.headers)
        assert r.status_code == 404, (path, r.text)
    # Only coordinators steer the process: steering members and clerks of A get 403.
    for role in (Role.steering, Role.clerk):
        member = await make_staff(role=role, org_slug=a.org_slug)
        assert (await client.get(f"/api/v1/processes/{pid}", headers=member.headers)
                ).status_code == 200
        for path, body in writes:
            r = await client.post(path, json=body, headers=member.headers)
            assert r.status_code == 403, (role, path, r.text)
    session.expire_all()
    again = await session.get_one(Process, pid)
    assert (again.status, again.current_phase) == ("running", "kickoff")


async def test_approval_decision_only_by_listed_steering_members(client, session, make_staff,
                                                                 temporal):
    a = await make_staff(role=Role.coordinator)
    voter = await make_staff(role=Role.steering, org_slug=a.org_slug)
    process = await make_process(session, a.org_id)
    approval = Approval(id=uuid.uuid4(), process_id=process.id, organisation_id=a.org_id,
                        phase_key="kickoff", title="Freigabe", rule="all",
                        voters=[str(voter.user_id)])
    session.add(approval)
    await session.commit()
    b = await make_staff(role=Role.steering)
    decision = {"decision": "approve", "comment": ""}
    path = f"/api/v1/approvals/{approval.id}"

    assert (await client.get(path, headers=b.headers)).status_code == 404
    assert (await client.post(f"{path}/decision", json=decision,
                              headers=b.headers)).status_code == 404
    assert approval.id not in {x["id"] for x in
                               (await client.get("/api/v1/approvals", headers=b.headers)).json()}
    assert (await client.get(path, headers=voter.headers)).json()["can_vote"] is True
    # Wrong role: 403. The right role but not asked when the gate opened (an admin, a member
    # who joined later): the workflow's 409 not_a_voter, answered before it is contacted.
    late = await make_staff(role=Role.steering, org_slug=a.org_slug)
    admin = await make_staff(role=Role.admin, org_slug=a.org_slug)
    clerk = await make_staff(role=Role.clerk, org_slug=a.org_slug)
    for who, status, code in ((a, 403, "role_required"), (clerk, 403, "role_required"),
                              (late, 409, "not_a_voter"), (admin, 409, "not_a_voter")):
        r = await client.post(f"{path}/decision", json=decision, headers=who.headers)
        assert r.status_code == status and r.json()["error"]["code"] == code, r.text
    assert await _count(session, ApprovalVote, approval_id=approval.id) == 0


async def test_surveys_and_results_of_another_org(client, session, make_staff):
    a = await make_staff(role=Role.coordinator)
    b = await make_staff(role=Role.coordinator)
    process = await make_process(session, a.org_id)
    survey = await make_survey(session, process, title={"de": "A"}, questions=QUESTIONS)
    await session.commit()
    sid, pid = survey.id, process.id

    reads = [f"/api/v1/surveys/{sid}", f"/api/v1/processes/{pid}/surveys",
             f"/api/v1/surveys/{sid}/results", f"/api/v1/surveys/{sid}/results.csv",
             f"/api/v1/surveys/{sid}/results.xlsx", f"/app/surveys/{sid}/results"]
    for path in reads:
        r = await client.get(path, headers=b.headers)
        assert r.status_code == 404, (path, r.text)
    r = await client.get("/app/surveys", headers=b.headers)
    assert r.status_code == 200 and str(sid) not in r.text
    r = await client.post(f"/api/v1/processes/{pid}/surveys",
                          json={"title": {"de": "B"}, "questions": QUESTIONS}, headers=b.headers)
    assert r.status_code == 404, r.text
    r = await client.put(f"/api/v1/surveys/{sid}/questions", json=DEFINITION, headers=b.headers)
    assert r.status_code == 404, r.text
    assert await _count(session, Survey, process_id=pid) == 1
    session.expire_all()
    assert (await session.get_one(Survey, sid)).title == {"de": "A"}

    # Results: coordinators and steering members (and admins); the clerk reads the survey only.
    clerk = await make_staff(role=Role.clerk, org_slug=a.org_slug)
    steering = await make_staff(role=Role.steering, org_slug=a.org_slug)
    assert (await client.get(f"/api/v1/surveys/{sid}", headers=clerk.headers)).status_code == 200
    for path in reads[2:]:
        r = await client.get(path, headers=clerk.headers)
        assert r.status_code == 403, (path, r.text)
    r = await client.get(f"/api/v1/surveys/{sid}/results", headers=steering.headers)
    assert r.status_code == 200
    # Defining surveys is the coordinators' job.
    for who in (clerk, steering):
        r = await client.put(f"/api/v1/surveys/{sid}/questions", json=DEFINITION,
                             headers=who.headers)
        assert r.status_code == 403, r.text
        r = await client.post(f"/api/v1/processes/{pid}/surveys",
                              json={"title": {"de": "X"}, "questions": QUESTIONS},
                              headers=who.headers)
        assert r.status_code == 403, r.text
    assert await _count(session, Survey, process_id=pid) == 1


async def test_campaigns_of_another_org_and_foreign_survey_targets(client, session, make_staff,
                                                                    temporal):
    a = await make_staff(role=Role.coordinator)
    b = await make_staff(role=Role.coordinator)
    process = await make_process(session, a.org_id)
    survey = await make_survey(session, process, title={"de": "A"}, questions=QUESTIONS)
    campaign = await make_campaign(session, survey)
    other_process = await make_process(session, a.org_id)
    b_process = await make_process(session, b.org_id)
    await session.commit()
    body = {"kind": "survey", "target_id": str(survey.id),
            "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat()}

    for path in (f"/api/v1/campaigns/{campaign.id}", f"/api/v1/orgs/{a.org_slug}/campaigns",
                 f"/app/campaigns/{campaign.id}", f"/app/orgs/{a.org_slug}/campaigns"):
        r = await client.get(path, headers=b.headers)
        assert r.status_code == 404, (path, r.text)
    r = await client.post(f"/api/v1/processes/{process.id}/campaigns", json=body,
                          headers=b.headers)
    assert r.status_code == 404, r.text
    # B's own process, A's survey: B's stakeholders must not answer A's survey.
    r = await client.post(f"/api/v1/processes/{b_process.id}/campaigns", json=body,
                          headers=b.headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "survey_not_found", r.text
    # Within A, a campaign invites to a survey of its own process only.
    r = await client.post(f"/api/v1/processes/{other_process.id}/campaigns", json=body,
                          headers=a.headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "target_mismatch", r.text
    assert await _count(session, Campaign, target_id=survey.id) == 1
    assert await _count(session, Campaign, organisation_id=b.org_id) == 0

    clerk = await make_staff(role=Role.clerk, org_slug=a.org_slug)
    steering = await make_staff(role=Role.steering, org_slug=a.org_slug)
    assert (await client.get(f"/api/v1/campaigns/{campaign.id}", headers=clerk.headers)
            ).status_code == 403
    r = await client.post(f"/api/v1/processes/{process.id}/campaigns", json=body,
                          headers=steering.headers)
    assert r.status_code == 403
    assert await _count(session, Campaign, target_id=survey.id) == 1


async def test_stakeholders_of_another_org(client, session, make_staff):
    a = await make_staff(role=Role.coordinator)
    b = await make_staff(role=Role.coordinator)
    person = Stakeholder(organisation_id=a.org_id, kind="person", name="Erika Muster",
                         email=f"erika-{uuid.uuid4().hex[:6]}@example.org", group_key="politik",
                         reach_tier=2, language="de")
    session.add(person)
    await session.commit()
    sid = person.id

    # A's slug, and B's own slug with A's stakeholder id: both "not found".
    for slug in (a.org_slug, b.org_slug):
        base = f"/api/v1/orgs/{slug}/stakeholders"
        for path in (f"{base}/{sid}", f"{base}/{sid}/export"):
            r = await client.get(path, headers=b.headers)
            assert r.status_code == 404, (path, r.text)
        r = await client.delete(f"{base}/{sid}", headers=b.headers)
        assert r.status_code == 404, r.text
    r = await client.get(f"/api/v1/orgs/{a.org_slug}/stakeholders", headers=b.headers)
    assert r.status_code == 404
    listed = (await client.get(f"/api/v1/orgs/{b.org_slug}/stakeholders",
                               headers=b.headers)).json()
    assert str(sid) not in str(listed)
    r = await client.post(f"/api/v1/orgs/{a.org_slug}/stakeholders", headers=b.headers,
                          json={"kind": "person", "name": "X", "email": "x@example.org",
                                "group": "politik", "reach_tier": 1})
    assert r.status_code == 404, r.text

    # Personal data: export and erasure are for coordinators (and admins) only.
    base = f"/api/v1/orgs/{a.org_slug}/stakeholders"
    steering = await make_staff(role=Role.steering, org_slug=a.org_slug)
    clerk = await make_staff(role=Role.clerk, org_slug=a.org_slug)
    for who in (steering, clerk):
        assert (await client.get(f"{base}/{sid}/export", headers=who.headers)
                ).status_code == 403
        assert (await client.delete(f"{base}/{sid}", headers=who.headers)).status_code == 403
    assert (await client.get(base, headers=clerk.headers)).status_code == 403
    session.expire_all()
    again = await session.get_one(Stakeholder, sid)
    assert again.erased_at is None and again.name == "Erika Muster"
    assert await _count(session, Stakeholder, organisation_id=a.org_id) == 1
    r = await client.get(f"{base}/{sid}/export", headers=a.headers)
    assert r.status_code == 200 and r.json()["stakeholder"]["name"] == "Erika Muster"


async def test_event_feed_shows_own_org_only(client, session, make_staff):
    a = await make_staff(role=Role.admin)  # a type in no audience: admins only
    b = await make_staff(role=Role.coordinator)
    marker = uuid.uuid4().hex
    await record_event(session, organisation_id=a.org_id, type="isolation.checked",
                       data={"marker": marker})
    await session.commit()
    seen_a = (await client.get("/api/v1/events?after=0&limit=1000", headers=a.headers)).text
    seen_b = (await client.get("/api/v1/events?after=0&limit=1000", headers=b.headers)).text
    assert marker in seen_a and marker not in seen_b


async def test_another_orgs_id_answers_like_a_missing_one(client, session, make_staff, temporal):
    """The 404 for another organisation's object is the very 404 of an id that does not exist
    (same message and code): the answer tells nothing about other organisations' ids."""
    a = await make_staff(role=Role.coordinator)
    b = await make_staff(role=Role.coordinator)
    process = await make_process(session, a.org_id)
    survey = await make_survey(session, process, title={"de": "A"}, questions=QUESTIONS)
    campaign = await make_campaign(session, survey)
    await session.commit()
    deadline = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    requests = [
        ("GET", "/api/v1/processes/{}", process.id, None),
        ("GET", "/api/v1/processes/{}/surveys", process.id, None),
        ("POST", "/api/v1/processes/{}/surveys", process.id,
         {"title": {"de": "B"}, "questions": QUESTIONS}),
        ("POST", "/api/v1/processes/{}/campaigns", process.id,
         {"kind": "survey", "target_id": str(survey.id), "deadline": deadline}),
        ("GET", "/api/v1/surveys/{}", survey.id, None),
        ("PUT", "/api/v1/surveys/{}/questions", survey.id, DEFINITION),
        ("GET", "/api/v1/surveys/{}/results", survey.id, None),
        ("GET", "/api/v1/surveys/{}/results.csv", survey.id, None),
        ("GET", "/api/v1/campaigns/{}", campaign.id, None),
    ]
    for method, template, real_id, body in requests:
        theirs = await client.request(method, template.format(real_id), json=body,
                                      headers=b.headers)
        missing = await client.request(method, template.format(uuid.uuid4()), json=body,
                                       headers=b.headers)
        assert theirs.status_code == missing.status_code == 404, (template, theirs.text)
        assert theirs.json() == missing.json(), (template, theirs.text, missing.text)
