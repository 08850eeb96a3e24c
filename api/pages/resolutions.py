"""Pages of the council resolution (German, server-rendered, plain HTML forms, no JavaScript).

Coordinators: edit the Beschlussvorlage's sections, preview, compile a version, ask the
steering group for its approval, submit, follow the status. Clerks (Sitzungsdienst): an inbox
of what is new, what waits for a meeting and what is decided, and a version's page with its
downloads and only the steps allowed now. Forms POST and redirect back (303); on an error the
page is shown again with an error summary at the top.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from temporalio.client import Client

from api import resolution_control as control
from api.deps import SessionDep
from api.pages import ORG_LINKS, NavLink
from api.pages.processes import _errors
from api.pages.staff_context import StaffUser
from api.templating import templates
from contracts.resolution import (
    OutcomeInput,
    ReceivedInput,
    ScheduledInput,
    outcome_problems,
    scheduled_problems,
)
from services.errors import DomainError, Unavailable, ValidationFailed
from services.identity.service import OrgRole, Principal, organisation_time_zone
from services.models.organisation import Role
from services.processes.service import process_for, process_out
from services.resolutions import service
from services.resolutions.schemas import ROLE_LABELS

router = APIRouter(include_in_schema=False)

STATUS = {"compiled": "erstellt", "submitted": "beim Sitzungsdienst eingegangen",
          "received": "Eingang bestätigt", "scheduled": "für eine Sitzung vorgesehen",
          "deferred": "vertagt", "adopted": "beschlossen", "amended": "mit Änderungen beschlossen",
          "rejected": "abgelehnt", "drafting": "in Bearbeitung", "decided": "entschieden"}
APPROVAL = {None: "nicht angefragt", "pending": "angefragt", "approved": "freigegeben",
            "rejected": "abgelehnt"}
OUTCOMES = {"adopted": "Beschlossen", "amended": "Mit Änderungen beschlossen",
            "rejected": "Abgelehnt", "deferred": "Vertagt"}
FLASH = {"saved": "Die Vorlage wurde gespeichert.",
         "compiled": "Eine neue Fassung wurde erstellt.",
         "approval": "Die Freigabe wurde bei der Steuerungsgruppe angefragt.",
         "submitted": "Die Fassung wurde an den Sitzungsdienst übergeben.",
         "received": "Der Eingang wurde bestätigt.",
         "scheduled": "Die Sitzung wurde eingetragen.",
         "outcome": "Das Ergebnis wurde eingetragen."}
EXTRA_ROWS = 2  # empty rows of the Beratungsfolge for new bodies


def _links(org: OrgRole) -> list[NavLink]:
    if org.role in (Role.clerk, Role.admin):
        return [NavLink("/app/clerk", "Sitzungsdienst: Beschlussvorlagen")]
    return []


ORG_LINKS.append(_links)


async def _client(request: Request) -> Client:
    return await request.app.state.temporal.get()  # type: ignore[no-any-return]


def _ctx(principal: Principal, request: Request, **extra: Any) -> dict[str, Any]:
    return {"principal": principal, "status_labels": STATUS, "approval_labels": APPROVAL,
            "outcome_labels": OUTCOMES, "role_labels": ROLE_LABELS,
            "flash": FLASH.get(request.query_params.get("ok") or ""), **extra}


# --- coordinator ---------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def sections_from_form(form: Any) -> dict[str, Any]:
    """The edit form as the draft's JSON shape (validated by services.parse_sections)."""
    reasons = []
    for key in form.getlist("sv_key"):
        reasons.append({"key": key, "title": form.get(f"sv_title_{key}", ""),
                        "text": form.get(f"sv_text_{key}", "")})
    consultations = []
    for n in range(int(form.get("bf_rows") or 0)):
        body = (form.get(f"bf_body_{n}") or "").strip()
        if not body:
            continue
        consultations.append({"body": body, "role": form.get(f"bf_role_{n}", ""),
                              "date": form.get(f"bf_date_{n}") or None})
    return {"betreff": form.get("betreff", ""), "beschluss_intro": form.get("beschluss_intro", ""),
            "beschlussvorschlag": _lines(form.get("beschlussvorschlag", "")),
            "sachverhalt": reasons,
            "finanzielle_auswirkungen": form.get("finanzielle_auswirkungen", ""),
            "beratungsfolge": consultations, "federfuehrung": form.get("federfuehrung", ""),
            "anlagen": _lines(form.get("anlagen", ""))}


async def _edit_page(request: Request, session: SessionDep, principal: Principal,
                     process_id: uuid.UUID, *, errors: list[dict[str, str]] | None = None,
                     form: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    session.expire_all()
    process = await process_for(session, principal, process_id)
    out = await service.resolution_out(session, process)
    role = principal.role_in(process.organisation_id)
    sections = form or out.draft.sections.model_dump(mode="json")
    return templates.TemplateResponse(request, "resolutions/edit.html", _ctx(
        principal, request, process=await process_out(session, process), r=out, s=sections,
        time_zone=await organisation_time_zone(session, process.organisation_id),
        rows=len(sections["beratungsfolge"]) + EXTRA_ROWS,
        can_edit=role in (Role.coordinator, Role.admin) and process.status == "running"
        and out.draft.status != "submitted",
        is_coordinator=role in (Role.coordinator, Role.admin),
        latest=next((v for v in reversed(out.versions) if v.kind == "draft"), None),
        errors=errors or []), status_code=status_code)


@router.get("/app/processes/{process_id}/resolution", response_class=HTMLResponse)
async def edit_page(process_id: uuid.UUID, request: Request, session: SessionDep,
                    principal: StaffUser) -> Response:
    return await _edit_page(request, session, principal, process_id)


async def _coordinator_act(request: Request, session: SessionDep, principal: Principal,
                           process_id: uuid.UUID, action: Any,
                           form: dict[str, Any] | None = None) -> Response:
    try:
        process = await process_for(session, principal, process_id, Role.coordinator)
        flash = await action(process)
    except DomainError as exc:
        if isinstance(exc, Unavailable) or exc.status_code == 404:
            raise
        await session.rollback()
        return await _edit_page(request, session, principal, process_id, errors=_errors(exc),
                                form=form, status_code=exc.status_code)
    return RedirectResponse(f"/app/processes/{process_id}/resolution?ok={flash}",
                            status_code=303)


@router.post("/app/processes/{process_id}/resolution/draft", response_class=HTMLResponse)
async def save_page(process_id: uuid.UUID, request: Request, session: SessionDep,
                    principal: StaffUser) -> Response:
    data = sections_from_form(await request.form())

    async def go(process: Any) -> str:
        await service.update_draft(session, process, service.parse_sections(data),
                                   principal.email)
        return "saved"

    return await _coordinator_act(request, session, principal, process_id, go, form=data)


@router.post("/app/processes/{process_id}/resolution/compile", response_class=HTMLResponse)
async def compile_page(process_id: uuid.UUID, request: Request, session: SessionDep,
                       principal: StaffUser) -> Response:
    async def go(process: Any) -> str:
        await service.compile_version(session, process, principal.email)
        return "compiled"

    return await _coordinator_act(request, session, principal, process_id, go)


@router.post("/app/processes/{process_id}/resolution/versions/{number:int}/approval",
             response_class=HTMLResponse)
async def approval_page(process_id: uuid.UUID, number: int, request: Request,
                        session: SessionDep, principal: StaffUser) -> Response:
    async def go(process: Any) -> str:
        version = await service.version_of(session, process, number)
        approval = await service.open_version_approval(session, process, version,
                                                       principal.email)
        await control.start_approval(session, await _client(request), approval)
        return "approval"

    return await _coordinator_act(request, session, principal, process_id, go)


@router.post("/app/processes/{process_id}/resolution/submit", response_class=HTMLResponse)
async def submit_page(process_id: uuid.UUID, request: Request, session: SessionDep,
                      principal: StaffUser) -> Response:
    async def go(process: Any) -> str:
        version, wf_input = await service.submit(session, process, None, principal.email)
        await control.start_resolution(session, await _client(request), version, wf_input)
        return "submitted"

    return await _coordinator_act(request, session, principal, process_id, go)


@router.get("/app/processes/{process_id}/resolution/preview", response_class=HTMLResponse)
async def preview_page(process_id: uuid.UUID, request: Request, session: SessionDep,
                       principal: StaffUser) -> Response:
    process = await process_for(session, principal, process_id, Role.coordinator)
    return HTMLResponse(await service.preview_html(session, process))


# --- clerk ---------------------------------------------------------------------------------


@router.get("/app/clerk", response_class=HTMLResponse)
async def inbox_page(request: Request, session: SessionDep, principal: StaffUser) -> Response:
    return templates.TemplateResponse(request, "resolutions/inbox.html", _ctx(
        principal, request, inbox=await service.inbox(session, principal)))


async def _clerk_page(request: Request, session: SessionDep, principal: Principal,
                      resolution_id: uuid.UUID, *, errors: list[dict[str, str]] | None = None,
                      form: dict[str, str] | None = None, status_code: int = 200) -> Response:
    session.expire_all()
    version, process = await service.resolution_for(session, principal, resolution_id)
    out = await service.version_out(session, version, process)
    is_clerk = principal.role_in(version.organisation_id) in (Role.clerk, Role.admin)
    deciding = next((c for c in version.content["sections"].get("beratungsfolge", [])
                     if c["role"] == "entscheidung"), None)
    return templates.TemplateResponse(request, "resolutions/clerk.html", _ctx(
        principal, request, v=out, sections=version.content["sections"],
        time_zone=await organisation_time_zone(session, version.organisation_id),
        actions=service.allowed_actions(version.status) if is_clerk else [],
        deciding=deciding, today=date.today().isoformat(), errors=errors or [],
        form=form or {}), status_code=status_code)


@router.get("/app/clerk/resolutions/{resolution_id}", response_class=HTMLResponse)
async def clerk_page(resolution_id: uuid.UUID, request: Request, session: SessionDep,
                     principal: StaffUser) -> Response:
    return await _clerk_page(request, session, principal, resolution_id)


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("Bitte ein Datum im Format JJJJ-MM-TT angeben.",
                               code="invalid_date",
                               details=[{"field": field, "message": "kein gültiges Datum"}]
                               ) from None


@router.post("/app/clerk/resolutions/{resolution_id}/{action}", response_class=HTMLResponse)
async def clerk_act(resolution_id: uuid.UUID, action: str, request: Request,
                    session: SessionDep, principal: StaffUser) -> Response:
    raw = await request.form()
    form = {k: str(v) for k, v in raw.items() if k != "csrf_token"}
    try:
        await service.resolution_for(session, principal, resolution_id, Role.clerk)
        client = await _client(request)
        if action == "received":
            await control.received(client, resolution_id, ReceivedInput(actor=principal.email))
        elif action == "scheduled":
            scheduling = ScheduledInput(
                body=form.get("body", ""), actor=principal.email,
                meeting_date=_date(form.get("meeting_date", ""), "meeting_date"))
            problems = scheduled_problems(scheduling)
            if problems:
                raise ValidationFailed(problems[0]["message"], code="invalid_decision",
                                       details=problems)
            await control.scheduled(client, resolution_id, scheduling)
        elif action == "outcome":
            outcome = form.get("outcome", "")
            if outcome not in OUTCOMES:
                raise ValidationFailed("Bitte das Ergebnis der Sitzung wählen.",
                                       code="invalid_decision")
            data = OutcomeInput(
                outcome=outcome,  # type: ignore[arg-type]
                decided_on=_date(form.get("decided_on", ""), "decided_on"),
                minutes_ref=form.get("minutes_ref", "").strip(),
                note=form.get("note", "").strip(), amendments=form.get("amendments", "").strip(),
                meeting_date=_date(form["meeting_date"], "meeting_date")
                if form.get("meeting_date") else None, actor=principal.email)
            problems = outcome_problems(data)
            if problems:
                raise ValidationFailed(problems[0]["message"], code="invalid_decision",
                                       details=problems)
            await control.outcome(client, resolution_id, data)
        else:
            raise ValidationFailed("Diese Aktion gibt es nicht.", code="unknown_action")
    except DomainError as exc:
        if isinstance(exc, Unavailable) or exc.status_code == 404:
            raise
        return await _clerk_page(request, session, principal, resolution_id,
                                 errors=_errors(exc), form=form, status_code=exc.status_code)
    return RedirectResponse(f"/app/clerk/resolutions/{resolution_id}?ok={action}",
                            status_code=303)
