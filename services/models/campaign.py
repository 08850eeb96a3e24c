"""Invitation campaigns, their invitations and the outbound mail ledger."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, created_at, uuid_pk

CAMPAIGN_KINDS = ("survey", "event")
# draft → running (sending / waiting for reminders) → closed; failed if the workflow gives up;
# cancelled by a coordinator (what was not sent by then stays unsent).
CAMPAIGN_STATUSES = ("draft", "running", "closed", "failed", "cancelled")
# cancelled: the campaign was cancelled before this invitation was sent.
INVITATION_STATUSES = ("pending", "sent", "failed", "declined", "responded", "cancelled")
MAIL_KINDS = ("invitation", "reminder")
# queued: to be sent (also after a temporary SMTP failure); sending: leased by a send attempt;
# unconfirmed: committed right before the end-of-data marker went to the server, no 250 seen
# (yet); sent: the server confirmed it; failed: permanent failure or retries exhausted;
# cancelled: no longer eligible when its batch was leased. See services/campaigns/sender.py.
MAIL_STATUSES = ("queued", "sending", "unconfirmed", "sent", "failed", "cancelled")


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[uuid.UUID] = uuid_pk()
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    # No FKs: processes/surveys/events belong to other domains' migrations.
    process_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[uuid.UUID | None] = mapped_column()
    title: Mapped[str] = mapped_column(String(300), default="")
    audience: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    reminders: Mapped[list[str]] = mapped_column(
        ARRAY(Text), default=list, server_default=text("'{}'::text[]")
    )
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    # Filled by the workflow: audience size, number of send batches, when sending began.
    total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    batches: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at()


class Invitation(Base):
    __tablename__ = "invitations"
    __table_args__ = (
        Index("ix_invitations_campaign_batch", "campaign_id", "batch_no"),
        Index("ix_invitations_campaign_status", "campaign_id", "status"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    stakeholder_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("stakeholders.id", ondelete="SET NULL"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    # Kept after erasure: anonymous aggregates by group and tier.
    group_key: Mapped[str] = mapped_column(String(100))
    reach_tier: Mapped[int] = mapped_column(SmallInteger)
    language: Mapped[str] = mapped_column(String(12), default="de")
    # Which send batch this invitation belongs to (assigned in random order at selection), so
    # the workflow pages through the audience without carrying ids in its history.
    batch_no: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Date precision only: a precise time could be joined to an anonymous response.
    responded_at: Mapped[date | None] = mapped_column(Date)
    declined_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The short code printed on a personal paper form (services/surveys/assisted.py
    # paper_code_for), allocated on demand; staff type it to key the form in.
    paper_code: Mapped[str | None] = mapped_column(String(8), unique=True)
    error: Mapped[str | None] = mapped_column(Text)


class OutboundMail(Base):
    """The ledger: one row per mail that must go out exactly once (idempotency_key unique)."""

    __tablename__ = "outbound_mails"
    # No index on a column the sending path changes (status, sent_at, ...), and room on each
    # page: the per-mail `sending → sent` UPDATE stays a heap-only (HOT) update.
    __table_args__ = (
        Index("ix_outbound_mails_campaign_id", "campaign_id"),
        {"postgresql_with": {"fillfactor": "80"}},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    invitation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    reminder_no: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    # Personal data: scrubbed to NULL on erasure.
    recipient: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(200))
    # The workflow time the mail was due (reminder days are checked against it in tests).
    planned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
