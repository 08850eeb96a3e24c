"""HTTP-facing shapes of webhook subscriptions and deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class WebhookCreate(BaseModel):
    url: str = Field(max_length=2000)
    types: list[str] = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)


class WebhookOut(BaseModel):
    id: uuid.UUID
    url: str
    types: list[str]
    description: str
    active: bool
    disabled_reason: str | None
    created_at: datetime
    # During a rotation: until when the previous secret still signs.
    previous_secret_expires_at: datetime | None = None


class WebhookWithSecret(WebhookOut):
    """Only in the answer to create and rotate: the secret is never shown again."""

    secret: str


class AttemptOut(BaseModel):
    attempt: int
    status_code: int | None
    error: str | None
    duration_ms: int
    attempted_at: datetime


class DeliveryOut(BaseModel):
    id: uuid.UUID
    webhook_id: str  # the `webhook-id` header the receiver saw
    event_seq: int
    event_type: str
    status: str
    attempts: list[AttemptOut]
    last_status_code: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryPage(BaseModel):
    deliveries: list[DeliveryOut]
    # Pass as `before` for the next (older) page; None when there is none.
    next_before: int | None


class RedeliveryOut(BaseModel):
    delivery_id: uuid.UUID
    workflow_id: str
