"""The coordinator's pages of events (German, plain HTML forms, no JavaScript).

- `/app/processes/{id}/events`: the events of a process and a form for a new one;
- `/app/events/{id}`: facts and an edit form (reschedule, capacity, cancel), registrations with
  their needs, the waitlist, exports, who came (suppressed counts);
- `/app/events/{id}/checkin`: the phone page at the door: type (or scan into) the code, tick
  people off the list, add a walk-in, upload an attendance list.

Every form carries the CSRF token and redirects (303) on success; an error shows the page again
with an error summary.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from api.deps import SessionDep, get_settings_dep
from api.meeting_control import commit_and_wake, tick_diversity_item
from api.pages import survey_multipliers as multiplier_pages
from api.pages.staff_context import StaffUser
from api.templating import templates
from services.errors import DomainError, ValidationFailed
from services.identity.service import Principal, organisation_time_zone
from services.meetings import service as meetings
from services.meetings.diversity import DIMENSION_LABELS
from services.meetings.mails import format_span
from services.meetings.schemas import MeetingCreate, MeetingUpdate
from services.meetings.summary import STATUS_LABELS
from services.models.organisation import Role
from services.processes.service import process_for
from services.surveys import multiplier

router = APIRouter(include_in_schema=False)

STATUS = {**STATUS_LABELS, "registered": "angemeldet",
          "waitlisted": "Warteliste", "pending": "unbestätigt", "declined": "abgesagt",
          "cancelled_reg": "abgemeldet"}
FLASH = {"created": "Die Veranstaltung wurde angelegt.", "saved": "Die Änderungen sind "
         "gespeichert.", "cancelled": "Die Anmeldung wurde storniert.",
         "checked": "Eingecheckt.", "already": "War bereits eingecheckt.",
         "walkin": "Die Person ohne Anmeldung ist eingecheckt.",
         "uploaded": "Die Anwesenheitsliste wurde übernommen."}
NEEDS = {"wheelchair": "Rollstuhl", "sign_language": "Gebärdensprache",
         "childcare": "Kinderbetreuung"}
DIMENSIONS = DIMENSION_LABELS


def _errors(exc: DomainError | ValidationError) -> list[dict[str, str]]:
    if isinstance(exc, ValidationError):
        return [{"message": f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}",
                 "code": "validation_error"} for e in exc.errors()]
    out = [{"message": exc.message, "code": exc.code}]
    if isinstance(exc.details, list):
        for d in exc.details:
            if isinstance(d, dict) and d.get("message") and d.get("field"):
                out.append({"message": f"{d['field']}: {d['message']}", "code": exc.code})
    return out


def _local_input(value: datetime | None, tz: str) -> str:
    """A value for <input type="datetime-local"> in the organisation's zone."""
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M") if value else ""


def _needs(needs: dict[str, Any]) -> str:
    parts = [label for key, label in NEEDS.items() if needs.get(key)]
    if needs.get("interpreter"):
        parts.append(f"Dolmetschen: {needs['interpreter']}")
    if needs.get("note"):
        parts.append(str(needs["note"]))
    return ", ".join(parts)


def _form_dates(form: Any, *names: str) -> dict[str, str | None]:
    return {n: (str(form.get(n) or "").strip() or None) for n in names}


# --- events of a process -------------------------------------------------------------------


async def _list(request: Request, session: AsyncSession, principal: Principal,
                process_id: uuid.UUID, *, errors: list[dict[str, str]] | None = None,
                form: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    session.expire_all()
    process = await process_for(session, principal, process_id)
    found = await meetings.meetings_of_process(session, process_id)
    tz = await organisation_time_zone(session, process.organisation_id)
    rows = [{"m": m, "when": format_span(m, tz, "de"),
             "status": STATUS.get(m.status, m.status)} for m in found]
    phases = [(p.get("key"), p.get("title") or p.get("key"))
              for p in (process.template_snapshot or {}).get("phases", [])]
    can_edit = principal.role_in(process.organisation_id) in (Role.coordinator, Role.admin)
    return templates.TemplateResponse(request, "meetings/list.html", {
        "principal": principal, "process": process, "rows": rows, "phases": phases,
        "can_edit": can_edit, "errors": errors or [], "form": form or {},
        "diversity": await meetings.diversity(session, process_id=process_id),
        "dimension_labels": DIMENSIONS,
        "flash": FLASH.get(request.query_params.get("ok") or "")}, status_code=status_code)


@router.get("/app/processes/{process_id}/events", response_class=HTMLResponse)
async def list_page(process_id: uuid.UUID, request: Request, session: SessionDep,
                    principal: StaffUser) -> Response:
    return await _list(request, session, principal, process_id)


@router.post("/app/processes/{process_id}/events", response_class=HTMLResponse)
async def create_page(process_id: uuid.UUID, request: Request, session: SessionDep,
                      principal: StaffUser) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in (
        "phase", "title", "description", "starts_at", "ends_at", "location", "accessibility",
        "online_url", "capacity")}
    try:
        process = await process_for(session, principal, process_id, Role.coordinator)
        body = MeetingCreate.model_validate({
            **{k: v for k, v in values.items() if v != ""},
            "capacity": values["capacity"] or "0", "public": form.get("public") == "1"})
        meeting = await meetings.create_meeting(session, process, body,
                                                actor=principal.email)
    except (DomainError, ValidationError) as exc:
        await session.rollback()
        return await _list(request, session, principal, process_id, errors=_errors(exc),
                           form=values, status_code=getattr(exc, "status_code", 422))
    return RedirectResponse(f"/app/events/{meeting.id}?ok=created", status_code=303)


# --- one event -------------------------------------------------------------------------------


async def _detail(request: Request, session: AsyncSession, principal: Principal,
                  meeting_id: uuid.UUID, *, errors: list[dict[str, str]] | None = None,
                  entered: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    session.expire_all()
    meeting = await meetings.meeting_for(session, principal, meeting_id, *meetings.READERS)
    process = await process_for(session, principal, meeting.process_id)
    tz = await organisation_time_zone(session, meeting.organisation_id)
    can_edit = principal.role_in(meeting.organisation_id) in (Role.coordinator, Role.admin)
    rows = await meetings.registration_rows(session, meeting) if can_edit else []
    settings = get_settings_dep(request)
    # The event's multiplier links (the same part as on the survey's links page) and how the
    # registrations came; both staff-only like the list of names.
    links = multiplier_pages.link_context(
        multiplier_pages.EVENT, principal, meeting,
        await multiplier_pages.links_for(session, meeting, settings),
        await multiplier.partner_choices(session, meeting), ZoneInfo(tz)) if can_edit else {}
    return templates.TemplateResponse(request, "meetings/detail.html", {
        "principal": principal, "m": meeting, "out": await meetings.meeting_out(session, meeting),
        # The breadcrumb names the process, as the events list does.
        "process_title": process.title,
        "when": format_span(meeting, tz, "de"), "status": STATUS, "can_edit": can_edit,
        "registered": [r for r in rows if r.status == "registered"],
        "waitlist": [r for r in rows if r.status == "waitlisted"],
        "others": [r for r in rows if r.status not in ("registered", "waitlisted")],
        "needs": _needs, "tz": ZoneInfo(tz),
        "inputs": {"starts_at": _local_input(meeting.starts_at, tz),
                   "ends_at": _local_input(meeting.ends_at, tz),
                   "registration_opens_at": _local_input(meeting.registration_opens_at, tz),
                   "registration_deadline": _local_input(meeting.registration_deadline, tz)},
        "diversity": await meetings.diversity(session, meeting_id=meeting_id),
        "diversity_item": await meetings.diversity_item(session, meeting),
        "dimension_labels": DIMENSIONS, "errors": errors or [], "entered": entered or {},
        "flash": FLASH.get(request.query_params.get("ok") or ""),
        "multiplier_links": links,
        "channels": await meetings.channels(session, meeting) if can_edit else None,
    }, status_code=status_code)


EDIT_FIELDS = ("title", "description", "location", "accessibility", "capacity",
               "reminder_hours", "online_url", "starts_at", "ends_at", "registration_opens_at",
               "registration_deadline")


@router.get("/app/events/{meeting_id}", response_class=HTMLResponse)
async def detail_page(meeting_id: uuid.UUID, request: Request, session: SessionDep,
                      principal: StaffUser) -> Response:
    return await _detail(request, session, principal, meeting_id)


@router.post("/app/events/{meeting_id}", response_class=HTMLResponse)
async def edit_page(meeting_id: uuid.UUID, request: Request, session: SessionDep,
                    principal: StaffUser) -> Response:
    form = await request.form()
    try:
        await meetings.meeting_for(session, principal, meeting_id, Role.coordinator)
        if form.get("aktion") == "absagen":
            body = MeetingUpdate(status="cancelled")
        elif form.get("aktion") == "stattgefunden":
            body = MeetingUpdate(status="held", minutes=str(form.get("minutes") or ""))
        else:
            data: dict[str, Any] = {k: str(form.get(k) or "") for k in (
                "title", "description", "location", "accessibility", "capacity",
                "reminder_hours")}
            data.update({k: v for k, v in _form_dates(
                form, "starts_at", "ends_at", "registration_opens_at",
                "registration_deadline").items()})
            data["online_url"] = str(form.get("online_url") or "").strip() or None
            data["public"] = form.get("public") == "1"
            body = MeetingUpdate.model_validate(data)
        meeting = await meetings.update_meeting(session, meeting_id, body,
                                                actor=principal.email)
    except (DomainError, ValidationError) as exc:
        await session.rollback()
        # A refused edit keeps what was typed (the other two forms send none of it).
        entered: dict[str, Any] = {}
        if form.get("aktion") not in ("absagen", "stattgefunden"):
            entered = {k: str(form.get(k) or "") for k in EDIT_FIELDS}
            entered["public"] = form.get("public") == "1"
        return await _detail(request, session, principal, meeting_id, errors=_errors(exc),
                             entered=entered, status_code=getattr(exc, "status_code", 422))
    await commit_and_wake(request, session, meeting_id)
    if form.get("aktion") == "stattgefunden":
        await tick_diversity_item(request, session, meeting, principal.email)
    return RedirectResponse(f"/app/events/{meeting_id}?ok=saved", status_code=303)


@router.post("/app/events/{meeting_id}/registrations/{registration_id}/cancel",
             response_class=HTMLResponse)
async def cancel_page(meeting_id: uuid.UUID, registration_id: uuid.UUID, request: Request,
                      session: SessionDep, principal: StaffUser) -> Response:
    try:
        reg = await meetings.registration_for_staff(session, principal, registration_id)
        if reg.meeting_id != meeting_id:
            raise ValidationFailed("Die Anmeldung gehört zu einer anderen Veranstaltung.")
        await meetings.cancel_registration(session, registration_id, actor=principal.email)
    except DomainError as exc:
        await session.rollback()
        return await _detail(request, session, principal, meeting_id, errors=_errors(exc),
                             status_code=exc.status_code)
    await commit_and_wake(request, session, meeting_id)
    return RedirectResponse(f"/app/events/{meeting_id}?ok=cancelled", status_code=303)


# --- check-in at the door ----------------------------------------------------------------------


async def _checkin(request: Request, session: AsyncSession, principal: Principal,
                   meeting_id: uuid.UUID, *, errors: list[dict[str, str]] | None = None,
                   result: Any = None, unknown: list[Any] | None = None,
                   status_code: int = 200) -> Response:
    session.expire_all()
    meeting = await meetings.meeting_for(session, principal, meeting_id, Role.coordinator)
    process = await process_for(session, principal, meeting.process_id)
    rows = [r for r in await meetings.registration_rows(session, meeting, ("registered",))]
    rows.sort(key=lambda r: (r.name or "").lower())
    here = sum(1 + r.companions for r in rows if r.checked_in_at)
    return templates.TemplateResponse(request, "meetings/checkin.html", {
        "principal": principal, "m": meeting, "process_title": process.title, "rows": rows,
        "here": here,
        "expected": sum(1 + r.companions for r in rows), "tz": ZoneInfo(
            await organisation_time_zone(session, meeting.organisation_id)), "needs": _needs,
        "code": request.query_params.get("code", "")[:20], "errors": errors or [],
        "result": result, "unknown": unknown or [],
        "flash": FLASH.get(request.query_params.get("ok") or "")}, status_code=status_code)


@router.get("/app/events/{meeting_id}/checkin", response_class=HTMLResponse)
async def checkin_page(meeting_id: uuid.UUID, request: Request, session: SessionDep,
                       principal: StaffUser) -> Response:
    return await _checkin(request, session, principal, meeting_id)


async def _door(request: Request, session: AsyncSession, principal: Principal,
                meeting_id: uuid.UUID, action: Any) -> Response:
    try:
        await meetings.meeting_for(session, principal, meeting_id, Role.coordinator)
        flash = await action()
    except DomainError as exc:
        await session.rollback()
        return await _checkin(request, session, principal, meeting_id, errors=_errors(exc),
                              status_code=exc.status_code)
    if isinstance(flash, Response):
        return flash
    return RedirectResponse(f"/app/events/{meeting_id}/checkin?ok={flash}", status_code=303)


@router.post("/app/events/{meeting_id}/checkin", response_class=HTMLResponse)
async def checkin_code(meeting_id: uuid.UUID, request: Request, session: SessionDep,
                       principal: StaffUser) -> Response:
    form = await request.form()

    async def act() -> str:
        result = await meetings.check_in_code(session, meeting_id, str(form.get("code") or ""),
                                              actor=principal.email)
        return "checked" if result.new else "already"
    return await _door(request, session, principal, meeting_id, act)


@router.post("/app/events/{meeting_id}/checkin/{registration_id}", response_class=HTMLResponse)
async def checkin_listed(meeting_id: uuid.UUID, registration_id: uuid.UUID, request: Request,
                         session: SessionDep, principal: StaffUser) -> Response:
    async def act() -> str:
        result = await meetings.check_in_registration(
            session, meeting_id, registration_id, actor=principal.email)
        return "checked" if result.new else "already"
    return await _door(request, session, principal, meeting_id, act)


@router.post("/app/events/{meeting_id}/walk-in", response_class=HTMLResponse)
async def walk_in(meeting_id: uuid.UUID, request: Request, session: SessionDep,
                  principal: StaffUser) -> Response:
    form = await request.form()

    async def act() -> str:
        try:
            companions = int(str(form.get("companions") or "0"))
        except ValueError:
            raise ValidationFailed("Begleitpersonen als Zahl angeben.", details=[
                {"field": "companions", "message": "keine Zahl"}]) from None
        await meetings.add_walk_in(session, meeting_id, name=str(form.get("name") or ""),
                                   companions=companions,
                                   actor=principal.email)
        return "walkin"
    return await _door(request, session, principal, meeting_id, act)


@router.post("/app/events/{meeting_id}/attendance", response_class=HTMLResponse)
async def attendance(meeting_id: uuid.UUID, request: Request, session: SessionDep,
                     principal: StaffUser) -> Response:
    form = await request.form()

    async def act() -> str | Response:
        upload = form.get("file")
        data = await upload.read() if isinstance(upload, UploadFile) else b""
        result = await meetings.import_attendance_file(
            session, meeting_id, data, actor=principal.email)
        if result.unknown:
            await session.commit()
            return await _checkin(request, session, principal, meeting_id, result=result,
                                  unknown=result.unknown)
        return "uploaded"
    return await _door(request, session, principal, meeting_id, act)
