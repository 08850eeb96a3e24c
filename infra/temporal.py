"""Temporal client factory with the data converter, and the one way a workflow is started
for rows that were just written."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter

from contracts.queues import TASK_QUEUE
from infra.config import Settings


class WorkflowNotStarted(Exception):
    """Temporal did not take the start; the rows that would have claimed it are undone."""


async def connect(settings: Settings, *, address: str | None = None) -> Client:
    return await Client.connect(
        address or settings.effective_temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )


async def start_after_commit(session: AsyncSession, client: Client, workflow: Any, arg: Any, *,
                             id: str, undo: Callable[[], Awaitable[None]],
                             task_queue: str = TASK_QUEUE) -> None:
    """Commit the rows the workflow's first activities read, then start the workflow.

    One conflict policy for every workflow started from a domain row: its id comes from the
    row's id, so a second start (a retried request, a seed run twice) joins the run that is
    already going (USE_EXISTING) and a finished one is never run again (REJECT_DUPLICATE).
    If Temporal refuses or cannot be reached, `undo` says so in the database and is
    committed - no row claims a workflow that does not exist - and WorkflowNotStarted is
    raised (the API answers 503).
    """
    await session.commit()
    try:
        await client.start_workflow(
            workflow, arg, id=id, task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    except Exception as exc:  # any RPC failure, a closed run of the same id included
        await undo()
        await session.commit()
        raise WorkflowNotStarted(str(exc)) from exc


async def start_singleton(client: Client, workflow: str, arg: Any, *, id: str,
                          task_queue: str = TASK_QUEUE) -> None:
    """Start one of the installation's long-running sweeps under its fixed id. Every worker
    does this at start-up: a second start joins the run that is going (USE_EXISTING), and a
    sweep an operator terminated comes back with the next worker start (ALLOW_DUPLICATE)."""
    await client.start_workflow(
        workflow, arg, id=id, task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE)
