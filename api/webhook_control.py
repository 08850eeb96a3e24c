"""The API's side of webhook delivery: start the dispatcher and manual redeliveries, mapping
Temporal's failures to 503."""

from __future__ import annotations

import uuid

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from contracts.queues import TASK_QUEUE
from contracts.webhooks import DISPATCHER_WORKFLOW_ID, DeliveryInput
from infra.config import Settings
from infra.webhook_dispatch import retry_policy, start_dispatcher
from services.errors import Unavailable
from workflows.webhooks import WebhookDeliveryWorkflow


async def ensure_dispatcher(client: Client, settings: Settings, *,
                            task_queue: str = TASK_QUEUE,
                            workflow_id: str = DISPATCHER_WORKFLOW_ID) -> None:
    try:
        await start_dispatcher(client, settings, task_queue=task_queue,
                               workflow_id=workflow_id)
    except (RPCError, RuntimeError) as exc:
        raise Unavailable("Temporal ist nicht erreichbar; der Webhook ist angelegt, seine "
                          "Ereignisse werden zugestellt, sobald der Worker wieder läuft.",
                          code="temporal_unavailable") from exc


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
