"""The API's side of the council resolution: start the approval and resolution workflows and
send the clerk's updates (errors mapped as in api/process_control.py, for JSON and pages)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api.process_control import send_update
from contracts.resolution import (
    OutcomeInput,
    ReceivedInput,
    ResolutionStepResult,
    ResolutionWorkflowInput,
    ScheduledInput,
    resolution_workflow_id,
)
from infra.temporal import TASK_QUEUE
from services.errors import Conflict, DomainError, Unavailable
from services.models.resolution import ResolutionVersion
from services.processes.service import approval_workflow_id
from services.resolutions import service
from workflows.approval import ApprovalWorkflow
from workflows.contracts import ApprovalInput
from workflows.resolution import CouncilResolutionWorkflow


async def start_approval(session: AsyncSession, client: Client, approval: ApprovalInput) -> None:
    """Commit the approval row (voters can decide at once), then start its workflow."""
    await session.commit()
    try:
        await client.start_workflow(
            ApprovalWorkflow.run, approval, id=approval_workflow_id(approval.approval_id),
            task_queue=TASK_QUEUE, id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
    except (RPCError, RuntimeError) as exc:
        raise Unavailable("Temporal ist nicht erreichbar; bitte die Freigabe erneut "
                          "anfordern.", code="temporal_unavailable") from exc


async def start_resolution(session: AsyncSession, client: Client, version: ResolutionVersion,
                           input: ResolutionWorkflowInput) -> None:
    """Commit the submission, then start the version's workflow; a second start of the same
    version is refused, and if Temporal is unreachable the submission is undone."""
    await session.commit()
    try:
        await client.start_workflow(
            CouncilResolutionWorkflow.run, input, id=resolution_workflow_id(version.id),
            task_queue=TASK_QUEUE, id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    except WorkflowAlreadyStartedError as exc:
        raise Conflict("Diese Fassung wurde bereits übergeben.",
                       code="resolution_submitted") from exc
    except (RPCError, RuntimeError) as exc:
        await service.undo_submit(session, version)
        await session.commit()
        raise Unavailable("Temporal ist nicht erreichbar.", code="temporal_unavailable") from exc


def _handle(client: Client, resolution_id: uuid.UUID):  # type: ignore[no-untyped-def]
    return client.get_workflow_handle_for(CouncilResolutionWorkflow.run,
                                          resolution_workflow_id(resolution_id))


async def _send(client: Client, resolution_id: uuid.UUID, method, arg) -> ResolutionStepResult:  # type: ignore[no-untyped-def]
    try:
        return await send_update(_handle(client, resolution_id), method, arg, ResolutionStepResult)
    except DomainError as exc:
        if exc.code == "process_completed":  # the workflow has ended: decided
            raise Conflict("Über diese Vorlage ist bereits entschieden.",
                           code="resolution_decided") from exc
        raise


async def received(client: Client, resolution_id: uuid.UUID,
                   body: ReceivedInput) -> ResolutionStepResult:
    return await _send(client, resolution_id, CouncilResolutionWorkflow.received, body)


async def scheduled(client: Client, resolution_id: uuid.UUID,
                    body: ScheduledInput) -> ResolutionStepResult:
    return await _send(client, resolution_id, CouncilResolutionWorkflow.scheduled, body)


async def outcome(client: Client, resolution_id: uuid.UUID,
                  body: OutcomeInput) -> ResolutionStepResult:
    return await _send(client, resolution_id, CouncilResolutionWorkflow.outcome, body)
