"""Campaign API: launch for a process (workflow started), live progress, validation, tenant
isolation; participants' decline and unsubscribe (JSON and pages); the coordinator's page."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from api.deps import SESSION_COOKIE, get_temporal
from services.campaigns.tokens import hash_token, new_token
from services.models.campaign import Campaign, Invitation
from services.models.organisation import Role
from services.models.process import Process
from services.models.stakeholder import Stakeholder
from tests.support.campaigns import audience_of_one
from tests.support.forms import token_in
from tests.support.surveys import make_survey


async def _process(session, org_id) -> uuid.UUID:  # type: ignore[no-untyped-def]
    process = Process(organisation_id=org_id, template_key="weiterstadt-vielfaltsstrategie",
                      template_version=1, title="WIRkt!", starts_on=date(2026, 2, 1),
                      template_snapshot={}, workflow_id=f"process-{uuid.uuid4()}")
    session.add(process)
    await session.flush()
    return process.id


async def _invitation(session, org_id, *, language: str = "de"):  # type: ignore[no-untyped-def]
    person = Stakeholder(organisation_id=org_id, kind="person", name="Erika Muster",
                         email=f"erika-{uuid.uuid4().hex[:6]}@example.org", group_key="politik",
                         reach_tier=2, language=language)
    campaign = Campaign(organisation_id=org_id, kind="survey", target_id=uuid.uuid4(),
                        audience={}, reminders=["P7D"], status="running",
                        deadline=datetime.now(UTC) + timedelta(days=10))
    session.add_all([person, campaign])
    await session.flush()
    token = new_token()
    invitation = Invitation(campaign_id=campaign.id, organisation_id=org_id,
                            stakeholder_id=person.id, token_hash=hash_token(token),
                            status="sent", group_key="politik", reach_tier=2,
                            language=language, sent_at=datetime.now(UTC))
    session.add(invitation)
    await session.flush()
    return token, invitation, person, campaign


async def test_launch_campaign_starts_workflow_and_reports_progress(
        app, client, session, make_staff, dev_server_env):
    staff = await make_staff(role=Role.coordinator)
    process_id = await _process(session, staff.org_id)
    # A survey campaign must invite to a survey of its own process.
    survey = await make_survey(session, await session.get_one(Process, process_id),
                               from_template="weiterstadt-bedarfe-und-wuensche")
    await audience_of_one(session, staff.org_id)
    await session.commit()
    app.dependency_overrides[get_temporal] = lambda: dev_server_env.client
    try:
        deadline = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        body = {"kind": "survey", "target_id": str(survey.id), "title": "Bedarfe",
                "audience": {"groups": ["Politik"], "tiers": [3, 1], "tags": []},
                "reminders": ["P7D", "P14D"], "deadline": deadline}
        r = await client.post(f"/api/v1/processes/{process_id}/campaigns", json=body,
                              headers=staff.headers)
        assert r.status_code == 201, r.text
        out = r.json()
        assert out["status"] == "running" and out["audience"]["groups"] == ["politik"]
        assert out["audience"]["tiers"] == [1, 3] and out["title"] == "Bedarfe"
        handle = dev_server_env.client.get_workflow_handle(f"campaign-{out['id']}")
        description = await handle.describe()
        assert description.workflow_type == "InvitationCampaignWorkflow"
        await handle.terminate("test done")

        # Without a title the invitation names the survey it invites to.
        untitled = {k: v for k, v in body.items() if k != "title"}
        r = await client.post(f"/api/v1/processes/{process_id}/campaigns", json=untitled,
                              headers=staff.headers)
        assert r.status_code == 201, r.text
        assert r.json()["title"] == survey.title["de"]
        await dev_server_env.client.get_workflow_handle(
            f"campaign-{r.json()['id']}").terminate("test done")

        r = await client.get(f"/api/v1/campaigns/{out['id']}", headers=staff.headers)
        assert r.status_code == 200
        assert {"total", "sent", "failed", "responded", "declined", "reminded"} <= set(r.json())

        bad = dict(body, reminders=["P1M"])
        r = await client.post(f"/api/v1/processes/{process_id}/campaigns", json=bad,
                              headers=staff.headers)
        assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "reminders"
        past = dict(body, deadline=(datetime.now(UTC) - timedelta(days=1)).isoformat())
        r = await client.post(f"/api/v1/processes/{process_id}/campaigns", json=past,
                              headers=staff.headers)
        assert r.status_code == 422 and r.json()["error"]["code"] == "deadline_past"

        other = await make_staff(role=Role.coordinator)
        r = await client.get(f"/api/v1/campaigns/{out['id']}", headers=other.headers)
        assert r.status_code == 404
        r = await client.post(f"/api/v1/processes/{process_id}/campaigns", json=body,
                              headers=other.headers)
        assert r.status_code == 404
        clerk = await make_staff(role=Role.clerk, org_slug=staff.org_slug)
        r = await client.post(f"/api/v1/processes/{process_id}/campaigns", json=body,
                              headers=clerk.headers)
        assert r.status_code == 403
        r = await client.post(f"/api/v1/processes/{uuid.uuid4()}/campaigns", json=body,
                              headers=staff.headers)
        assert r.status_code == 404
    finally:
        app.dependency_overrides.pop(get_temporal, None)


async def test_campaign_audience_is_checked_before_it_starts(
        app, client, session, make_staff, dev_server_env):
    """A mistyped group is named with the known ones, an audience of nobody is refused
    (before any workflow would start), and the page's preview shows the count."""
    staff = await make_staff(role=Role.coordinator)
    process_id = await _process(session, staff.org_id)
    survey = await make_survey(session, await session.get_one(Process, process_id),
                               from_template="weiterstadt-bedarfe-und-wuensche")
    await audience_of_one(session, staff.org_id)
    # No legal basis: exists, but is never counted (nor mailed).
    session.add(Stakeholder(organisation_id=staff.org_id, kind="person", name="Ohne Grundlage",
                            email=f"ohne-{uuid.uuid4().hex[:6]}@example.org",
                            group_key="politik", reach_tier=2, language="de"))
    await session.commit()
    app.dependency_overrides[get_temporal] = lambda: dev_server_env.client
    base = f"/api/v1/processes/{process_id}/campaigns"
    deadline = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    body = {"kind": "survey", "target_id": str(survey.id), "deadline": deadline,
            "audience": {"groups": ["Politk"]}}

    r = await client.post(base, json=body, headers=staff.headers)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "unknown_group"
    assert "'politk'" in error["message"] and "Bekannte Gruppen: politik" in error["message"]
    assert error["details"][0]["field"] == "audience.groups"

    r = await client.post(f"{base}/audience", json={"groups": ["politik"]},
                          headers=staff.headers)
    assert r.status_code == 200 and r.json() == {"count": 1}
    r = await client.post(f"{base}/audience", json={"groups": ["politik"], "tiers": [2]},
                          headers=staff.headers)
    assert r.json() == {"count": 0}
    r = await client.post(base, json=dict(body, audience={"groups": ["politik"], "tiers": [2]}),
                          headers=staff.headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "empty_audience"
    assert r.json()["error"]["details"][0]["count"] == 0
    assert (await session.scalar(select(func.count()).select_from(Campaign).where(
        Campaign.target_id == survey.id))) == 0
    app.dependency_overrides.pop(get_temporal, None)


async def test_decline_and_unsubscribe_json(client, session, make_staff):
    staff = await make_staff(role=Role.coordinator)
    token, invitation, person, _ = await _invitation(session, staff.org_id)
    r = await client.post(f"/api/v1/participation/{token}/decline")
    assert r.status_code == 200 and r.json() == {"status": "declined"}
    await session.refresh(invitation)
    assert invitation.status == "declined" and invitation.declined_at is not None
    r = await client.post(f"/api/v1/participation/{token}/unsubscribe")
    assert r.status_code == 200
    await session.refresh(person)
    assert person.unsubscribed_at is not None
    r = await client.post(f"/api/v1/participation/{new_token()}/decline")
    assert r.status_code == 404 and r.json()["error"]["code"] == "invalid_token"


async def test_participant_pages_without_javascript(client, session, make_staff):
    staff = await make_staff(role=Role.coordinator)
    token, invitation, person, _ = await _invitation(session, staff.org_id)
    r = await client.get(f"/t/{token}/decline")
    assert r.status_code == 200
    assert 'lang="de"' in r.text and f'action="/t/{token}/decline"' in r.text
    assert "<script" not in r.text
    r = await client.post(f"/t/{token}/decline")
    assert r.status_code == 200 and "Absage erhalten" in r.text
    # RFC 8058 one-click unsubscribe, as a mail client sends it.
    r = await client.post(f"/t/{token}/unsubscribe", content=b"List-Unsubscribe=One-Click",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and "Abgemeldet" in r.text
    await session.refresh(person)
    assert person.unsubscribed_at is not None
    r = await client.get(f"/t/{new_token()}/unsubscribe")
    assert r.status_code == 404 and "Link unbekannt" in r.text

    token_en, *_ = await _invitation(session, staff.org_id, language="en")
    r = await client.get(f"/t/{token_en}/unsubscribe")
    assert 'lang="en"' in r.text and "Yes, unsubscribe" in r.text


async def test_coordinator_page_follows_progress_while_running(client, session, make_staff):
    staff = await make_staff(role=Role.coordinator)
    _, _, _, campaign = await _invitation(session, staff.org_id)
    r = await client.get(f"/app/campaigns/{campaign.id}", headers=staff.headers)
    assert r.status_code == 200
    # No reload every 5 s: the SSE script, and a plain link without JavaScript.
    assert "refresh" not in r.headers and 'http-equiv="refresh"' not in r.text
    assert f'<a href="/app/campaigns/{campaign.id}">Aktualisieren</a>' in r.text
    assert '<span data-field="processed">1</span> von <span data-field="total">1</span>' in r.text
    r = await client.get(f"/app/orgs/{staff.org_slug}/campaigns", headers=staff.headers)
    assert r.status_code == 200 and f"/app/campaigns/{campaign.id}" in r.text
    r = await client.get(f"/app/campaigns/{campaign.id}")
    assert r.status_code == 303
    found = await session.scalar(select(Campaign.id).where(Campaign.id == campaign.id))
    assert found == campaign.id


async def test_launch_without_temporal_answers_503_and_changes_nothing(
        client, session, make_staff):
    staff = await make_staff(role=Role.coordinator)
    process_id = await _process(session, staff.org_id)
    await session.commit()
    body = {"kind": "survey", "target_id": str(uuid.uuid4()),
            "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat()}
    # The test settings point Temporal at 127.0.0.1:1, where nothing listens: the client is
    # resolved before anything is written.
    r = await client.post(f"/api/v1/processes/{process_id}/campaigns", json=body,
                          headers=staff.headers)
    assert r.status_code == 503 and r.json()["error"]["code"] == "temporal_unavailable"
    statuses = (await session.scalars(select(Campaign.status).where(
        Campaign.organisation_id == staff.org_id))).all()
    assert statuses == []


async def test_campaign_page_shows_the_count_before_sending(
        app, client, session, make_staff, dev_server_env):
    staff = await make_staff(role=Role.coordinator)
    process_id = await _process(session, staff.org_id)
    survey = await make_survey(session, await session.get_one(Process, process_id),
                               from_template="weiterstadt-bedarfe-und-wuensche")
    await audience_of_one(session, staff.org_id)
    await session.commit()
    client.cookies.set(SESSION_COOKIE, staff.token)
    url = f"/app/processes/{process_id}/campaigns/new"
    deadline = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()

    r = await client.get(url)
    assert r.status_code == 200, r.text
    assert "erreicht <strong>1</strong>" in r.text and 'value="politik"' in r.text
    assert "Einladungen an 1 senden" in r.text

    form = {"survey": str(survey.id), "groups": "politik", "tiers": "2",
            "deadline": deadline, "reminder_days": "7", "step": "count",
            "csrf_token": token_in(r.text)}
    r = await client.post(url, data=form)
    assert "erreicht <strong>0</strong>" in r.text and 'name="step" value="send"' not in r.text
    # A send with a count the coordinator never saw shows the count instead of sending.
    r = await client.post(url, data=dict(form, tiers="1", step="send", counted="7"))
    assert r.status_code == 200 and "erreicht <strong>1</strong>" in r.text
    assert await session.scalar(select(func.count()).select_from(Campaign).where(
        Campaign.target_id == survey.id)) == 0

    app.state.temporal.client = dev_server_env.client
    try:
        r = await client.post(url, data=dict(form, tiers="1", step="send", counted="1"))
        assert r.status_code == 303, r.text
        campaign_id = r.headers["location"].rsplit("/", 1)[1]
        await dev_server_env.client.get_workflow_handle(
            f"campaign-{campaign_id}").terminate("test done")
    finally:
        app.state.temporal.client = None
