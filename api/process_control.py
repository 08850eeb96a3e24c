"""The API's side of the process engine: start workflows and send updates, mapping failures.

Routes and pages both come through here, so the HTTP error for a rejected update (409 with the
rule's machine code, 404, 422) is the same in JSON and in the HTML error summary.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from infra.temporal import TASK_QUEUE
from services.errors import Conflict, DomainError, Unavailable
from services.models.process import Process
from services.processes.errors import domain_error
from services.processes.service import approval_workflow_id, discard_unstarted
from workflows.approval import ApprovalWorkflow
from workflows.contracts import (
    AdvanceInput,
    AdvanceResult,
    ApprovalState,
    ChecklistInput,
    DecideInput,
    ProcessState,
    ProcessWorkflowInput,
    RescheduleInput,
    SkipInput,
)
from workflows.process import ProcessWorkflow

T = TypeVar("T", bound=BaseModel)


async def start_process_workflow(client: Client, process: Process, input: ProcessWorkflowInput,
                                 *, task_queue: str = TASK_QUEUE) -> None:
    """Start the process's workflow. Its id comes from the process id; a second start of the
    same process is refused (FAIL / REJECT_DUPLICATE), never a second run of one process."""
    await client.start_workflow(
        ProcessWorkflow.run, input, id=process.workflow_id, task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )


async def start_committed(session: AsyncSession, client: Client, process: Process,
                          input: ProcessWorkflowInput) -> None:
    """Commit the new rows (the workflow's activities must see them), then start the workflow;
    if Temporal refuses, remove the rows again so no process exists without its workflow."""
    await session.commit()
    try:
        await start_process_workflow(client, process, input)
    except WorkflowAlreadyStartedError as exc:
        raise Conflict("Dieser Prozess läuft bereits.", code="process_exists") from exc
    except (RPCError, RuntimeError) as exc:
        await discard_unstarted(session, process)
        await session.commit()
        raise Unavailable("Temporal ist nicht erreichbar.", code="temporal_unavailable") from exc


def _details(cause: ApplicationError) -> Any:
    if cause.details:
        return cause.details[0]
    return None


async def send_update(handle: Any, method: Any, arg: BaseModel, result_type: type[T]) -> T:
    try:
        return await handle.execute_update(method, arg, result_type=result_type)  # type: ignore[no-any-return]
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError):
            raise domain_error(cause.type, cause.message, _details(cause)) from exc
        raise Conflict("Die Aktion wurde abgelehnt.", code="update_failed") from exc
    except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
        raise Unavailable("Temporal antwortet nicht.", code="temporal_timeout") from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            # The workflow has finished (completed process or decided approval).
            raise Conflict("Dieser Vorgang ist bereits abgeschlossen.",
                           code="process_completed") from exc
        raise Unavailable("Temporal ist nicht erreichbar.", code="temporal_unavailable") from exc


def _process(client: Client, process_id: uuid.UUID) -> Any:
    return client.get_workflow_handle_for(ProcessWorkflow.run, f"process-{process_id}")


async def advance(client: Client, process_id: uuid.UUID, body: AdvanceInput) -> AdvanceResult:
    return await send_update(_process(client, process_id), ProcessWorkflow.advance, body,
                         AdvanceResult)


async def skip(client: Client, process_id: uuid.UUID, body: SkipInput) -> ProcessState:
    return await send_update(_process(client, process_id), ProcessWorkflow.skip, body, ProcessState)


async def reschedule(client: Client, process_id: uuid.UUID,
                     body: RescheduleInput) -> ProcessState:
    return await send_update(_process(client, process_id), ProcessWorkflow.reschedule, body,
                         ProcessState)


async def check_item(client: Client, process_id: uuid.UUID, body: ChecklistInput) -> ProcessState:
    return await send_update(_process(client, process_id), ProcessWorkflow.set_checklist_item, body,
                         ProcessState)


async def decide(client: Client, approval_id: uuid.UUID, body: DecideInput) -> ApprovalState:
    handle = client.get_workflow_handle_for(ApprovalWorkflow.run,
                                            approval_workflow_id(approval_id))
    try:
        return await send_update(handle, ApprovalWorkflow.decide, body, ApprovalState)
    except DomainError as exc:
        if exc.code == "process_completed":
            raise Conflict("Über diese Freigabe ist bereits entschieden.",
                           code="approval_closed") from exc
        raise
