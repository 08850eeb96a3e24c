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


# The outbox sweep (workflows/meeting_outbox.py): one per installation, started by every
# worker at start-up (USE_EXISTING), so mails queued while Temporal was unreachable go out
# when it is back, without waiting for the next change of their event.
OUTBOX_WORKFLOW_ID = "meeting-outbox"
OUTBOX_WORKFLOW_TYPE = "MeetingOutboxWorkflow"
ACTIVITY_SWEEP = "sweep_meeting_outbox"


class OutboxSweepInput(BaseModel):
    # How often the sweep looks (the first look is at once, when the worker starts).
    interval_seconds: int = 60
    # A mail this old and still pending lost its wake-up (a younger one is normally being
    # delivered by its event's workflow right now).
    min_age_seconds: int = 60
