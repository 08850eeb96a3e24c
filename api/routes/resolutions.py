"""Council resolution: the coordinator's draft, versions, files, approval and submission; the
clerk's inbox and steps (API.md "Council resolution")."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Body, status
from fastapi.responses import HTMLResponse, Response

from api import resolution_control as control
from api.deps import CurrentUser, SessionDep, TemporalDep
from contracts.resolution import (
    OutcomeInput,
    ReceivedInput,
    ScheduledInput,
    outcome_problems,
    scheduled_problems,
)
from services.errors import ValidationFailed
from services.models.organisation import Role
from services.models.resolution import ResolutionVersion
from services.processes.service import process_for
from services.resolutions import oparl, service
from services.resolutions.schemas import (
    ApprovalRequested,
    DraftOut,
    OutcomeRequest,
    ResolutionOut,
    ScheduledRequest,
    SubmitRequest,
    VersionOut,
)

router = APIRouter(prefix="/api/v1", tags=["resolution"])
DOWNLOADS = {"pdf": "pdf", "docx": "docx", "report.pdf": "report"}


@router.get("/processes/{process_id}/resolution", response_model=ResolutionOut)
async def read_resolution(process_id: uuid.UUID, session: SessionDep,
                          principal: CurrentUser) -> ResolutionOut:
    process = await process_for(session, principal, process_id)
    return await service.resolution_out(session, process)


@router.put("/processes/{process_id}/resolution/draft", response_model=DraftOut)
async def edit_draft(process_id: uuid.UUID, session: SessionDep, principal: CurrentUser,
                     body: dict[str, Any] = Body(...)) -> DraftOut:  # noqa: B008
    """Replace the draft's sections (all of them: betreff, beschluss_intro,
    beschlussvorschlag, sachverhalt, finanzielle_auswirkungen, beratungsfolge, federfuehrung,
    anlagen). An edit after an approval means the approved version is no longer the draft."""
    process = await process_for(session, principal, process_id, Role.coordinator)
    sections = service.parse_sections(body)
    draft = await service.update_draft(session, process, sections, principal.email)
    return service.draft_out(draft)


@router.post("/processes/{process_id}/resolution/draft", response_model=VersionOut,
             status_code=status.HTTP_201_CREATED)
async def compile_draft(process_id: uuid.UUID, session: SessionDep,
                        principal: CurrentUser) -> VersionOut:
    process = await process_for(session, principal, process_id, Role.coordinator)
    version = await service.compile_version(session, process, principal.email)
    draft = await service.draft_of(session, process)
    return await service.version_out(session, version, process, draft)


@router.get("/processes/{process_id}/resolution/preview", response_class=HTMLResponse)
async def preview(process_id: uuid.UUID, session: SessionDep,
                  principal: CurrentUser) -> HTMLResponse:
    process = await process_for(session, principal, process_id, Role.coordinator)
    return HTMLResponse(await service.preview_html(session, process))


async def _version(session: SessionDep, principal: CurrentUser, process_id: uuid.UUID,
                   number: int, *roles: Role) -> tuple[Any, ResolutionVersion]:
    process = await process_for(session, principal, process_id, *roles)
    return process, await service.version_of(session, process, number)


def _file_response(f: Any, *, attachment: bool = True) -> Response:
    disposition = "attachment" if attachment else "inline"
    return Response(f.data, media_type=f.mime_type, headers={
        "Content-Disposition": f'{disposition}; filename="{f.file_name}"',
        "Cache-Control": "private, max-age=0"})


@router.get("/processes/{process_id}/resolution/drafts/{number:int}.pdf")
async def version_pdf(process_id: uuid.UUID, number: int, session: SessionDep,
                      principal: CurrentUser) -> Response:
    _, version = await _version(session, principal, process_id, number)
    return _file_response(await service.file_of(session, version, "pdf"))


@router.get("/processes/{process_id}/resolution/drafts/{number:int}.report.pdf")
async def version_report(process_id: uuid.UUID, number: int, session: SessionDep,
                         principal: CurrentUser) -> Response:
    _, version = await _version(session, principal, process_id, number)
    return _file_response(await service.file_of(session, version, "report"))


@router.get("/processes/{process_id}/resolution/drafts/{number:int}.docx")
async def version_docx(process_id: uuid.UUID, number: int, session: SessionDep,
                       principal: CurrentUser) -> Response:
    _, version = await _version(session, principal, process_id, number)
    return _file_response(await service.file_of(session, version, "docx"))


@router.get("/processes/{process_id}/resolution/drafts/{number:int}.oparl.json")
async def version_oparl(process_id: uuid.UUID, number: int, session: SessionDep,
                        principal: CurrentUser) -> dict[str, Any]:
    """The version as an OParl 1.1 Paper (also when not yet submitted, for checking)."""
    process, version = await _version(session, principal, process_id, number)
    return await oparl.paper(session, version, process)


@router.post("/processes/{process_id}/resolution/drafts/{number:int}/approval",
             response_model=ApprovalRequested, status_code=status.HTTP_201_CREATED)
async def request_approval(process_id: uuid.UUID, number: int, session: SessionDep,
                           principal: CurrentUser, client: TemporalDep) -> ApprovalRequested:
    process, version = await _version(session, principal, process_id, number, Role.coordinator)
    approval = await service.open_version_approval(session, process, version, principal.email)
    await control.start_approval(session, client, approval)
    return ApprovalRequested(approval_id=approval.approval_id, version=version.number)


@router.post("/processes/{process_id}/resolution/submit", response_model=VersionOut)
async def submit(process_id: uuid.UUID, session: SessionDep, principal: CurrentUser,
                 client: TemporalDep, body: SubmitRequest | None = None) -> VersionOut:
    process = await process_for(session, principal, process_id, Role.coordinator)
    version, wf_input = await service.submit(session, process, body.version if body else None,
                                             principal.email)
    await control.start_resolution(session, client, version, wf_input)
    return await _fresh_out(session, principal, version.id)


# --- the clerk -----------------------------------------------------------------------------


@router.get("/clerk/inbox", response_model=dict[str, list[VersionOut]])
async def clerk_inbox(session: SessionDep, principal: CurrentUser) -> dict[str, list[VersionOut]]:
    """Submitted versions of the clerk's organisations: `new` (not yet scheduled), `waiting`
    (for a meeting or deferred), `decided`."""
    return await service.inbox(session, principal)


async def _fresh_out(session: SessionDep, principal: CurrentUser,
                     resolution_id: uuid.UUID) -> VersionOut:
    session.expire_all()  # the workflow's activity committed in another session
    version, process = await service.resolution_for(session, principal, resolution_id)
    return await service.version_out(session, version, process)


@router.get("/resolutions/{resolution_id}", response_model=VersionOut)
async def read_submitted(resolution_id: uuid.UUID, session: SessionDep,
                         principal: CurrentUser) -> VersionOut:
    version, process = await service.resolution_for(session, principal, resolution_id)
    return await service.version_out(session, version, process)


@router.post("/resolutions/{resolution_id}/received", response_model=VersionOut)
async def mark_received(resolution_id: uuid.UUID, session: SessionDep, principal: CurrentUser,
                        client: TemporalDep) -> VersionOut:
    await service.resolution_for(session, principal, resolution_id, Role.clerk)
    await control.received(client, resolution_id, ReceivedInput(actor=principal.email))
    return await _fresh_out(session, principal, resolution_id)


@router.post("/resolutions/{resolution_id}/scheduled", response_model=VersionOut)
async def mark_scheduled(resolution_id: uuid.UUID, body: ScheduledRequest, session: SessionDep,
                         principal: CurrentUser, client: TemporalDep) -> VersionOut:
    await service.resolution_for(session, principal, resolution_id, Role.clerk)
    data = ScheduledInput(body=body.body, meeting_date=body.meeting_date, actor=principal.email)
    # The same rules as the page, answered before the workflow is asked.
    if problems := scheduled_problems(data):
        raise ValidationFailed(problems[0]["message"], code="invalid_decision",
                               details=problems)
    await control.scheduled(client, resolution_id, data)
    return await _fresh_out(session, principal, resolution_id)


@router.post("/resolutions/{resolution_id}/outcome", response_model=VersionOut)
async def record_outcome(resolution_id: uuid.UUID, body: OutcomeRequest, session: SessionDep,
                         principal: CurrentUser, client: TemporalDep) -> VersionOut:
    await service.resolution_for(session, principal, resolution_id, Role.clerk)
    data = OutcomeInput(**body.model_dump(), actor=principal.email)
    problems = outcome_problems(data)
    if problems:
        raise ValidationFailed(problems[0]["message"], code="invalid_decision",
                               details=problems)
    await control.outcome(client, resolution_id, data)
    return await _fresh_out(session, principal, resolution_id)
