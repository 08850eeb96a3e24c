"""Payloads of the process and approval workflows (workflow-safe: pydantic and stdlib only).

Every workflow, update, signal, query and activity takes one of these models, so fields can be
added with defaults without breaking running workflows or recorded histories.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

GateRule = Literal["any", "majority", "all", "quorum"]
PhaseKind = Literal["planning", "event", "participation", "evaluation", "resolution"]
PhaseStatus = Literal["pending", "active", "awaiting_approval", "completed", "skipped"]
ApprovalStatus = Literal["pending", "approved", "rejected"]


def local_datetime(day: date, at: time, time_zone: str) -> datetime:
    """`day` at `at` o'clock in the organisation's time zone.

    Lives here because this module is passed through the workflow sandbox, which otherwise
    hands workflows a proxy of zoneinfo that datetime does not accept as a tzinfo. The zone
    rules come from the tz database, so replays compute the same instants.
    """
    return datetime.combine(day, at, tzinfo=ZoneInfo(time_zone))


# Error types (ApplicationError.type) that updates raise; the API maps them to HTTP statuses.
PHASE_MISMATCH = "phase_mismatch"
CHECKLIST_OPEN = "checklist_open"
GATE_NOT_APPROVED = "gate_not_approved"
APPROVAL_PENDING = "approval_pending"
PHASE_CLOSED = "phase_closed"
PROCESS_COMPLETED = "process_completed"
UNKNOWN_PHASE = "unknown_phase"
UNKNOWN_ITEM = "unknown_item"
INVALID_WINDOW = "invalid_window"
REASON_REQUIRED = "reason_required"
ALREADY_DECIDED = "already_decided"
NOT_A_VOTER = "not_a_voter"
APPROVAL_CLOSED = "approval_closed"
# Text with control characters, or a date outside contracts.input_rules' window: refused by
# the validators, so the state never holds what the database could not store.
INVALID_TEXT = "invalid_text"
DATE_OUT_OF_RANGE = "date_out_of_range"
# An activity's write the database refused as data (not as a connection problem): retrying
# cannot help, so it fails at once instead of forever.
INVALID_DATA = "invalid_data"
# A rejection without a reason (checked by the decide validator and the API alike).
COMMENT_REQUIRED = "comment_required"


class GateSpec(BaseModel):
    rule: GateRule
    quorum: int | None = None
    deadline_days: int = 14
    title: str | None = None


class ReminderSpec(BaseModel):
    before_end_days: list[int] = Field(default_factory=lambda: [7])
    overdue_after_days: list[int] = Field(default_factory=lambda: [1])


class ChecklistItemState(BaseModel):
    key: str
    title: str
    done: bool = False
    done_by: str | None = None
    done_at: datetime | None = None


class PhaseState(BaseModel):
    key: str
    title: str
    kind: PhaseKind
    planned_start: date
    planned_end: date
    checklist: list[ChecklistItemState] = Field(default_factory=list)
    gate: GateSpec | None = None
    auto_advance: bool = False
    reminders: ReminderSpec = Field(default_factory=ReminderSpec)
    status: PhaseStatus = "pending"
    actual_start: datetime | None = None
    actual_end: datetime | None = None
    skip_reason: str | None = None
    override_reason: str | None = None
    approval_id: uuid.UUID | None = None
    approval_status: ApprovalStatus | None = None
    approval_reasons: list[str] = Field(default_factory=list)


class ProcessState(BaseModel):
    """What the workflow knows; carried over continue-as-new and returned by the query."""

    process_id: uuid.UUID
    organisation_id: uuid.UUID
    title: str
    time_zone: str = "Europe/Berlin"
    phases: list[PhaseState]
    status: Literal["running", "completed"] = "running"
    current_phase: str | None = None
    # Transition counter: key and ordering of the timeline rows the activities write.
    seq: int = 0
    started: bool = False
    # Reminders already sent (keys include the planned end, so a reschedule re-arms them).
    sent_notices: list[str] = Field(default_factory=list)


class ProcessWorkflowInput(BaseModel):
    state: ProcessState
    # Tests lower this to exercise continue-as-new without thousands of events; None: the
    # workflow's own bound (workflows/process.py, MAX_HISTORY_EVENTS / MAX_HISTORY_BYTES).
    continue_as_new_after_events: int | None = None


class AdvanceInput(BaseModel):
    expected_current: str
    override_reason: str | None = None
    actor: str | None = None


class AdvanceResult(BaseModel):
    status: Literal["advanced", "awaiting_approval", "completed"]
    current_phase: str | None
    approval_id: uuid.UUID | None = None


class StepResult(BaseModel):
    """What skip, reschedule and set_checklist_item answer: small, because every update's
    result is stored in the history (the whole ProcessState was ~2 KB per update). Callers
    read the process itself from PostgreSQL, which the update wrote before answering."""

    status: Literal["running", "completed"]
    current_phase: str | None
    # The transition counter after the step (unchanged when nothing needed recording).
    seq: int


class SkipInput(BaseModel):
    phase_key: str
    reason: str
    actor: str | None = None


class RescheduleInput(BaseModel):
    phase_key: str
    planned_start: date
    planned_end: date
    actor: str | None = None


class ChecklistInput(BaseModel):
    phase_key: str
    item_key: str
    done: bool = True
    actor: str | None = None


class ApprovalDecided(BaseModel):
    """Signal from an ApprovalWorkflow to its process."""

    approval_id: uuid.UUID
    phase_key: str
    status: Literal["approved", "rejected"]
    reasons: list[str] = Field(default_factory=list)


# --- approval workflow ---


class ApprovalInput(BaseModel):
    approval_id: uuid.UUID
    process_id: uuid.UUID
    organisation_id: uuid.UUID
    process_workflow_id: str
    phase_key: str
    title: str
    rule: GateRule
    quorum: int | None = None
    deadline_days: int = 14
    requested_by: str | None = None
    # Set when the process opened the approval row itself (so callers can read and decide it
    # as soon as `advance` answers); otherwise the approval workflow opens it.
    deadline: datetime | None = None
    voters: list[uuid.UUID] | None = None


class Vote(BaseModel):
    user_id: uuid.UUID
    email: str
    decision: Literal["approve", "reject"]
    comment: str = ""
    decided_at: datetime | None = None


class DecideInput(BaseModel):
    user_id: uuid.UUID
    email: str
    decision: Literal["approve", "reject"]
    comment: str = ""


class DecideResult(BaseModel):
    """The `decide` update's answer: the approval's status after this vote (small; the API
    reads the approval from PostgreSQL)."""

    status: ApprovalStatus
    votes: int


class ApprovalResult(BaseModel):
    """What an ApprovalWorkflow returns (its parent is told by signal and never reads it)."""

    approval_id: uuid.UUID
    status: Literal["approved", "rejected"]
    escalated: bool = False


class ApprovalState(BaseModel):
    approval_id: uuid.UUID
    phase_key: str
    rule: GateRule
    quorum: int | None = None
    voters: list[uuid.UUID] = Field(default_factory=list)
    votes: list[Vote] = Field(default_factory=list)
    status: ApprovalStatus = "pending"
    deadline: datetime | None = None
    escalated: bool = False


# --- activities ---


class TransitionRecord(BaseModel):
    key: str
    kind: str
    phase_key: str | None = None
    from_phase: str | None = None
    to_phase: str | None = None
    actor: str | None = None
    reason: str | None = None
    data: dict[str, str | int | bool | None | list[str]] = Field(default_factory=dict)
    occurred_at: datetime


class PersistProcessInput(BaseModel):
    state: ProcessState
    transition: TransitionRecord
    # The phases this step changed (rows to rewrite); None: all of them.
    touched: list[str] | None = None


class NotifyInput(BaseModel):
    """Mail coordinators (or the listed users) once per recipient under `idempotency_key`."""

    process_id: uuid.UUID
    organisation_id: uuid.UUID
    idempotency_key: str
    kind: Literal["reminder", "overdue", "approval_request", "escalation", "approval_result",
                  "resolution_submitted", "resolution_ack_reminder",
                  "resolution_outcome_reminder"]
    phase_key: str
    phase_title: str
    planned_end: date | None = None
    scheduled_for: datetime
    approval_id: uuid.UUID | None = None
    # None: all members of the organisation with `recipient_role`.
    recipients: list[uuid.UUID] | None = None
    note: str | None = None
    recipient_role: Literal["coordinator", "clerk"] = "coordinator"
    # A council resolution's notices link to it (and the submission carries its PDF).
    resolution_id: uuid.UUID | None = None


class OpenApprovalInput(BaseModel):
    approval: ApprovalInput
    deadline: datetime


class OpenApprovalResult(BaseModel):
    voters: list[uuid.UUID]


class RecordVoteInput(BaseModel):
    approval_id: uuid.UUID
    process_id: uuid.UUID
    organisation_id: uuid.UUID
    phase_key: str
    vote: Vote


class CloseApprovalInput(BaseModel):
    approval_id: uuid.UUID
    process_id: uuid.UUID
    organisation_id: uuid.UUID
    phase_key: str
    status: Literal["approved", "rejected"]
    reasons: list[str] = Field(default_factory=list)
    decided_at: datetime
    escalated_at: datetime | None = None
