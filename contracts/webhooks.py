"""Webhooks: workflow ids, activity names and payloads shared by the API, the activities and the
workflows (pydantic and the standard library only).

Delivery is driven by one global dispatcher workflow (`DISPATCHER_WORKFLOW_ID`): it pages
through `domain_events` after its cursor, creates one delivery row per (subscription, event)
and makes the first attempt of a page's deliveries in one batch activity; a delivery whose
first attempt fails gets its own child workflow (`delivery_workflow_id`) that retries it with
the backoff of `WebhookRetry` for about three days.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

DISPATCHER_WORKFLOW_ID = "webhook-dispatcher"
# Workflow type names: the dispatcher is started by name from infra (which imports no
# workflow code) and registered under it by workflows/webhooks.py.
DISPATCHER_WORKFLOW_TYPE = "WebhookDispatcherWorkflow"
DELIVERY_WORKFLOW_TYPE = "WebhookDeliveryWorkflow"

ACT_PLAN = "webhooks_plan_deliveries"
ACT_DELIVER_BATCH = "webhooks_deliver_batch"
ACT_DELIVER = "webhooks_deliver"
ACT_GIVE_UP = "webhooks_give_up"

# Error types the delivery activities raise (ApplicationError.type).
ERR_ATTEMPT_FAILED = "webhook_attempt_failed"

DeliveryStatus = Literal["pending", "delivered", "failed", "gone", "skipped"]


def delivery_workflow_id(delivery_id: uuid.UUID, manual: int | None = None) -> str:
    """The retrying workflow of one delivery; a manual redelivery gets its own id per request
    number, so a double click starts it once."""
    base = f"webhook-delivery-{delivery_id}"
    return base if manual is None else f"{base}-manual-{manual}"


def webhook_message_id(delivery_id: uuid.UUID) -> str:
    """The `webhook-id` header: one per (subscription, event), the same on every attempt and on
    a manual redelivery, so a receiver can drop what it already has."""
    return f"msg_{delivery_id.hex}"


class WebhookRetry(BaseModel):
    """Temporal's retry policy for a delivery (Standard Webhooks: retry with backoff for days).

    10 s, 20 s, 40 s, ... capped at 6 h: about 18 attempts within the 3 days."""

    initial_seconds: float = 10.0
    backoff: float = 2.0
    maximum_seconds: float = 6 * 3600.0
    total_seconds: float = 3 * 24 * 3600.0

    @property
    def initial(self) -> timedelta:
        return timedelta(seconds=self.initial_seconds)

    @property
    def maximum(self) -> timedelta:
        return timedelta(seconds=self.maximum_seconds)

    @property
    def total(self) -> timedelta:
        return timedelta(seconds=self.total_seconds)


class DispatcherInput(BaseModel):
    # None: start after the oldest active subscription's start (the activity finds it).
    cursor: int | None = None
    # Since when the cursor has been held at a gap in the sequence (see services/webhooks).
    gap_since: datetime | None = None
    page_size: int = 500
    # Pages whose first attempts run at once (the next is planned meanwhile).
    parallel_pages: int = 2
    # How long one planning activity waits for new events before it returns empty.
    wait_seconds: float = 20.0
    retry: WebhookRetry = Field(default_factory=WebhookRetry)
    # Continue as new once a run's history is this long (or when Temporal suggests it).
    history_limit: int = 5_000


class PlanIn(BaseModel):
    cursor: int | None
    gap_since: datetime | None = None
    page_size: int = 500
    wait_seconds: float = 20.0


class PlanOut(BaseModel):
    cursor: int
    gap_since: datetime | None = None
    delivery_ids: list[uuid.UUID] = Field(default_factory=list)


class DeliverBatchIn(BaseModel):
    delivery_ids: list[uuid.UUID]


class DeliverBatchOut(BaseModel):
    delivered: int = 0
    # Deliveries whose first attempt failed in a way worth retrying.
    retry: list[uuid.UUID] = Field(default_factory=list)


class DeliveryInput(BaseModel):
    delivery_id: uuid.UUID
    retry: WebhookRetry = Field(default_factory=WebhookRetry)
    # The dispatcher's batch made the first attempt: wait one interval before the next.
    first_delay_seconds: float = 0.0


class DeliverIn(BaseModel):
    delivery_id: uuid.UUID


class DeliverOut(BaseModel):
    status: DeliveryStatus
