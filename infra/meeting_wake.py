"""Waking an event's workflow (signal-with-start), and starting the outbox sweep that wakes
the events whose mails lost their wake-up. Shared by the API (after a change), the sweep's
activity and the worker's start-up; Temporal client calls only, no domain logic."""

from __future__ import annotations

import uuid

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy

from contracts.meetings import (
    MEETING_SIGNAL_CHANGED,
    OUTBOX_WORKFLOW_ID,
    OUTBOX_WORKFLOW_TYPE,
    MeetingWorkflowInput,
    OutboxSweepInput,
    meeting_workflow_id,
)
from contracts.queues import TASK_QUEUE
from infra.temporal import start_singleton


async def wake(client: Client, meeting_id: uuid.UUID, *, task_queue: str = TASK_QUEUE) -> None:
    """The event's workflow is signalled, or started if it is not running: it delivers every
    mail of the event that is queued (a wake-up too many costs one look at the ledger)."""
    await client.start_workflow(
        "MeetingWorkflow", MeetingWorkflowInput(meeting_id=meeting_id),
        id=meeting_workflow_id(meeting_id), task_queue=task_queue,
        start_signal=MEETING_SIGNAL_CHANGED,
        # A finished run (the event is over) is started again for a late change.
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )


async def start_outbox_sweep(client: Client, *, task_queue: str = TASK_QUEUE,
                             workflow_id: str = OUTBOX_WORKFLOW_ID,
                             sweep: OutboxSweepInput | None = None) -> None:
    """Idempotent: one fixed workflow id, USE_EXISTING (a sweep that an operator terminated
    comes back with the next worker start)."""
    await start_singleton(client, OUTBOX_WORKFLOW_TYPE, sweep or OutboxSweepInput(),
                          id=workflow_id, task_queue=task_queue)
