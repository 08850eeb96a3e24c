"""Events of a process (API.md "Events and approvals"): plan and edit, registrations,
the participant's registration by personal link, the public registration with double opt-in,
and the process's public .ics feed.

Paths under /api/v1/events/{id} take a UUID only (`:uuid`), so the domain event feed's
/api/v1/events and /api/v1/events/stream (api/routes/events.py) can never match here.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, UploadFile, status
from pydantic import BaseModel, Field

from api.deps import CurrentUser, SessionDep, SettingsDep
from api.meeting_control import commit_and_wake, tick_diversity_item
from api.ratelimit import participation_limits, public_registration_limits
from services.meetings import calendar
from services.meetings import service as meetings
from services.meetings.diversity import DiversityOut
from services.meetings.schemas import (
    MeetingCreate,
    MeetingOut,
    MeetingUpdate,
    PublicRegistrationIn,
    RegistrationIn,
    RegistrationOut,
    RegistrationRow,
)
from services.models.organisation import Role
from services.processes.service import process_for
from services.stakeholders.addresses import smtp_address

router = APIRouter(prefix="/api/v1", tags=["events"])
participation = APIRouter(prefix="/api/v1/participation", tags=["participation"])

XLSX = meetings.XLSX
STATUS_FILTER = ("registered", "waitlisted", "cancelled", "declined", "pending")


@router.post("/processes/{process_id}/events", response_model=MeetingOut,
             status_code=status.HTTP_201_CREATED)
async def create_event(process_id: uuid.UUID, body: MeetingCreate, session: SessionDep,
                       principal: CurrentUser) -> MeetingOut:
    process = await process_for(session, principal, process_id, Role.coordinator)
    meeting = await meetings.create_meeting(session, process, body, actor=principal.email)
    return await meetings.meeting_out(session, meeting)


@router.get("/processes/{process_id}/events", response_model=list[MeetingOut])
async def list_events(process_id: uuid.UUID, session: SessionDep,
                      principal: CurrentUser) -> list[MeetingOut]:
    await process_for(session, principal, process_id)
    return [await meetings.meeting_out(session, m)
            for m in await meetings.meetings_of_process(session, process_id)]


@router.get("/processes/{process_id}/events.ics", response_class=Response,
            responses={200: {"content": {"text/calendar": {}}}})
async def public_feed(process_id: uuid.UUID, session: SessionDep,
                      settings: SettingsDep) -> Response:
    """The subscribable calendar of the process's public events (no login: a calendar app
    subscribes to it; only events marked public are in it)."""
    from services.meetings.repository import MeetingRepository

    found = await meetings.meetings_of_process(session, process_id, public_only=True)
    tz, name = "Europe/Berlin", "Mitwirken"
    if found:
        org = await MeetingRepository.from_session(session).organisation(
            found[0].organisation_id)
        if org is not None:
            tz, name = org.time_zone or tz, org.name
    domain = smtp_address(settings.mail_from).rpartition("@")[2] or "localhost"
    body = calendar.feed(found, tz=tz, name=name, domain=domain)
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'inline; filename="veranstaltungen.ics"'})


@router.get("/events/{meeting_id:uuid}", response_model=MeetingOut)
async def read_event(meeting_id: uuid.UUID, session: SessionDep,
                     principal: CurrentUser) -> MeetingOut:
    meeting = await meetings.meeting_for(session, principal, meeting_id)
    return await meetings.meeting_out(session, meeting)


@router.patch("/events/{meeting_id:uuid}", response_model=MeetingOut)
async def update_event(meeting_id: uuid.UUID, body: MeetingUpdate, request: Request,
                       session: SessionDep, principal: CurrentUser) -> MeetingOut:
    await meetings.meeting_for(session, principal, meeting_id, Role.coordinator)
    meeting = await meetings.update_meeting(session, meeting_id, body, actor=principal.email)
    await commit_and_wake(request, session, meeting_id)
    if body.status == "held":
        await tick_diversity_item(request, session, meeting, principal.email)
    return await meetings.meeting_out(session, meeting)


@router.get("/events/{meeting_id:uuid}/diversity", response_model=DiversityOut)
async def event_diversity(meeting_id: uuid.UUID, session: SessionDep,
                          principal: CurrentUser) -> DiversityOut:
    """Who came (voluntary, unlinkable self-descriptions), small counts hidden."""
    await meetings.meeting_for(session, principal, meeting_id, *meetings.READERS)
    return await meetings.diversity(session, meeting_id=meeting_id)


@router.get("/processes/{process_id}/events/diversity", response_model=DiversityOut)
async def process_diversity(process_id: uuid.UUID, session: SessionDep,
                            principal: CurrentUser) -> DiversityOut:
    await process_for(session, principal, process_id, *meetings.READERS)
    return await meetings.diversity(session, process_id=process_id)


@router.get("/events/{meeting_id:uuid}/registrations", response_model=list[RegistrationRow])
async def list_registrations(
    meeting_id: uuid.UUID, session: SessionDep, principal: CurrentUser,
    status_: Annotated[list[str] | None, Query(alias="status")] = None,
) -> list[RegistrationRow]:
    """Names, needs and codes: for the coordination only."""
    meeting = await meetings.meeting_for(session, principal, meeting_id, Role.coordinator)
    if status_ and any(s not in STATUS_FILTER for s in status_):
        from services.errors import ValidationFailed

        raise ValidationFailed("Unbekannter Status.", details=[
            {"field": "status", "message": "unbekannt", "allowed": list(STATUS_FILTER)}])
    return await meetings.registration_rows(session, meeting,
                                            tuple(status_) if status_ else None)


@router.post("/registrations/{registration_id}/cancel", response_model=RegistrationOut)
async def cancel_by_staff(registration_id: uuid.UUID, request: Request, session: SessionDep,
                          principal: CurrentUser) -> RegistrationOut:
    reg = await meetings.registration_for_staff(session, principal, registration_id)
    reg = await meetings.cancel_registration(session, reg.id, actor=principal.email)
    out = await meetings.registration_out(session, reg)
    await commit_and_wake(request, session, reg.meeting_id)
    return out


# --- participants -----------------------------------------------------------------------


@participation.get("/{token}/registration", response_model=RegistrationOut | None)
async def my_registration(token: str, request: Request,
                          session: SessionDep) -> RegistrationOut | None:
    participation_limits(request).check(request, token)
    invited = await meetings.open_invitation(session, token)
    if invited.registration is None:
        return None
    return await meetings.registration_out(session, invited.registration)


@participation.post("/{token}/registration", response_model=RegistrationOut)
async def register(token: str, body: RegistrationIn, request: Request,
                   session: SessionDep) -> Response:
    """`attending: true` registers (or waitlists); `false` declines or cancels, and the
    waitlist moves up."""
    participation_limits(request).check(request, token)
    out = await meetings.register_by_token(session, token, body)
    await commit_and_wake(request, session, out.meeting_id)
    # The body is RegistrationOut (the response_model documents it), serialised directly:
    # FastAPI's validation of a returned model is a measurable share of this hot path.
    return Response(out.model_dump_json(), media_type="application/json")


class Accepted(BaseModel):
    status: str = "confirmation_sent"
    message: str


@router.post("/events/{meeting_id:uuid}/public-registrations", response_model=Accepted,
             status_code=status.HTTP_202_ACCEPTED)
async def register_public(meeting_id: uuid.UUID, body: PublicRegistrationIn, request: Request,
                          session: SessionDep, settings: SettingsDep) -> Accepted:
    public_registration_limits(request).check(request, body.email)
    await meetings.register_public(session, meeting_id, body,
                                   secret_key=settings.resolved_secret_key())
    await commit_and_wake(request, session, meeting_id)
    return Accepted(message="Bitte bestätigen Sie die Anmeldung mit dem Link in der E-Mail.")


@router.post("/public-registrations/{token}/confirm", response_model=RegistrationOut)
async def confirm_public(token: str, request: Request, session: SessionDep) -> RegistrationOut:
    participation_limits(request).check(request, token)
    out = await meetings.confirm_public(session, token)
    await commit_and_wake(request, session, out.meeting_id)
    return out


@router.post("/public-registrations/{token}/cancel", response_model=RegistrationOut)
async def cancel_public(token: str, request: Request, session: SessionDep) -> RegistrationOut:
    participation_limits(request).check(request, token)
    out = await meetings.cancel_public(session, token)
    await commit_and_wake(request, session, out.meeting_id)
    return out


# --- check-in, attendance, exports -------------------------------------------------------


class CodeIn(BaseModel):
    code: str = Field(min_length=1, max_length=40)


class WalkIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    companions: int = Field(default=0, ge=0, le=20)


class CheckInOut(BaseModel):
    registration_id: uuid.UUID
    name: str | None
    companions: int
    walk_in: bool
    checked_in_at: datetime | None
    already: bool


def _checked(result: meetings.CheckIn) -> CheckInOut:
    r = result.registration
    return CheckInOut(registration_id=r.id, name=r.name, companions=r.companions,
                      walk_in=r.walk_in, checked_in_at=r.checked_in_at,
                      already=not result.new)


class AttendanceOut(BaseModel):
    recorded: int
    already: int
    unknown: list[dict[str, object]]


@router.post("/events/{meeting_id:uuid}/checkin", response_model=CheckInOut)
async def check_in(meeting_id: uuid.UUID, body: CodeIn, session: SessionDep,
                   principal: CurrentUser) -> CheckInOut:
    await meetings.meeting_for(session, principal, meeting_id, Role.coordinator)
    return _checked(await meetings.check_in_code(session, meeting_id, body.code,
                                                 actor=principal.email))


@router.post("/events/{meeting_id:uuid}/registrations/{registration_id}/checkin",
             response_model=CheckInOut)
async def check_in_listed(meeting_id: uuid.UUID, registration_id: uuid.UUID,
                          session: SessionDep, principal: CurrentUser) -> CheckInOut:
    await meetings.meeting_for(session, principal, meeting_id, Role.coordinator)
    return _checked(await meetings.check_in_registration(session, meeting_id, registration_id,
                                                         actor=principal.email))


@router.post("/events/{meeting_id:uuid}/walk-ins", response_model=CheckInOut,
             status_code=status.HTTP_201_CREATED)
async def walk_in(meeting_id: uuid.UUID, body: WalkIn, session: SessionDep,
                  principal: CurrentUser) -> CheckInOut:
    await meetings.meeting_for(session, principal, meeting_id, Role.coordinator)
    return _checked(await meetings.add_walk_in(session, meeting_id, name=body.name,
                                               companions=body.companions,
                                               actor=principal.email))


@router.post("/events/{meeting_id:uuid}/attendance", response_model=AttendanceOut)
async def upload_attendance(meeting_id: uuid.UUID, file: UploadFile, session: SessionDep,
                            principal: CurrentUser) -> AttendanceOut:
    await meetings.meeting_for(session, principal, meeting_id, Role.coordinator)
    result = await meetings.import_attendance_file(session, meeting_id, await file.read(),
                                                   actor=principal.email)
    return AttendanceOut(recorded=result.recorded, already=result.already,
                         unknown=[{"line": n, "value": v, "message": m}
                                  for n, v, m in result.unknown])


@router.get("/events/{meeting_id:uuid}/{which}.{fmt}", response_class=Response,
            responses={200: {"content": {"text/csv": {}, XLSX: {}}}})
async def export(meeting_id: uuid.UUID, which: str, fmt: str, session: SessionDep,
                 principal: CurrentUser) -> Response:
    """registrations | waitlist | attendance, as .csv or .xlsx."""
    meeting = await meetings.meeting_for(session, principal, meeting_id, Role.coordinator)
    body, media, name = await meetings.export_list(session, meeting, which, fmt)
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
