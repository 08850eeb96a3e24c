"""A campaign of kind event invites to an event of its own process (as surveys do), not to a
cancelled one, with a deadline before the start; the event's title names the invitation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.campaigns.schemas import CampaignCreate
from services.campaigns.service import check_target
from services.errors import NotFound, ValidationFailed
from services.meetings import service
from services.meetings.schemas import MeetingUpdate
from tests.support.meetings import make_event


def _body(target: uuid.UUID, days: int = 5) -> CampaignCreate:
    return CampaignCreate(kind="event", target_id=target,
                          deadline=datetime.now(UTC) + timedelta(days=days))


async def test_event_targets(committed_maker):
    a = await make_event(committed_maker)
    other = await make_event(committed_maker, org_id=a.org_id)
    foreign = await make_event(committed_maker)
    async with committed_maker() as s:
        checked = await check_target(s, a.org_id, a.process_id, _body(a.meeting_id))
        assert checked.title == "Kick-off-Veranstaltung"
        with pytest.raises(NotFound) as nf:
            await check_target(s, a.org_id, a.process_id, _body(foreign.meeting_id))
        assert nf.value.code == "event_not_found"
        with pytest.raises(NotFound):
            await check_target(s, a.org_id, a.process_id, _body(uuid.uuid4()))
        with pytest.raises(ValidationFailed) as mismatch:
            await check_target(s, a.org_id, a.process_id, _body(other.meeting_id))
        assert mismatch.value.code == "target_mismatch"
        with pytest.raises(ValidationFailed) as late:
            await check_target(s, a.org_id, a.process_id, _body(a.meeting_id, days=60))
        assert late.value.code == "deadline_after_event"
        await service.update_meeting(s, a.meeting_id, MeetingUpdate(status="cancelled"),
                                     actor=None)
        with pytest.raises(ValidationFailed) as cancelled:
            await check_target(s, a.org_id, a.process_id, _body(a.meeting_id))
        assert cancelled.value.code == "event_not_open"
        await s.rollback()


async def test_the_campaign_page_invites_to_an_event(app, client, session, make_staff,
                                                    time_skipping_env):
    """The new-campaign page offers the process's events; sending creates a campaign of kind
    event targeting it (the workflow is started on the test server, no worker needed)."""
    from sqlalchemy import select

    from api.deps import SESSION_COOKIE
    from services.models.campaign import Campaign
    from tests.api.meetings.test_meetings_api import _event
    from tests.support.campaigns import CONSENT_AT
    from tests.support.forms import token_in
    from tests.support.surveys import make_process

    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    event = (await _event(client, staff, process.id)).json()
    from services.stakeholders.repository import StakeholderRepository

    repo = StakeholderRepository.from_session(session)
    await repo.add_groups(staff.org_id, [("politik", "Politik")], "manual")
    await repo.bulk_upsert(staff.org_id, [{
        "kind": "person", "name": "Rat", "email": "rat@example.org", "group_key": "politik",
        "reach_tier": 1, "tags": [], "language": "de", "legal_basis": "consent",
        "consent_at": CONSENT_AT}])
    await session.commit()
    client.cookies.set(SESSION_COOKIE, staff.token)
    url = f"/app/processes/{process.id}/campaigns/new"
    page = await client.get(url)
    assert f'value="event:{event["id"]}"' in page.text
    deadline = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
    form = {"survey": f"event:{event['id']}", "deadline": deadline, "reminders": "P2D",
            "step": "send", "counted": "1", "csrf_token": token_in(page.text)}
    app.state.temporal.client = time_skipping_env.client
    try:
        r = await client.post(url, data=form)
    finally:
        app.state.temporal.client = None
    assert r.status_code == 303, r.text
    campaign = (await session.scalars(select(Campaign).where(
        Campaign.target_id == uuid.UUID(event["id"])))).one()
    assert (campaign.kind, campaign.title) == ("event", "Kick-off")
