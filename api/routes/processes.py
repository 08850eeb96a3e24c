"""Processes: start from a template, read, advance, skip, reschedule, check off, timeline.

Reads come from PostgreSQL; control flow goes to the process's workflow as Temporal updates,
whose handlers return only after the new state is written, so the answer reads it back.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from api import process_control as control
from api.deps import CurrentUser, SessionDep, TemporalDep
from contracts.process import AdvanceInput, ChecklistInput, RescheduleInput, SkipInput
from services.identity.service import get_organisation
from services.models.organisation import Role
from services.processes import service
from services.processes.schemas import (
    AdvanceOut,
    AdvanceRequest,
    ApprovalOut,
    ChecklistRequest,
    ProcessCreate,
    ProcessOut,
    ProcessSummary,
    RescheduleRequest,
    SkipRequest,
    TransitionOut,
)
from services.resolutions import service as resolutions

router = APIRouter(prefix="/api/v1", tags=["processes"])
STAFF = (Role.coordinator, Role.steering, Role.clerk)


@router.post("/orgs/{slug}/processes", response_model=ProcessOut,
             status_code=status.HTTP_201_CREATED)
async def start_process(slug: str, body: ProcessCreate, session: SessionDep,
                        principal: CurrentUser, client: TemporalDep) -> ProcessOut:
    org = await get_organisation(session, slug)
    principal.require(org.id, Role.coordinator)
    process, wf_input = await service.create_process(
        session, org, template_key=body.template, title=body.title, starts_on=body.starts_on,
        actor=principal.email)
    await control.start_committed(session, client, process, wf_input)
    return await service.process_out(session, process)


@router.get("/orgs/{slug}/processes", response_model=list[ProcessSummary])
async def list_processes(slug: str, session: SessionDep,
                         principal: CurrentUser) -> list[ProcessSummary]:
    org = await get_organisation(session, slug)
    principal.require(org.id)
    return await service.list_processes(session, [org.id])


@router.get("/processes/{process_id}", response_model=ProcessOut)
async def read_process(process_id: uuid.UUID, session: SessionDep,
                       principal: CurrentUser) -> ProcessOut:
    process = await service.process_for(session, principal, process_id)
    return await service.process_out(session, process)


async def _fresh(session: SessionDep, process_id: uuid.UUID, principal: CurrentUser) -> ProcessOut:
    # The update's activity committed in another session: drop what this one has cached.
    session.expire_all()
    return await service.process_out(
        session, await service.process_for(session, principal, process_id))


@router.post("/processes/{process_id}/advance", response_model=AdvanceOut)
async def advance(process_id: uuid.UUID, body: AdvanceRequest, session: SessionDep,
                  principal: CurrentUser, client: TemporalDep) -> AdvanceOut:
    process = await service.process_for(session, principal, process_id, Role.coordinator)
    await resolutions.require_not_at_clerk(session, process, body.expected_current)
    result = await control.advance(client, process_id, AdvanceInput(
        expected_current=body.expected_current, override_reason=body.override_reason,
        actor=principal.email))
    return AdvanceOut(status=result.status, current_phase=result.current_phase,
                      approval_id=result.approval_id,
                      process=await _fresh(session, process_id, principal))


@router.post("/processes/{process_id}/phases/{key}/skip", response_model=ProcessOut)
async def skip(process_id: uuid.UUID, key: str, body: SkipRequest, session: SessionDep,
               principal: CurrentUser, client: TemporalDep) -> ProcessOut:
    process = await service.process_for(session, principal, process_id, Role.coordinator)
    await resolutions.require_not_at_clerk(session, process, key)
    await control.skip(client, process_id,
                       SkipInput(phase_key=key, reason=body.reason, actor=principal.email))
    return await _fresh(session, process_id, principal)


@router.post("/processes/{process_id}/phases/{key}/reschedule", response_model=ProcessOut)
async def reschedule(process_id: uuid.UUID, key: str, body: RescheduleRequest,
                     session: SessionDep, principal: CurrentUser,
                     client: TemporalDep) -> ProcessOut:
    await service.process_for(session, principal, process_id, Role.coordinator)
    await control.reschedule(client, process_id, RescheduleInput(
        phase_key=key, planned_start=body.planned_start, planned_end=body.planned_end,
        actor=principal.email))
    return await _fresh(session, process_id, principal)


@router.post("/processes/{process_id}/phases/{key}/checklist/{item}", response_model=ProcessOut)
async def check_item(process_id: uuid.UUID, key: str, item: str, body: ChecklistRequest,
                     session: SessionDep, principal: CurrentUser,
                     client: TemporalDep) -> ProcessOut:
    await service.process_for(session, principal, process_id, Role.coordinator)
    await control.check_item(client, process_id, ChecklistInput(
        phase_key=key, item_key=item, done=body.done, actor=principal.email))
    return await _fresh(session, process_id, principal)


@router.get("/processes/{process_id}/timeline", response_model=list[TransitionOut])
async def read_timeline(process_id: uuid.UUID, session: SessionDep,
                        principal: CurrentUser) -> list[TransitionOut]:
    process = await service.process_for(session, principal, process_id)
    return await service.timeline(session, process)


@router.get("/processes/{process_id}/approvals", response_model=list[ApprovalOut])
async def read_process_approvals(process_id: uuid.UUID, session: SessionDep,
                                 principal: CurrentUser) -> list[ApprovalOut]:
    process = await service.process_for(session, principal, process_id)
    return await service.approvals_of_process(session, process, principal)
