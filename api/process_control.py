"""The API's side of the process engine: start workflows and send updates, mapping failures.

Routes and pages both come through here, so the HTTP error for a rejected update (409 with the
rule's machine code, 404, 422) is the same in JSON and in the HTML error summary.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from contracts.ids import approval_workflow_id, process_workflow_id
from contracts.process import (
    AdvanceInput,
    AdvanceResult,
    ChecklistInput,
    DecideInput,
    DecideResult,
    ProcessWorkflowInput,
    RescheduleInput,
    SkipInput,
    StepResult,
)
from contracts.process_rules import RuleViolation, check_comment
from contracts.queues import TASK_QUEUE
from infra.temporal import WorkflowNotStarted, start_after_commit
from services.errors import Conflict, DomainError, Unavailable, ValidationFailed
from services.models.process import Process
from services.processes.errors import domain_error
from services.processes.service import discard_unstarted
from workflows.approval import ApprovalWorkflow
from workflows.process import ProcessWorkflow

T = TypeVar("T", bound=BaseModel)


async def start_process_workflow(client: Client, process: Process, input: ProcessWorkflowInput,
                                 *, task_queue: str = TASK_QUEUE) -> None:
    """Start the process's workflow on a session whose rows are already committed (tests and
    tools that wrote them themselves)."""
    await client.start_workflow(ProcessWorkflow.run, input, id=process.workflow_id,
                                task_queue=task_queue)


async def start_or_unavailable(session: AsyncSession, client: Client, workflow: Any, arg: Any,
                               *, id: str, undo: Callable[[], Awaitable[None]]) -> None:
    """`infra.temporal.start_after_commit` for the API and the pages: a start Temporal did not
    take is a 503 (`temporal_unavailable`) like every other unreachable dependency."""
    try:
        await start_after_commit(session, client, workflow, arg, id=id, undo=undo)
    except WorkflowNotStarted as exc:
        raise Unavailable("Temporal ist nicht erreichbar.", code="temporal_unavailable") from exc


async def start_committed(session: AsyncSession, client: Client, process: Process,
                          input: ProcessWorkflowInput) -> None:
    """Commit the new rows, then start the workflow; if Temporal refuses, the rows are removed
    again so no process exists without its workflow."""
    await start_or_unavailable(session, client, ProcessWorkflow.run, input,
                               id=process.workflow_id,
                               undo=lambda: discard_unstarted(session, process))


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
    return client.get_workflow_handle_for(ProcessWorkflow.run, process_workflow_id(process_id))


async def advance(client: Client, process_id: uuid.UUID, body: AdvanceInput) -> AdvanceResult:
    return await send_update(_process(client, process_id), ProcessWorkflow.advance, body,
                         AdvanceResult)


# The updates answer small results (contracts.process.StepResult); callers that show the
# process read it from PostgreSQL, which the update wrote before answering.


async def skip(client: Client, process_id: uuid.UUID, body: SkipInput) -> StepResult:
    return await send_update(_process(client, process_id), ProcessWorkflow.skip, body, StepResult)


async def reschedule(client: Client, process_id: uuid.UUID,
                     body: RescheduleInput) -> StepResult:
    return await send_update(_process(client, process_id), ProcessWorkflow.reschedule, body,
                         StepResult)


async def check_item(client: Client, process_id: uuid.UUID, body: ChecklistInput) -> StepResult:
    return await send_update(_process(client, process_id), ProcessWorkflow.set_checklist_item, body,
                         StepResult)


def require_comment(decision: str, comment: str) -> None:
    """contracts.process_rules.check_comment before the round trip (the decide validator
    checks the same rule): a 422 naming the field."""
    try:
        check_comment(decision, comment)
    except RuleViolation as exc:
        raise ValidationFailed(exc.message, code=exc.code, details=[
            {"field": "comment", "message": "Pflicht bei Ablehnung"}]) from None


async def decide(client: Client, approval_id: uuid.UUID, body: DecideInput) -> DecideResult:
    require_comment(body.decision, body.comment)
    handle = client.get_workflow_handle_for(ApprovalWorkflow.run,
                                            approval_workflow_id(approval_id))
    try:
        return await send_update(handle, ApprovalWorkflow.decide, body, DecideResult)
    except DomainError as exc:
        if exc.code == "process_completed":
            raise Conflict("Über diese Freigabe ist bereits entschieden.",
                           code="approval_closed") from exc
        raise
