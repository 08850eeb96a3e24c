"""Waking an event's workflow after a change (signal-with-start), shared by routes and pages.

The change and its queued mails are committed first, so the workflow's activities see them.
If Temporal is unreachable the change still stands and its mails stay queued in the ledger:
the next wake-up of that event delivers them (the answer to the person is not an error).
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy

from api.deps import TemporalHolder
from contracts.meetings import MEETING_SIGNAL_CHANGED, MeetingWorkflowInput, meeting_workflow_id
from infra.temporal import TASK_QUEUE

log = logging.getLogger(__name__)


async def wake(client: Client, meeting_id: uuid.UUID, *, task_queue: str = TASK_QUEUE) -> None:
    await client.start_workflow(
        "MeetingWorkflow", MeetingWorkflowInput(meeting_id=meeting_id),
        id=meeting_workflow_id(meeting_id), task_queue=task_queue,
        start_signal=MEETING_SIGNAL_CHANGED,
        # A finished run (the event is over) is started again for a late change.
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )


async def commit_and_wake(request: Request, session: AsyncSession,
                          meeting_id: uuid.UUID) -> None:
    await session.commit()
    holder: TemporalHolder = request.app.state.temporal
    try:
        await wake(await holder.get(), meeting_id)
    except Exception as exc:  # any Temporal failure: the mails wait in the ledger
        log.warning("event %s: workflow not woken (%s); mails stay queued", meeting_id, exc)
