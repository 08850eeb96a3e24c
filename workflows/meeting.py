"""MeetingWorkflow: one per event (id `meeting-{id}`), started or woken by a signal whenever
something about the event changes (signal-with-start from api/meeting_control.py).

It delivers the event's queued mails (confirmations, waitlist, updates, cancellations) and
holds the reminder as a durable timer: `reminder_hours` before the start, re-armed whenever a
change wakes it, so a reschedule moves the reminder and a cancellation drops it. The reminder
activity is given the start time the timer was set for and sends nothing if the event has moved
since (a change that raced the timer), so nobody is reminded of the old time.

Why a workflow of its own rather than the process workflow: an event's life (registrations
trickling in, a reschedule, the reminder) is independent of the phase gates, and a small
workflow keeps the process workflow's history and its replay tests untouched.

The history stays small: a few events per wake-up, and it continues as new after a few
thousand (a popular event's registrations each wake it once).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from contracts import stubs
    from contracts.meetings import (
        MEETING_SIGNAL_CHANGED,
        MeetingSchedule,
        MeetingWorkflowInput,
        ReminderInput,
    )
    from workflows.registry import WORKFLOWS

RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), backoff_coefficient=2.0,
                    maximum_interval=timedelta(minutes=5))
TIMEOUT = timedelta(minutes=5)
# After the start the workflow waits this long for late changes (minutes, attendance), then
# ends; a later change starts a new run.
LINGER = timedelta(days=1)
HISTORY_LIMIT = 4000


@workflow.defn(name="MeetingWorkflow")
class MeetingWorkflow:
    def __init__(self) -> None:
        self._dirty = True

    @workflow.signal(name=MEETING_SIGNAL_CHANGED)
    def changed(self) -> None:
        self._dirty = True

    @workflow.run
    async def run(self, data: MeetingWorkflowInput) -> str:
        reminded_for = data.reminded_for
        schedule: MeetingSchedule | None = None
        while True:
            if self._dirty or schedule is None:
                self._dirty = False
                schedule = await workflow.execute_activity(
                    stubs.meeting_schedule, data.meeting_id,
                    start_to_close_timeout=TIMEOUT, retry_policy=RETRY)
                await workflow.execute_activity(
                    stubs.deliver_meeting_mails, data.meeting_id,
                    start_to_close_timeout=TIMEOUT, retry_policy=RETRY)
                if schedule is None:
                    return "deleted"
            if self._dirty:
                continue
            if schedule.status in ("cancelled", "held"):
                return schedule.status
            info = workflow.info()
            if (info.is_continue_as_new_suggested()
                    or info.get_current_history_length() > HISTORY_LIMIT):
                workflow.continue_as_new(MeetingWorkflowInput(
                    meeting_id=data.meeting_id, reminded_for=reminded_for))
            now = workflow.now()
            start = schedule.starts_at
            remind_at = start - timedelta(hours=schedule.reminder_hours)
            if schedule.reminder_hours > 0 and reminded_for != start and now < start:
                if now < remind_at and await self._woken(remind_at - now):
                    continue  # a change: look again before any reminder
                await workflow.execute_activity(
                    stubs.send_meeting_reminders,
                    ReminderInput(meeting_id=data.meeting_id, starts_at=start),
                    start_to_close_timeout=TIMEOUT, retry_policy=RETRY)
                reminded_for = start
                continue
            end = start + LINGER
            if now >= end:
                return "over"
            if not await self._woken(end - now):
                return "over"

    async def _woken(self, timeout: timedelta) -> bool:
        """Wait for a change or the timeout; True when a change came first."""
        try:
            await workflow.wait_condition(lambda: self._dirty, timeout=timeout)
        except TimeoutError:
            return False
        return True


# The sandbox re-imports this module per run; register only from the real import.
if not workflow.unsafe.in_sandbox():
    WORKFLOWS.append(MeetingWorkflow)
