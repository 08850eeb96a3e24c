"""Shapes of processes, phases, approvals and the timeline as the API and pages show them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.input_rules import BoundedDate, CleanText


class TemplateSummary(BaseModel):
    key: str
    version: int
    title: str
    description: str
    phases: int
    gates: int


class ProcessCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    template: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f\x7f]+$")
    # A process runs for months; a start outside 2000-2100 is a typo, not a plan.
    starts_on: BoundedDate


class ChecklistItemOut(BaseModel):
    key: str
    title: str
    done: bool
    done_at: datetime | None = None
    done_by: str | None = None


class PhaseOut(BaseModel):
    key: str
    title: str
    kind: str
    status: str
    planned_start: date
    planned_end: date
    actual_start: datetime | None = None
    actual_end: datetime | None = None
    gate: dict[str, Any] | None = None
    skip_reason: str | None = None
    override_reason: str | None = None
    checklist: list[ChecklistItemOut] = Field(default_factory=list)


class ProcessOut(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    template: str
    template_version: int
    title: str
    starts_on: date
    status: str
    current_phase: str | None
    created_at: datetime
    completed_at: datetime | None = None
    phases: list[PhaseOut] = Field(default_factory=list)


class ProcessSummary(BaseModel):
    id: uuid.UUID
    title: str
    template: str
    status: str
    current_phase: str | None
    starts_on: date


class TransitionOut(BaseModel):
    seq: int
    kind: str
    phase_key: str | None
    from_phase: str | None
    to_phase: str | None
    actor: str | None
    reason: str | None
    data: dict[str, Any]
    occurred_at: datetime


class AdvanceRequest(BaseModel):
    expected_current: CleanText = Field(min_length=1, max_length=100)
    override_reason: CleanText | None = Field(default=None, max_length=2000)


class AdvanceOut(BaseModel):
    status: Literal["advanced", "awaiting_approval", "completed"]
    current_phase: str | None
    approval_id: uuid.UUID | None = None
    process: ProcessOut | None = None


class SkipRequest(BaseModel):
    reason: CleanText = Field(min_length=1, max_length=2000)


class RescheduleRequest(BaseModel):
    planned_start: BoundedDate
    planned_end: BoundedDate


class ChecklistRequest(BaseModel):
    done: bool = True


class VoteOut(BaseModel):
    email: str
    decision: str
    comment: str
    decided_at: datetime


class ApprovalOut(BaseModel):
    id: uuid.UUID
    process_id: uuid.UUID
    process_title: str
    phase_key: str
    title: str
    rule: str
    quorum: int | None
    status: str
    deadline: datetime | None
    voters: list[uuid.UUID]
    votes: list[VoteOut]
    reasons: list[str]
    escalated_at: datetime | None
    decided_at: datetime | None
    can_vote: bool = False


class DecisionRequest(BaseModel):
    decision: Literal["approve", "reject"]
    comment: CleanText = Field(default="", max_length=4000)
