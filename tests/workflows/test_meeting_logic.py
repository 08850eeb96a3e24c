"""MeetingWorkflow's own logic on the time-skipping server, its activities mocked by name (no
database, no SMTP): the reminder goes out `reminder_hours` before the start, once, and after a
reschedule (the `meeting_changed` signal) only for the new start; a cancelled event ends the
workflow without a reminder; after the start it lingers a day, then ends. The real activities
and the whole chain: tests/workflows/test_meeting_reminders.py."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from temporalio import activity
from temporalio.worker import Worker

from contracts.meetings import (
    MEETING_SIGNAL_CHANGED,
    MeetingSchedule,
    MeetingWorkflowInput,
    ReminderInput,
)
from workflows.meeting import MeetingWorkflow


class FakeMeeting:
    def __init__(self, starts_at: datetime) -> None:
        self.schedule = MeetingSchedule(starts_at=starts_at, reminder_hours=24, status="open")
        self.looked_up = 0
        self.delivered = 0
        self.reminders: list[tuple[datetime, datetime]] = []  # (for the start, sent at)

    def activities(self) -> list:  # type: ignore[type-arg]
        @activity.defn(name="meeting_schedule")
        async def meeting_schedule(meeting_id: uuid.UUID) -> MeetingSchedule | None:
            self.looked_up += 1
            return self.schedule

        @activity.defn(name="deliver_meeting_mails")
        async def deliver_meeting_mails(meeting_id: uuid.UUID) -> int:
            self.delivered += 1
            return 0

        @activity.defn(name="send_meeting_reminders")
        async def send_meeting_reminders(data: ReminderInput) -> int:
            self.reminders.append((data.starts_at,
                                   activity.info().current_attempt_scheduled_time))
            return 2

        return [meeting_schedule, deliver_meeting_mails, send_meeting_reminders]


@pytest.mark.parametrize("change", ["reschedule", "cancel"])
async def test_reminder_for_the_current_start_only(time_skipping_env, change) -> None:  # type: ignore[no-untyped-def]
    env = time_skipping_env
    t0 = await env.get_current_time()
    fake = FakeMeeting(starts_at=t0 + timedelta(days=3))
    queue = f"meet-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=queue, workflows=[MeetingWorkflow],
                      activities=fake.activities()):
        handle = await env.client.start_workflow(
            MeetingWorkflow.run, MeetingWorkflowInput(meeting_id=uuid.uuid4()),
            id=f"meeting-{uuid.uuid4()}", task_queue=queue)
        await env.sleep(timedelta(days=1))  # a day before the old reminder time
        if change == "reschedule":
            new_start = t0 + timedelta(days=4)
            fake.schedule = fake.schedule.model_copy(update={"starts_at": new_start})
        else:
            fake.schedule = fake.schedule.model_copy(update={"status": "cancelled"})
        await handle.signal(MEETING_SIGNAL_CHANGED)
        result = await handle.result()
        ended = (await handle.describe()).close_time

    assert fake.looked_up == fake.delivered == 2  # at the start and after the change
    if change == "cancel":
        assert result == "cancelled" and fake.reminders == []
        return
    assert result == "over"
    assert len(fake.reminders) == 1
    reminded_for, sent_at = fake.reminders[0]
    assert reminded_for == new_start
    assert abs(sent_at - (new_start - timedelta(hours=24))) < timedelta(minutes=1)
    assert ended is not None and abs(ended - (new_start + timedelta(days=1))) < timedelta(
        minutes=1)
