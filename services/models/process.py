"""Participation processes: phases, checklist items, gate approvals, votes, transitions.

The workflow owns the control flow; these rows are what people read. Every row written by an
activity has a natural unique key so a retried activity updates instead of duplicating.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, created_at, uuid_pk


class Process(Base):
    __tablename__ = "processes"

    id: Mapped[uuid.UUID] = uuid_pk()
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    template_key: Mapped[str] = mapped_column(String(100))
    template_version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    starts_on: Mapped[date] = mapped_column(Date)
    # running | completed | cancelled
    status: Mapped[str] = mapped_column(String(20), default="running")
    current_phase: Mapped[str | None] = mapped_column(String(100))
    # The template as it was when the process started: later template versions never change a
    # running process.
    template_snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    workflow_id: Mapped[str] = mapped_column(String(200), unique=True)
    created_by: Mapped[str | None] = mapped_column(String(320))
    # The workflow's transition counter of the newest snapshot written; older snapshots that
    # arrive late (activities may run out of order or twice) are ignored.
    state_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = created_at()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ProcessPhase(Base):
    __tablename__ = "process_phases"
    __table_args__ = (UniqueConstraint("process_id", "key"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    process_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(30))
    # pending | active | awaiting_approval | completed | skipped
    status: Mapped[str] = mapped_column(String(30), default="pending")
    planned_start: Mapped[date] = mapped_column(Date)
    planned_end: Mapped[date] = mapped_column(Date)
    actual_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    actual_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    gate: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    skip_reason: Mapped[str | None] = mapped_column(Text)
    override_reason: Mapped[str | None] = mapped_column(Text)


class ChecklistItem(Base):
    __tablename__ = "process_checklist_items"
    __table_args__ = (UniqueConstraint("process_id", "phase_key", "key"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    process_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), index=True
    )
    phase_key: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    done: Mapped[bool] = mapped_column(default=False)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_by: Mapped[str | None] = mapped_column(String(320))


class Approval(Base):
    __tablename__ = "process_approvals"

    # Chosen by the workflow (deterministically), so the caller of `advance` learns it at once
    # and a retried activity writes the same row.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    process_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    phase_key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    # any | majority | all | quorum
    rule: Mapped[str] = mapped_column(String(20))
    quorum: Mapped[int | None] = mapped_column(Integer)
    # The steering members asked at the time the gate opened (user ids as strings).
    voters: Mapped[list[str]] = mapped_column(JSONB, default=list)
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # pending | approved | rejected
    status: Mapped[str] = mapped_column(String(20), default="pending")
    reasons: Mapped[list[str]] = mapped_column(JSONB, default=list)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()


class ApprovalVote(Base):
    __tablename__ = "process_approval_votes"
    __table_args__ = (UniqueConstraint("approval_id", "user_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    approval_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("process_approvals.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column()
    email: Mapped[str] = mapped_column(String(320))
    # approve | reject
    decision: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Transition(Base):
    """The timeline: one row per step of a process, in order."""

    __tablename__ = "process_transitions"
    __table_args__ = (UniqueConstraint("process_id", "key"),)

    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    process_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), index=True
    )
    # Idempotency key chosen by the workflow (e.g. "t:12" for its 12th transition).
    key: Mapped[str] = mapped_column(String(200))
    # started | advanced | skipped | rescheduled | checklist | approval_requested |
    # approval_decided | vote | reminder | completed
    kind: Mapped[str] = mapped_column(String(40))
    phase_key: Mapped[str | None] = mapped_column(String(100))
    from_phase: Mapped[str | None] = mapped_column(String(100))
    to_phase: Mapped[str | None] = mapped_column(String(100))
    actor: Mapped[str | None] = mapped_column(String(320))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ProcessNotification(Base):
    """Mail ledger for reminders, gate notices and escalations: one row per mail, sent once."""

    __tablename__ = "process_notifications"

    id: Mapped[uuid.UUID] = uuid_pk()
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)
    process_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    # The workflow time the notice was due (its simulated day in tests).
    scheduled_for: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # pending | sent
    status: Mapped[str] = mapped_column(String(20), default="pending")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
