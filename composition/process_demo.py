"""The demo process of the embedded stack: Weiterstadt's strategy process, started once.

`seed_demo` calls `seed_demo_process` before the worker runs; a workflow can be started
without a worker and begins when one polls. The process id is fixed, so a second seed finds the
row and the workflow (`process-<id>`) and changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from contracts.queues import TASK_QUEUE
from infra.config import get_settings
from infra.temporal import WorkflowNotStarted, connect, start_after_commit
from services.models.organisation import Organisation
from services.processes.repository import ProcessRepository
from services.processes.service import create_process, discard_unstarted
from workflows.process import ProcessWorkflow

log = logging.getLogger(__name__)

DEMO_PROCESS_ID = uuid.uuid5(uuid.NAMESPACE_URL, "mitwirken:demo:weiterstadt-vielfaltsstrategie")
DEMO_TEMPLATE = "weiterstadt-vielfaltsstrategie"
DEMO_TITLE = "Weiterstadt WIRkt! – Vielfalts- und Integrationsstrategie"


def next_february(today: date) -> date:
    """The process plans from a February start, as Weiterstadt's did."""
    this_year = date(today.year, 2, 1)
    return this_year if today <= this_year else date(today.year + 1, 2, 1)


async def _connect(timeout: float) -> Client:
    # The dev stack seeds while its Temporal server may still be starting.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            return await connect(get_settings())
        except Exception:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.5)


async def seed_demo_process(session: AsyncSession, org: Organisation, *,
                            client: Client | None = None, task_queue: str = TASK_QUEUE,
                            connect_timeout: float = 1.5) -> uuid.UUID | None:
    """Start the demo process unless it exists (commits what was seeded so far, then starts
    the workflow, as every start after new rows does). Returns the
    process id, or None when Temporal is unreachable (the rest of the demo still seeds)."""
    repo = ProcessRepository.from_session(session)
    if await repo.get(DEMO_PROCESS_ID) is not None:
        return DEMO_PROCESS_ID
    try:
        # Connect before writing anything: without Temporal the demo seeds no process at all.
        client = client or await _connect(connect_timeout)
    except Exception as exc:
        log.warning("demo process not started (Temporal unreachable): %s", exc)
        return None
    process, wf_input = await create_process(
        session, org, template_key=DEMO_TEMPLATE, title=DEMO_TITLE,
        starts_on=next_february(date.today()), actor="seed", process_id=DEMO_PROCESS_ID)
    try:
        await start_after_commit(session, client, ProcessWorkflow.run, wf_input,
                                 id=process.workflow_id, task_queue=task_queue,
                                 undo=lambda: discard_unstarted(session, process))
    except WorkflowNotStarted as exc:
        log.warning("demo process not started: %s", exc)
        return None
    return DEMO_PROCESS_ID
