"""Starting the webhook dispatcher: by the API when a subscription is created and by every
worker at start-up (so a dispatcher that an operator terminated, or that could not be started
while Temporal was down, comes back). Idempotent: one fixed workflow id, USE_EXISTING."""

from __future__ import annotations

from temporalio.client import Client

from contracts.queues import TASK_QUEUE
from contracts.webhooks import (
    DISPATCHER_WORKFLOW_ID,
    DISPATCHER_WORKFLOW_TYPE,
    DispatcherInput,
    WebhookRetry,
)
from infra.config import Settings
from infra.temporal import start_singleton


def retry_policy(settings: Settings) -> WebhookRetry:
    return WebhookRetry(initial_seconds=settings.webhook_retry_initial_seconds)


async def start_dispatcher(client: Client, settings: Settings, *, task_queue: str = TASK_QUEUE,
                           workflow_id: str = DISPATCHER_WORKFLOW_ID) -> None:
    """A dispatcher that starts without a cursor finds it from the subscriptions."""
    await start_singleton(client, DISPATCHER_WORKFLOW_TYPE,
                          DispatcherInput(retry=retry_policy(settings)),
                          id=workflow_id, task_queue=task_queue)
