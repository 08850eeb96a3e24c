"""Activities of the event workflow: thin adapters onto services/meetings. Each is safe to run
twice: the mail ledger's unique keys and claims send every mail once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from temporalio import activity

from activities.registry import ACTIVITIES
from contracts.meetings import (
    ACTIVITY_DELIVER,
    ACTIVITY_REMIND,
    ACTIVITY_SCHEDULE,
    MeetingSchedule,
    ReminderInput,
)
from infra import mail as infra_mail
from infra.config import get_settings
from infra.db import session_scope
from services.meetings import delivery
from services.meetings import service as meetings


def _setup() -> delivery.DeliverySetup:
    settings = get_settings()
    return delivery.DeliverySetup(
        transport=infra_mail.get_transport(), maker=session_scope,
        mail_from=settings.mail_from, public_url=settings.public_url,
        secret_key=settings.resolved_secret_key())


@activity.defn(name=ACTIVITY_SCHEDULE)
async def meeting_schedule(meeting_id: uuid.UUID) -> MeetingSchedule | None:
    async with session_scope() as session:
        return await meetings.schedule(session, meeting_id)


@activity.defn(name=ACTIVITY_DELIVER)
async def deliver_meeting_mails(meeting_id: uuid.UUID) -> int:
    return await delivery.deliver(_setup(), meeting_id)


@activity.defn(name=ACTIVITY_REMIND)
async def send_meeting_reminders(data: ReminderInput) -> int:
    async with session_scope() as session:
        await meetings.queue_reminders(session, data.meeting_id, data.starts_at)
    return await delivery.deliver(_setup(), data.meeting_id)


MEETING_ACTIVITIES: list[Callable[..., Any]] = [
    meeting_schedule, deliver_meeting_mails, send_meeting_reminders]

ACTIVITIES.extend(MEETING_ACTIVITIES)
