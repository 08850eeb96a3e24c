"""Pages of the process engine (German, server-rendered, plain HTML forms, no JavaScript).

Coordinators: the processes of their organisations, starting one from a template, and a
process's timeline with phases, checklist and the actions allowed now. Steering members: the
approvals waiting for them and a decision form. Each form POSTs and redirects back (303) on
success; on an error the page is shown again with an error summary at the top.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from temporalio.client import Client

from api import process_control as control
from api.deps import SessionDep
from api.pages import ORG_LINKS, NavLink
from api.pages.staff_context import StaffUser, org_for, time_zone_of
from api.templating import templates
from contracts.input_rules import DATE_RANGE_MESSAGE, date_in_range
from contracts.process import (
    AdvanceInput,
    ChecklistInput,
    DecideInput,
    RescheduleInput,
    SkipInput,
)
from contracts.process_rules import is_closed, needs_approval, rule_in_words
from services.errors import DomainError, Unavailable, ValidationFailed
from services.identity.service import OrgRole, Principal
from services.models.organisation import Role
from services.processes import service
from services.resolutions import service as resolutions
from services.surveys.repository import SurveyRepository
from services.template_store.service import visible_templates

router = APIRouter(include_in_schema=False)

STATUS_LABELS = {
    "pending": "geplant", "active": "läuft", "awaiting_approval": "wartet auf Freigabe",
    "completed": "abgeschlossen", "skipped": "übersprungen", "running": "läuft",
    "approved": "freigegeben", "rejected": "abgelehnt",
}
KIND_LABELS = {
    "planning": "Planung", "event": "Veranstaltung", "participation": "Beteiligung",
    "evaluation": "Auswertung", "resolution": "Beschluss",
}
TRANSITION_LABELS = {
    "started": "Prozess gestartet", "advanced": "Phase abgeschlossen", "skipped": "übersprungen",
    "rescheduled": "Zeitplan geändert", "checklist": "Checkliste",
    "approval_requested": "Freigabe angefragt", "approval_decided": "Freigabe entschieden",
    "vote": "Stimme", "reminder": "Erinnerung versandt", "overdue": "Überfällig-Hinweis versandt",
    "completed": "Prozess abgeschlossen", "event_held": "Veranstaltung stattgefunden",
    "resolution_compiled": "Beschlussvorlage: Fassung erstellt",
    "resolution_approval_requested": "Beschlussvorlage: Freigabe angefragt",
    "resolution_submitted": "Beschlussvorlage an den Sitzungsdienst übergeben",
    "resolution_received": "Sitzungsdienst: Eingang bestätigt",
    "resolution_scheduled": "Sitzungsdienst: Sitzung eingetragen",
    "resolution_reminder": "Erinnerung an den Sitzungsdienst",
    "resolution_adopted": "Beschlossen", "resolution_amended": "Mit Änderungen beschlossen",
    "resolution_rejected": "Abgelehnt", "resolution_deferred": "Vertagt",
    "council_decided": "Beschluss des Rates",
}
# An approval's own states: "pending" is a decision waiting, not a phase still planned.
APPROVAL_LABELS = {"pending": "wartet auf Entscheidung", "approved": "freigegeben",
                   "rejected": "abgelehnt"}
RULE_LABELS = {"any": "eine Zustimmung genügt", "majority": "Mehrheit", "all": "alle",
               "quorum": "Quorum"}
FLASH = {
    "started": "Der Prozess wurde gestartet.",
    "advanced": "Die Phase wurde abgeschlossen.",
    "awaiting_approval": "Die Freigabe wurde bei der Steuerungsgruppe angefragt.",
    "completed": "Der Prozess ist abgeschlossen.",
    "skipped": "Die Phase wurde übersprungen.",
    "rescheduled": "Der Zeitplan wurde geändert.",
    "checked": "Die Checkliste wurde aktualisiert.",
    "decided": "Ihre Entscheidung wurde gespeichert.",
}


def _days(message: str, *values: str) -> list[date]:
    """Form dates (JJJJ-MM-TT) inside the window every process date keeps to."""
    try:
        days = [date.fromisoformat(v) for v in values]
    except ValueError:
        raise ValidationFailed(message, code="invalid_date") from None
    if not all(date_in_range(d) for d in days):
        raise ValidationFailed(DATE_RANGE_MESSAGE, code="date_out_of_range")
    return days


def _links(org: OrgRole) -> list[NavLink]:
    links = []
    if org.role in (Role.coordinator, Role.admin, Role.steering, Role.clerk):
        links.append(NavLink(f"/app/processes?org={org.slug}", "Beteiligungsprozesse"))
    if org.role in (Role.steering, Role.admin):
        links.append(NavLink("/app/approvals", "Freigaben der Steuerungsgruppe"))
    return links


ORG_LINKS.append(_links)


async def _client(request: Request) -> Client:
    return await request.app.state.temporal.get()  # type: ignore[no-any-return]


def _errors(exc: DomainError) -> list[dict[str, str]]:
    out = [{"message": exc.message, "code": exc.code}]
    if isinstance(exc.details, list):
        for d in exc.details:
            if isinstance(d, dict) and d.get("message") and d.get("field"):
                out.append({"message": f"{d['field']}: {d['message']}", "code": exc.code})
    return out


def _ctx(principal: Principal, **extra: Any) -> dict[str, Any]:
    return {"principal": principal, "status_labels": STATUS_LABELS, "kind_labels": KIND_LABELS,
            "transition_labels": TRANSITION_LABELS, "rule_labels": RULE_LABELS,
            "approval_labels": APPROVAL_LABELS, "rule_in_words": rule_in_words,
            # contracts.process_rules decides which phases may still change.
            "phase_closed": is_closed, **extra}


# --- process list and start --------------------------------------------------------------


async def _list_page(request: Request, session: SessionDep, principal: Principal, *,
                     errors: list[dict[str, str]] | None = None, form: dict[str, str] | None = None,
                     status_code: int = 200) -> Response:
    orgs = list(principal.orgs.values())
    wanted = request.query_params.get("org")
    shown = [o for o in orgs if wanted in (None, o.slug)] or orgs
    processes = await service.list_processes(session, [o.organisation_id for o in shown])
    can_start = [o for o in shown if o.role in (Role.coordinator, Role.admin)]
    return templates.TemplateResponse(request, "processes/list.html", _ctx(
        principal, processes=processes, orgs=shown, can_start=can_start,
        templates_=await visible_templates(session, [o.organisation_id for o in shown],
                                           "process"), errors=errors or [], form=form or {},
        today=date.today().isoformat()), status_code=status_code)


@router.get("/app/processes", response_class=HTMLResponse)
async def list_page(request: Request, session: SessionDep, principal: StaffUser) -> Response:
    return await _list_page(request, session, principal)


@router.post("/app/processes", response_class=HTMLResponse)
async def start_page(
    request: Request, session: SessionDep, principal: StaffUser,
    org: Annotated[str, Form()] = "", template: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "", starts_on: Annotated[str, Form()] = "",
) -> Response:
    form = {"org": org, "template": template, "title": title, "starts_on": starts_on}
    try:
        [start_day] = _days("Bitte ein Startdatum im Format JJJJ-MM-TT angeben.", starts_on)
        organisation = await org_for(session, principal, org, Role.coordinator)
        process, wf_input = await service.create_process(
            session, organisation, template_key=template, title=title, starts_on=start_day,
            actor=principal.email)
        await control.start_committed(session, await _client(request), process, wf_input)
    except DomainError as exc:
        await session.rollback()
        return await _list_page(request, session, principal, errors=_errors(exc), form=form,
                                status_code=exc.status_code)
    return RedirectResponse(f"/app/processes/{process.id}?ok=started", status_code=303)


# --- one process ---------------------------------------------------------------------------


async def _detail_page(request: Request, session: SessionDep, principal: Principal,
                       process_id: uuid.UUID, *, errors: list[dict[str, str]] | None = None,
                       entered: dict[str, str] | None = None,
                       status_code: int = 200) -> Response:
    session.expire_all()
    process = await service.process_for(session, principal, process_id)
    out = await service.process_out(session, process)
    role = principal.role_in(process.organisation_id)
    current = next((p for p in out.phases if p.key == out.current_phase), None)
    ok = request.query_params.get("ok")
    tz = await time_zone_of(session, process.organisation_id)
    return templates.TemplateResponse(request, "processes/detail.html", _ctx(
        principal, process=out, timeline=await service.timeline(session, process),
        approvals=await service.approvals_of_process(session, process, principal),
        can_act=role in (Role.coordinator, Role.admin) and out.status == "running",
        current=current,
        # The workflow's rule (contracts.process_rules), not a copy of it in the template.
        needs_approval=current is not None and needs_approval(
            current.gate is not None, (current.gate or {}).get("approval_status")),
        phase_titles={p.key: p.title for p in out.phases},
        # Linked from the page: each survey's results.
        surveys=await SurveyRepository.from_session(session).surveys_of_process(process.id),
        errors=errors or [], entered=entered or {}, flash=FLASH.get(ok or ""), tz=tz),
        status_code=status_code)


@router.get("/app/processes/{process_id}", response_class=HTMLResponse)
async def detail_page(process_id: uuid.UUID, request: Request, session: SessionDep,
                      principal: StaffUser) -> Response:
    return await _detail_page(request, session, principal, process_id)


async def _act(request: Request, session: SessionDep, principal: Principal,
               process_id: uuid.UUID, action: Any,
               entered: dict[str, str] | None = None) -> Response:
    """Run one coordinator action; redirect back on success, show the page with errors (and
    what was typed, `entered`) if not."""
    try:
        await service.process_for(session, principal, process_id, Role.coordinator)
        flash = await action(await _client(request))
    except DomainError as exc:
        if isinstance(exc, Unavailable) or exc.status_code == 404 and exc.code.startswith(
                "process_"):
            raise
        return await _detail_page(request, session, principal, process_id, errors=_errors(exc),
                                  entered=entered, status_code=exc.status_code)
    return RedirectResponse(f"/app/processes/{process_id}?ok={flash}", status_code=303)


@router.post("/app/processes/{process_id}/advance", response_class=HTMLResponse)
async def advance_page(
    process_id: uuid.UUID, request: Request, session: SessionDep, principal: StaffUser,
    expected_current: Annotated[str, Form()] = "",
    override_reason: Annotated[str, Form()] = "",
) -> Response:
    async def go(client: Client) -> str:
        await resolutions.require_not_at_clerk(
            session, await service.process_for(session, principal, process_id),
            expected_current)
        result = await control.advance(client, process_id, AdvanceInput(
            expected_current=expected_current, override_reason=override_reason.strip() or None,
            actor=principal.email))
        return result.status

    return await _act(request, session, principal, process_id, go)


@router.post("/app/processes/{process_id}/phases/{key}/skip", response_class=HTMLResponse)
async def skip_page(process_id: uuid.UUID, key: str, request: Request, session: SessionDep,
                    principal: StaffUser, reason: Annotated[str, Form()] = "") -> Response:
    async def go(client: Client) -> str:
        await resolutions.require_not_at_clerk(
            session, await service.process_for(session, principal, process_id), key)
        await control.skip(client, process_id, SkipInput(
            phase_key=key, reason=reason, actor=principal.email))
        return "skipped"

    return await _act(request, session, principal, process_id, go,
                      entered={"phase": key, "reason": reason})


@router.post("/app/processes/{process_id}/phases/{key}/reschedule", response_class=HTMLResponse)
async def reschedule_page(
    process_id: uuid.UUID, key: str, request: Request, session: SessionDep,
    principal: StaffUser, planned_start: Annotated[str, Form()] = "",
    planned_end: Annotated[str, Form()] = "",
) -> Response:
    async def go(client: Client) -> str:
        start, end = _days("Bitte Beginn und Ende im Format JJJJ-MM-TT angeben.",
                           planned_start, planned_end)
        await control.reschedule(client, process_id, RescheduleInput(
            phase_key=key, planned_start=start, planned_end=end,
            actor=principal.email))
        return "rescheduled"

    return await _act(request, session, principal, process_id, go, entered={
        "phase": key, "planned_start": planned_start, "planned_end": planned_end})


@router.post("/app/processes/{process_id}/phases/{key}/checklist/{item}",
             response_class=HTMLResponse)
async def checklist_page(process_id: uuid.UUID, key: str, item: str, request: Request,
                         session: SessionDep, principal: StaffUser,
                         done: Annotated[str, Form()] = "1") -> Response:
    async def go(client: Client) -> str:
        await control.check_item(client, process_id, ChecklistInput(
            phase_key=key, item_key=item, done=done == "1",
            actor=principal.email))
        return "checked"

    return await _act(request, session, principal, process_id, go)


# --- approvals -----------------------------------------------------------------------------


@router.get("/app/approvals", response_class=HTMLResponse)
async def approvals_page(request: Request, session: SessionDep,
                         principal: StaffUser) -> Response:
    approvals = await service.approvals_waiting_for(session, principal)
    # Each approval's deadline in its organisation's zone (a steering member may sit in
    # several organisations); without one the list fell back to the default zone.
    zones: dict[uuid.UUID, ZoneInfo] = {}
    for a in approvals:
        process = await service.process_for(session, principal, a.process_id)
        zones[a.id] = await time_zone_of(session, process.organisation_id)
    return templates.TemplateResponse(request, "processes/approvals.html", _ctx(
        principal, approvals=approvals, zones=zones))


async def _approval_page(request: Request, session: SessionDep, principal: Principal,
                         approval_id: uuid.UUID, *, errors: list[dict[str, str]] | None = None,
                         form: dict[str, str] | None = None, status_code: int = 200) -> Response:
    session.expire_all()
    approval, out = await service.approval_for(session, principal, approval_id)
    context = await service.approval_context(session, approval)
    return templates.TemplateResponse(request, "processes/approval.html", _ctx(
        principal, approval=out, context=context, tz=ZoneInfo(context.time_zone),
        # contracts.process_rules: the words come from the rule that decides.
        rule_words=rule_in_words(out.rule, out.quorum, len(out.voters)),  # type: ignore[arg-type]
        errors=errors or [], form=form or {},
        flash=FLASH.get(request.query_params.get("ok") or "")), status_code=status_code)


@router.get("/app/approvals/{approval_id}", response_class=HTMLResponse)
async def approval_page(approval_id: uuid.UUID, request: Request, session: SessionDep,
                        principal: StaffUser) -> Response:
    return await _approval_page(request, session, principal, approval_id)


@router.post("/app/approvals/{approval_id}/decision", response_class=HTMLResponse)
async def decision_page(approval_id: uuid.UUID, request: Request, session: SessionDep,
                        principal: StaffUser, decision: Annotated[str, Form()] = "",
                        comment: Annotated[str, Form()] = "") -> Response:
    form = {"decision": decision, "comment": comment}
    try:
        approval, _ = await service.approval_for(session, principal, approval_id)
        service.require_voter(principal, approval)
        if decision not in ("approve", "reject"):
            raise ValidationFailed("Bitte wählen Sie „Zustimmen“ oder „Ablehnen“.",
                                   code="decision_required")
        await control.decide(await _client(request), approval_id, DecideInput(
            user_id=principal.user_id, email=principal.email, decision=decision,  # type: ignore[arg-type]
            comment=comment))
    except DomainError as exc:
        if exc.status_code == 404 or isinstance(exc, Unavailable):
            raise
        return await _approval_page(request, session, principal, approval_id,
                                    errors=_errors(exc), form=form,
                                    status_code=exc.status_code)
    return RedirectResponse(f"/app/approvals/{approval_id}?ok=decided", status_code=303)
