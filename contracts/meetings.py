"""What the event (meeting) workflow, its activities, the services and the API share: the
workflow id, its signal, activity names and payloads. Pydantic and the standard library only."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

MEETING_SIGNAL_CHANGED = "meeting_changed"
ACTIVITY_SCHEDULE = "meeting_schedule"
ACTIVITY_DELIVER = "deliver_meeting_mails"
ACTIVITY_REMIND = "send_meeting_reminders"


def meeting_workflow_id(meeting_id: uuid.UUID) -> str:
    return f"meeting-{meeting_id}"


class MeetingWorkflowInput(BaseModel):
    meeting_id: uuid.UUID
    # Carried over continue-as-new: the start time already reminded of.
    reminded_for: datetime | None = None


class MeetingSchedule(BaseModel):
    """The event as the workflow needs it: when to remind, and whether it is still on."""

    starts_at: datetime
    reminder_hours: int
    # planned | open | full | held | cancelled
    status: str


class ReminderInput(BaseModel):
    meeting_id: uuid.UUID
    # The start time the timer was set for: the activity sends only if it is still the
    # event's start (a reschedule that raced the timer never mails the old time).
    starts_at: datetime
