"""Webhook subscriptions, their deliveries (one per subscription and event) and each attempt."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, created_at, uuid_pk


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = uuid_pk()
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    types: Mapped[list[str]] = mapped_column(ARRAY(String(100)))
    description: Mapped[str] = mapped_column(Text, default="")
    # The signing secrets, encrypted with the app's secret key (services/webhooks/secrets.py):
    # HMAC needs the secret itself, so it cannot be hashed like a password.
    secret_enc: Mapped[str] = mapped_column(Text)
    # During a rotation the previous secret signs too, until it expires.
    previous_secret_enc: Mapped[str | None] = mapped_column(Text)
    previous_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    # Events up to this seq happened before the subscription: they are not delivered.
    start_seq: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at()


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    # The delivery's identity (and so the `webhook-id`): one per subscription and event, so a
    # dispatcher that reads a page twice creates nothing twice.
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_seq"),
        CheckConstraint("status IN ('pending', 'delivered', 'failed', 'gone', 'skipped')",
                        name="status"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    event_seq: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("domain_events.seq", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The planning activity that handed it to a batch (services/webhooks/repository.py).
    plan_token: Mapped[str | None] = mapped_column(String(200))
    # How many manual redeliveries were asked for (each gets its own workflow id).
    redeliveries: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = created_at()


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "attempt_no"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempt_no: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
