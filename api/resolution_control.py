"""The API's side of the council resolution: start the approval and resolution workflows and
send the clerk's updates (errors mapped as in api/process_control.py, for JSON and pages)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.process_control import send_update, start_or_unavailable
from contracts.ids import approval_workflow_id
from contracts.process import ApprovalInput
from contracts.resolution import (
    OutcomeInput,
    ReceivedInput,
    ResolutionStepResult,
    ResolutionWorkflowInput,
    ScheduledInput,
    resolution_workflow_id,
)
from services.errors import Conflict, DomainError
from services.models.resolution import ResolutionVersion
from services.resolutions import service
from workflows.approval import ApprovalWorkflow
from workflows.resolution import CouncilResolutionWorkflow


async def _nothing_to_undo() -> None:
    """The approval row stays pending without a workflow; requesting the approval again
    makes a new one (the 503 says so)."""


async def start_approval(session: AsyncSession, client: Client, approval: ApprovalInput) -> None:
    """Commit the approval row (voters can decide at once), then start its workflow."""
    await start_or_unavailable(session, client, ApprovalWorkflow.run, approval,
                               id=approval_workflow_id(approval.approval_id),
                               undo=_nothing_to_undo)


async def start_resolution(session: AsyncSession, client: Client, version: ResolutionVersion,
                           input: ResolutionWorkflowInput) -> None:
    """Commit the submission, then start the version's workflow; if Temporal is unreachable
    the submission is undone."""
    await start_or_unavailable(session, client, CouncilResolutionWorkflow.run, input,
                               id=resolution_workflow_id(version.id),
                               undo=lambda: service.undo_submit(session, version))


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
