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
from tests.meetings.support import make_event


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
