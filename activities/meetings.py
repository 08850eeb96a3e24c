"""Activities of the event workflow: thin adapters onto services/meetings. Each is safe to run
twice: the mail ledger's unique keys and claims send every mail once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import activity

from activities.registry import ACTIVITIES
from contracts.meetings import (
    ACTIVITY_DELIVER,
    ACTIVITY_REMIND,
    ACTIVITY_SCHEDULE,
    ACTIVITY_SWEEP,
    MeetingSchedule,
    OutboxSweepInput,
    ReminderInput,
)
from infra import mail as infra_mail
from infra.config import get_settings
from infra.db import session_scope
from infra.meeting_wake import wake
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


@activity.defn(name=ACTIVITY_SWEEP)
async def sweep_meeting_outbox(data: OutboxSweepInput) -> int:
    """Wake the workflow of every event whose mails wait longer than they should (their
    wake-up was lost: Temporal down, the API stopped before the signal). The workflow
    delivers them through the ledger's claims, so a wake-up too many never sends twice.
    Returns how many events were woken."""
    async with session_scope() as session:
        events = await meetings.events_waiting_for_mail(
            session, timedelta(seconds=data.min_age_seconds))
    client, queue = activity.client(), activity.info().task_queue
    for meeting_id in events:
        await wake(client, meeting_id, task_queue=queue)
    return len(events)


MEETING_ACTIVITIES: list[Callable[..., Any]] = [
    meeting_schedule, deliver_meeting_mails, send_meeting_reminders, sweep_meeting_outbox]

ACTIVITIES.extend(MEETING_ACTIVITIES)
