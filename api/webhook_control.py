"""The API's side of webhook delivery: start the dispatcher (idempotently, by its fixed
workflow id) and manual redeliveries."""

from __future__ import annotations

import uuid

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError

from contracts.webhooks import (
    DISPATCHER_WORKFLOW_ID,
    DeliveryInput,
    DispatcherInput,
    WebhookRetry,
)
from infra.config import Settings
from infra.temporal import TASK_QUEUE
from services.errors import Unavailable
from workflows.webhooks import WebhookDeliveryWorkflow, WebhookDispatcherWorkflow


def retry_policy(settings: Settings) -> WebhookRetry:
    return WebhookRetry(initial_seconds=settings.webhook_retry_initial_seconds)


async def ensure_dispatcher(client: Client, settings: Settings, *,
                            task_queue: str = TASK_QUEUE,
                            workflow_id: str = DISPATCHER_WORKFLOW_ID) -> None:
    """Start the one dispatcher unless it runs (USE_EXISTING); after it ended (terminated by
    an operator) a new one starts and finds its cursor from the subscriptions."""
    try:
        await client.start_workflow(
            WebhookDispatcherWorkflow.run, DispatcherInput(retry=retry_policy(settings)),
            id=workflow_id, task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE)
    except (RPCError, RuntimeError) as exc:
        raise Unavailable("Temporal ist nicht erreichbar; Webhooks werden später zugestellt, "
                          "sobald es wieder läuft.", code="temporal_unavailable") from exc


async def start_redelivery(client: Client, settings: Settings, delivery_id: uuid.UUID,
                           workflow_id: str, *, task_queue: str = TASK_QUEUE) -> None:
    """The same delivery again, now, with the usual retries if it fails."""
    try:
        await client.start_workflow(
            WebhookDeliveryWorkflow.run,
            DeliveryInput(delivery_id=delivery_id, retry=retry_policy(settings)),
            id=workflow_id, task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
    except (RPCError, RuntimeError) as exc:
        raise Unavailable("Temporal ist nicht erreichbar.", code="temporal_unavailable") from exc
