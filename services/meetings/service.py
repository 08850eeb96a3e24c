"""Rules of events (meetings): planning, registration and waitlist, changes and their mails.

Places: every change of `places_taken` happens while the event's row is locked (SELECT ... FOR
UPDATE), so concurrent registrations are placed one after another in the order they got the
lock; `seq` (assigned while the lock is held) is that order, and the waitlist moves up by it.
The table's check constraint refuses any overbooking a future code path might attempt.

The waitlist is strictly first come, first served: while anyone waits, a newcomer waits too
(even if one place is free and the first in line needs three), and promotion stops at the first
person who does not fit.

Mails are queued in `meeting_mails` in the same transaction as the change they report (an
outbox); the event's workflow delivers them (services/meetings/delivery.py). The caller asks
the workflow to look (api/meeting_control.py) after the commit.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.meetings import MeetingSchedule
from services import i18n
from services.campaigns import receipt
from services.campaigns.tokens import hash_token
from services.errors import Conflict, Gone, NotFound, ValidationFailed
from services.events.service import record_event
from services.identity.service import Principal
from services.meetings import export
from services.meetings.diversity import (
    CHECKLIST_TITLE,
    DimensionOut,
    DiversityOut,
    dimension,
    summarise,
)
from services.meetings.links import public_token
from services.meetings.repository import HotPath, MeetingRepository
from services.meetings.schemas import (
    ChannelCount,
    MeetingCreate,
    MeetingOut,
    MeetingUpdate,
    Needs,
    PublicRegistrationIn,
    RegistrationIn,
    RegistrationOut,
    RegistrationRow,
    SelfDescription,
)
from services.models.campaign import Invitation
from services.models.meeting import Meeting, MeetingRegistration
from services.models.organisation import Role
from services.models.process import Process
from services.models.stakeholder import Stakeholder
from services.models.survey import MultiplierLink
from services.processes.repository import ProcessRepository
from services.stakeholders.addresses import normalise_email, normalise_name
from services.surveys import multiplier
from services.surveys.links_repository import LinksRepository
from services.surveys.suppression import MIN_GROUP

# No 0/O and no 1/I: the code is read aloud and typed at the door.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
# A template event starts on its phase's first day at this local time (the coordinator edits).
DEFAULT_START = time(18, 0)
DEFAULT_DURATION = timedelta(hours=2)
ACTIVE = ("registered", "waitlisted")
STAFF = (Role.coordinator,)
READERS = (Role.coordinator, Role.steering)


def checkin_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(value: str) -> str:
    """What staff type at the door: case and spaces do not matter."""
    return "".join(value.split()).upper()


def _local(value: datetime, tz: str) -> datetime:
    """A datetime without offset is local time of the organisation's zone."""
    if value.tzinfo is None:
        return value.replace(tzinfo=ZoneInfo(tz))
    return value


async def time_zone_of(repo: MeetingRepository, organisation_id: uuid.UUID) -> str:
    org = await repo.organisation(organisation_id)
    return (org.time_zone if org else None) or "Europe/Berlin"


def _event(meeting: Meeting, **data: Any) -> dict[str, Any]:
    return {"event_id": str(meeting.id), "title": meeting.title, **data}


async def _record(session: AsyncSession, meeting: Meeting, type_: str, *,
                  actor: str | None = None, **data: Any) -> None:
    await record_event(session, organisation_id=meeting.organisation_id, type=type_,
                       process_id=meeting.process_id, actor=actor, data=_event(meeting, **data))


# --- planning ---------------------------------------------------------------------------


async def create_from_template(session: AsyncSession, process: Process, time_zone: str,
                               refs: list[tuple[str, str, str, str | None]],
                               phase_starts: dict[str, date]) -> None:
    """The events a template names (`events:`), one per entry, on the first day of their
    phase at 18:00 local time, planned, unlimited: the coordinator fills in the rest."""
    tz = ZoneInfo(time_zone)
    rows = []
    for key, title, phase, description in refs:
        day = phase_starts.get(phase)
        if day is None:
            continue
        starts = datetime.combine(day, DEFAULT_START, tzinfo=tz)
        rows.append({
            "id": uuid.uuid4(), "organisation_id": process.organisation_id,
            "process_id": process.id, "phase_key": phase, "template_key": key, "title": title,
            "description": description or "", "starts_at": starts,
            "ends_at": starts + DEFAULT_DURATION, "location": "", "accessibility": "",
            "capacity": 0, "places_taken": 0, "status": "planned", "public": False,
            "reminder_hours": 24, "sequence": 0, "minutes": "", "created_by": process.created_by,
        })
    await MeetingRepository.from_session(session).insert_from_template(rows)


def _check_times(starts: datetime, ends: datetime, opens: datetime | None,
                 deadline: datetime | None) -> None:
    errors = []
    if ends <= starts:
        errors.append({"field": "ends_at", "message": "Das Ende muss nach dem Beginn liegen."})
    if opens is not None and deadline is not None and deadline <= opens:
        errors.append({"field": "registration_deadline",
                       "message": "Die Anmeldefrist muss nach dem Anmeldebeginn liegen."})
    if errors:
        raise ValidationFailed(errors[0]["message"], details=errors)


async def create_meeting(session: AsyncSession, process: Process, body: MeetingCreate, *,
                         actor: str | None) -> Meeting:
    repo = MeetingRepository.from_session(session)
    phases = [p.get("key") for p in (process.template_snapshot or {}).get("phases", [])]
    if phases and body.phase not in phases:
        raise ValidationFailed(f"Die Phase {body.phase!r} gibt es in diesem Prozess nicht.",
                               details=[{"field": "phase", "message": "unbekannte Phase",
                                         "allowed": phases}])
    tz = await time_zone_of(repo, process.organisation_id)
    starts, ends = _local(body.starts_at, tz), _local(body.ends_at, tz)
    opens = _local(body.registration_opens_at, tz) if body.registration_opens_at else None
    deadline = _local(body.registration_deadline, tz) if body.registration_deadline else None
    _check_times(starts, ends, opens, deadline)
    meeting = Meeting(
        organisation_id=process.organisation_id, process_id=process.id, phase_key=body.phase,
        title=body.title.strip(), description=body.description, starts_at=starts,
        ends_at=ends, location=body.location, accessibility=body.accessibility,
        online_url=body.online_url, capacity=body.capacity, places_taken=0,
        registration_opens_at=opens, registration_deadline=deadline, status="planned",
        public=body.public, reminder_hours=body.reminder_hours, sequence=0, minutes="",
        created_by=actor)
    repo.add(meeting)
    await session.flush()
    await session.refresh(meeting)
    await _record(session, meeting, "event.created", actor=actor, phase=meeting.phase_key,
                  starts_at=starts.isoformat(), capacity=meeting.capacity)
    return meeting


async def meeting_for(session: AsyncSession, principal: Principal, meeting_id: uuid.UUID,
                      *roles: Role) -> Meeting:
    """The event if the principal's organisation owns it (another's is a plain 404)."""
    meeting = await MeetingRepository.from_session(session).get(meeting_id)
    if meeting is None:
        raise NotFound("Veranstaltung nicht gefunden.", code="event_not_found")
    try:
        principal.require(meeting.organisation_id, *roles)
    except NotFound as exc:
        raise NotFound("Veranstaltung nicht gefunden.", code="event_not_found") from exc
    return meeting


async def meetings_of_process(session: AsyncSession, process_id: uuid.UUID, *,
                              public_only: bool = False) -> list[Meeting]:
    return await MeetingRepository.from_session(session).of_process(
        process_id, public_only=public_only)


async def meeting_out(session: AsyncSession, meeting: Meeting) -> MeetingOut:
    repo = MeetingRepository.from_session(session)
    free = None if meeting.capacity == 0 else max(meeting.capacity - meeting.places_taken, 0)
    return MeetingOut(
        id=meeting.id, process_id=meeting.process_id, phase=meeting.phase_key,
        template_key=meeting.template_key, title=meeting.title,
        description=meeting.description, starts_at=meeting.starts_at, ends_at=meeting.ends_at,
        time_zone=await time_zone_of(repo, meeting.organisation_id), location=meeting.location,
        accessibility=meeting.accessibility, online_url=meeting.online_url,
        capacity=meeting.capacity, places_taken=meeting.places_taken, places_free=free,
        waitlisted=meeting.waiting,
        registration_opens_at=meeting.registration_opens_at,
        registration_deadline=meeting.registration_deadline, status=meeting.status,
        public=meeting.public, reminder_hours=meeting.reminder_hours,
        sequence=meeting.sequence, minutes=meeting.minutes)


def placement(capacity: int, places_taken: int, waiting: int, need: int) -> str:
    """Registered while places are free and nobody waits, otherwise waitlisted (the rule;
    the hot path's SQL in services/meetings/repository.py says the same)."""
    free = capacity == 0 or places_taken + need <= capacity
    return "registered" if waiting == 0 and free else "waitlisted"


def _fits(meeting: Meeting, need: int) -> bool:
    return meeting.capacity == 0 or meeting.places_taken + need <= meeting.capacity


def _refresh_status(meeting: Meeting) -> None:
    if meeting.status in ("planned", "open", "full"):
        full = meeting.capacity != 0 and meeting.places_taken >= meeting.capacity
        meeting.status = "full" if full else "open"


async def update_meeting(session: AsyncSession, meeting_id: uuid.UUID, body: MeetingUpdate,
                         *, actor: str | None, now: datetime | None = None) -> Meeting:
    """Edit an event. A new time or place raises the SEQUENCE and mails everyone registered
    an update of their calendar entry; cancelling mails METHOD:CANCEL; a higher capacity
    moves the waitlist up."""
    now = now or datetime.now(UTC)
    repo = MeetingRepository.from_session(session)
    meeting = await repo.lock(meeting_id)
    if meeting is None:
        raise NotFound("Veranstaltung nicht gefunden.", code="event_not_found")
    if meeting.status == "cancelled":
        raise Conflict("Die Veranstaltung ist abgesagt.", code="event_cancelled")
    tz = await time_zone_of(repo, meeting.organisation_id)
    changes = body.model_dump(exclude_unset=True)
    for key in ("starts_at", "ends_at", "registration_opens_at", "registration_deadline"):
        if changes.get(key) is not None:
            changes[key] = _local(changes[key], tz)
    for key in ("title", "starts_at", "ends_at", "capacity", "public", "reminder_hours"):
        if key in changes and changes[key] is None:
            raise ValidationFailed("Dieses Feld darf nicht leer sein.",
                                   details=[{"field": key, "message": "darf nicht leer sein"}])
    starts = changes.get("starts_at", meeting.starts_at)
    ends = changes.get("ends_at", meeting.ends_at)
    _check_times(starts, ends, changes.get("registration_opens_at",
                                           meeting.registration_opens_at),
                 changes.get("registration_deadline", meeting.registration_deadline))
    capacity = changes.get("capacity", meeting.capacity)
    if capacity != 0 and capacity < meeting.places_taken:
        raise ValidationFailed(
            f"Es sind bereits {meeting.places_taken} Plätze vergeben; die Kapazität kann nicht "
            "darunter sinken.", code="capacity_below_registered",
            details=[{"field": "capacity", "message": "unter den vergebenen Plätzen",
                      "places_taken": meeting.places_taken}])
    rescheduled = any(k in changes and changes[k] != getattr(meeting, k)
                      for k in ("starts_at", "ends_at", "location", "online_url"))
    cancelled = changes.get("status") == "cancelled"
    held = changes.get("status") == "held" and meeting.status != "held"
    old_start = meeting.starts_at
    for key, value in changes.items():
        if key == "status":
            continue
        setattr(meeting, key, value)
    if "status" in changes and changes["status"] is not None:
        meeting.status = changes["status"]
    _refresh_status(meeting)
    if rescheduled or cancelled:
        meeting.sequence += 1
    await session.flush()
    if cancelled:
        await repo.raise_sequences(meeting.id, ACTIVE)
        for reg in await repo.registrations(meeting.id, ACTIVE):
            await _queue(repo, meeting, reg, "cancel", f"cancel:{reg.id}:{reg.ics_sequence}",
                         {"sequence": reg.ics_sequence, "method": "CANCEL",
                          "was": reg.status})
        await _record(session, meeting, "event.cancelled", actor=actor)
    elif rescheduled:
        await repo.raise_sequences(meeting.id, ("registered",))
        for reg in await repo.registrations(meeting.id, ("registered",)):
            await _queue(repo, meeting, reg, "update", f"update:{reg.id}:{reg.ics_sequence}",
                         {"sequence": reg.ics_sequence, "method": "REQUEST"})
        await _record(session, meeting, "event.rescheduled", actor=actor,
                      old_starts_at=old_start.isoformat(),
                      starts_at=meeting.starts_at.isoformat(), sequence=meeting.sequence)
    else:
        await _record(session, meeting, "event.updated", actor=actor,
                      fields=sorted(changes))
    if held:
        await _held(session, repo, meeting, actor=actor, now=now)
    if not cancelled and meeting.status in ("open", "full"):
        await _promote(session, repo, meeting, now)
    return meeting


async def _held(session: AsyncSession, repo: MeetingRepository, meeting: Meeting, *,
                actor: str | None, now: datetime) -> None:
    """The event took place: a step in its phase's timeline (with the minutes' start and who
    came, as counts) and a domain event. Keyed by the event, so saving again adds nothing."""
    rows = await repo.registrations(meeting.id, ("registered",))
    data = {"event_id": str(meeting.id), "title": meeting.title,
            "registered": sum(1 + r.companions for r in rows),
            "attended": sum(1 + r.companions for r in rows if r.checked_in_at),
            "minutes": meeting.minutes[:500]}
    await ProcessRepository.from_session(session).insert_transition({
        "process_id": meeting.process_id, "key": f"event:{meeting.id}:held",
        "kind": "event_held", "phase_key": meeting.phase_key, "actor": actor,
        "reason": None, "data": data, "occurred_at": now})
    await _record(session, meeting, "event.held", actor=actor,
                  registered=data["registered"], attended=data["attended"])


# --- registration ----------------------------------------------------------------------


@dataclass(frozen=True)
class Invited:
    """What a personal link opens for an event."""

    invitation: Invitation
    meeting: Meeting
    registration: MeetingRegistration | None
    language: str


async def open_invitation(session: AsyncSession, token: str) -> Invited:
    """The event behind a personal link of an event campaign (404 unknown, 410 expired)."""
    from services.campaigns.repository import CampaignRepository

    inv = None
    if len(token) <= 200:
        inv = await CampaignRepository.from_session(session).invitation_by_token_hash(
            hash_token(token))
    repo = MeetingRepository.from_session(session)
    campaign = await repo.campaign(inv.campaign_id) if inv is not None else None
    if inv is None or campaign is None or campaign.kind != "event" or campaign.target_id is None:
        raise NotFound("Dieser Link ist uns nicht bekannt.", code="token_unknown")
    if inv.expires_at is not None and inv.expires_at <= datetime.now(UTC):
        raise Gone("Dieser Link ist abgelaufen.", code="token_expired")
    meeting = await repo.get(campaign.target_id)
    if meeting is None:
        raise NotFound("Dieser Link ist uns nicht bekannt.", code="token_unknown")
    reg = await repo.registration_for_invitation(meeting.id, inv.id)
    language = i18n.supported(inv.language)
    return Invited(inv, meeting, reg, language)


def _registration_open(meeting: Meeting, now: datetime) -> None:
    if meeting.status == "cancelled":
        raise Gone("Die Veranstaltung ist abgesagt.", code="event_cancelled")
    if meeting.status == "held" or now >= meeting.starts_at:
        raise Gone("Die Veranstaltung hat bereits stattgefunden.", code="event_over")
    if meeting.registration_opens_at is not None and now < meeting.registration_opens_at:
        raise Conflict("Die Anmeldung ist noch nicht geöffnet.",
                       code="registration_not_open")
    if meeting.registration_deadline is not None and now > meeting.registration_deadline:
        raise Gone("Die Anmeldefrist ist abgelaufen.", code="registration_closed")


async def _queue(repo: MeetingRepository, meeting: Meeting, reg: MeetingRegistration,
                 kind: str, key: str, payload: dict[str, Any] | None = None) -> None:
    await repo.enqueue_mail({"idempotency_key": key, "meeting_id": meeting.id,
                             "registration_id": reg.id, "kind": kind,
                             "payload": payload or {}})


async def _place(session: AsyncSession, repo: MeetingRepository, meeting: Meeting,
                 reg: MeetingRegistration, now: datetime) -> None:
    """Registered if places are free and nobody waits, otherwise on the waitlist (the
    meeting row is locked by the caller)."""
    need = 1 + reg.companions
    if placement(meeting.capacity, meeting.places_taken, meeting.waiting, need) == "registered":
        reg.status = "registered"
        reg.registered_at = now
        meeting.places_taken += need
        await session.flush()
        await _queue(repo, meeting, reg, "confirmation",
                     f"confirmation:{reg.id}:{reg.ics_sequence}",
                     {"sequence": reg.ics_sequence, "method": "REQUEST"})
        await _record(session, meeting, "registration.created", registration_id=str(reg.id),
                      companions=reg.companions, places_taken=meeting.places_taken)
    else:
        reg.status = "waitlisted"
        meeting.waiting += 1
        await session.flush()
        position = meeting.waiting
        await _queue(repo, meeting, reg, "waitlisted", f"waitlisted:{reg.id}:{reg.seq}",
                     {"position": position})
        await _record(session, meeting, "registration.waitlisted",
                      registration_id=str(reg.id), companions=reg.companions)
    _refresh_status(meeting)
    await session.flush()


async def _promote(session: AsyncSession, repo: MeetingRepository, meeting: Meeting,
                   now: datetime) -> list[MeetingRegistration]:
    """Move the waitlist up in arrival order while the first in line fits."""
    promoted = []
    for reg in await repo.waitlist(meeting.id):
        need = 1 + reg.companions
        if not _fits(meeting, need):
            break
        reg.status = "registered"
        reg.registered_at = reg.promoted_at = now
        meeting.places_taken += need
        meeting.waiting -= 1
        await session.flush()
        await _queue(repo, meeting, reg, "promoted", f"promoted:{reg.id}:{reg.ics_sequence}",
                     {"sequence": reg.ics_sequence, "method": "REQUEST"})
        await _record(session, meeting, "registration.promoted", registration_id=str(reg.id),
                      companions=reg.companions, places_taken=meeting.places_taken)
        promoted.append(reg)
    _refresh_status(meeting)
    await session.flush()
    return promoted


async def _release(session: AsyncSession, repo: MeetingRepository, meeting: Meeting,
                   reg: MeetingRegistration, now: datetime, *, status: str = "cancelled",
                   actor: str | None = None) -> None:
    """Cancel a registration (the meeting row locked): its places go to the waitlist."""
    was = reg.status
    if was == "registered":
        meeting.places_taken -= 1 + reg.companions
        reg.ics_sequence += 1
    elif was == "waitlisted":
        meeting.waiting -= 1
    reg.status = status
    reg.cancelled_at = now
    await session.flush()
    if was == "registered":
        await _queue(repo, meeting, reg, "cancel", f"cancel:{reg.id}:{reg.ics_sequence}",
                     {"sequence": reg.ics_sequence, "method": "CANCEL", "was": was,
                      "own": True})
    await _record(session, meeting, "registration.cancelled", actor=actor,
                  registration_id=str(reg.id), was=was)
    if meeting.status in ("open", "full"):
        await _promote(session, repo, meeting, now)


async def _self_description(repo: MeetingRepository, meeting_id: uuid.UUID,
                            process_id: uuid.UUID, sd: SelfDescription | None, *,
                            channel: str = "invitation") -> bool:
    """Stored apart (no key back to the registration), origin only with its own consent.
    Returns whether anything was stored."""
    if sd is None:
        return False
    values = {
        "age_band": sd.age_band, "gender": sd.gender,
        "origin": sd.origin if sd.origin_consent else "keine_angabe",
        "group_key": sd.group or "keine_angabe",
    }
    if all(v == "keine_angabe" for v in values.values()):
        return False
    await repo.add_self_description({"meeting_id": meeting_id, "process_id": process_id,
                                     "channel": channel, **values})
    return True


async def _stakeholder(session: AsyncSession, inv: Invitation) -> Stakeholder | None:
    if inv.stakeholder_id is None:
        return None
    return await session.get(Stakeholder, inv.stakeholder_id)


async def _register_new(session: AsyncSession, token: str, body: RegistrationIn,
                        now: datetime, language: str | None) -> RegistrationOut | None:
    """The hot path of a first registration through a personal link: ONE statement, on its own,
    looks the link up, locks it, places the registration under the event's lock and writes its
    mail, domain event and receipt (`HotPath.register_by_token`), so a registration is one
    round trip. None when this is not a first registration or the event takes none now:
    nothing was written and the ordinary path decides (and says why). `language`: the one
    chosen on the page, else the invitation's."""
    if not body.attending or len(token) > 200:
        return None
    code = checkin_code()
    row = await HotPath.from_session(session).register_by_token(
        hash_token(token), now=now, registration_id=uuid.uuid4(), companions=body.companions,
        needs=json.dumps(body.needs.model_dump()), code=code, day=now.date(),
        language=i18n.normalise(language))
    if row is None:
        return None
    # Stored apart as always (no key back). On the API's path the registration's statement
    # ran on its own and is committed already, so the two do not even share a transaction;
    # on the page's path (a transaction already open) they commit together.
    await _self_description(MeetingRepository.from_session(session), row["meeting_id"],
                            row["process_id"], body.self_description)
    registered = row["status"] == "registered"
    return RegistrationOut(id=row["id"], meeting_id=row["meeting_id"], status=row["status"],
                           companions=body.companions,
                           waitlist_position=None if registered else int(row["waiting"]),
                           checkin_code=code if registered else None)


async def register_by_token(session: AsyncSession, token: str, body: RegistrationIn, *,
                            now: datetime | None = None,
                            language: str | None = None) -> RegistrationOut:
    """Register (attending) or decline/cancel (not attending) through the personal link.
    `language`: the one the participant chose on the page (the mails follow it); else the
    invitation's."""
    now = now or datetime.now(UTC)
    fast = await _register_new(session, token, body, now, language)
    if fast is not None:
        return fast
    invited = await open_invitation(session, token)
    if language is not None:
        invited = replace(invited, language=i18n.supported(language))
    repo = MeetingRepository.from_session(session)
    # The lock first, then the registration as it is now: two clicks of the same person
    # queue here and the second sees the first.
    meeting = await repo.lock(invited.meeting.id)
    assert meeting is not None
    inv = invited.invitation
    reg = await repo.registration_for_invitation(meeting.id, inv.id)
    if not body.attending:
        if reg is not None and reg.status in ACTIVE:
            await _release(session, repo, meeting, reg, now)
        elif reg is None:
            person = await _stakeholder(session, inv)
            reg = MeetingRegistration(
                meeting_id=meeting.id, organisation_id=meeting.organisation_id,
                invitation_id=inv.id, stakeholder_id=inv.stakeholder_id,
                name=person.name if person else None, email=person.email if person else None,
                language=invited.language, status="declined", companions=0, needs={},
                checkin_code=checkin_code())
            await repo.add_registration(reg)
            await _record(session, meeting, "registration.declined",
                          registration_id=str(reg.id))
        await receipt.mark_responded(session, inv.id, now.date())
        return await registration_out(session, reg)
    _registration_open(meeting, now)
    if reg is not None and reg.status in ACTIVE:
        await _change(session, repo, meeting, reg, body.companions, body.needs, now)
        return await registration_out(session, reg)
    if reg is None:
        person = await _stakeholder(session, inv)
        reg = MeetingRegistration(
            meeting_id=meeting.id, organisation_id=meeting.organisation_id,
            invitation_id=inv.id, stakeholder_id=inv.stakeholder_id,
            name=person.name if person else None, email=person.email if person else None,
            language=invited.language, status="pending", companions=body.companions,
            needs=body.needs.model_dump(), checkin_code=checkin_code())
        await repo.add_registration(reg)
    else:  # declined or cancelled before: back in at the end of the line
        await repo.requeue(reg.id)
        await session.refresh(reg)
        reg.companions = body.companions
        reg.needs = body.needs.model_dump()
        reg.cancelled_at = None
        reg.ics_sequence += 1
    await _place(session, repo, meeting, reg, now)
    await _self_description(repo, meeting.id, meeting.process_id, body.self_description)
    await receipt.mark_responded(session, inv.id, now.date())
    return await registration_out(session, reg)


async def _change(session: AsyncSession, repo: MeetingRepository, meeting: Meeting,
                  reg: MeetingRegistration, companions: int, needs: Needs,
                  now: datetime) -> None:
    """A registered or waiting person changes companions or needs."""
    reg.needs = needs.model_dump()
    delta = companions - reg.companions
    if reg.status == "registered" and delta > 0:
        if meeting.waiting or not _fits(meeting, delta):
            raise Conflict("Für weitere Begleitpersonen sind keine Plätze mehr frei.",
                           code="no_places_for_companions")
        meeting.places_taken += delta
    elif reg.status == "registered" and delta < 0:
        meeting.places_taken += delta
    reg.companions = companions
    await session.flush()
    if reg.status == "registered" and delta < 0:
        await _promote(session, repo, meeting, now)
    else:
        _refresh_status(meeting)
        await session.flush()


async def cancel_registration(session: AsyncSession, registration_id: uuid.UUID, *,
                              actor: str | None = None,
                              now: datetime | None = None) -> MeetingRegistration:
    """Staff (or a participant's page) cancels one registration; the waitlist moves up."""
    now = now or datetime.now(UTC)
    repo = MeetingRepository.from_session(session)
    reg = await repo.registration(registration_id)
    if reg is None:
        raise NotFound("Anmeldung nicht gefunden.", code="registration_not_found")
    meeting = await repo.lock(reg.meeting_id)
    assert meeting is not None
    reg = await repo.registration(registration_id)
    assert reg is not None
    if reg.status in ACTIVE:
        await _release(session, repo, meeting, reg, now, actor=actor)
    return reg


async def registration_out(session: AsyncSession, reg: MeetingRegistration
                           ) -> RegistrationOut:
    repo = MeetingRepository.from_session(session)
    position = None
    if reg.status == "waitlisted":
        position = await repo.waitlist_position(reg.meeting_id, reg.seq)
    return RegistrationOut(id=reg.id, meeting_id=reg.meeting_id, status=reg.status,
                           companions=reg.companions, waitlist_position=position,
                           checkin_code=reg.checkin_code if reg.status == "registered"
                           else None)


async def registration_rows(session: AsyncSession, meeting: Meeting,
                            statuses: tuple[str, ...] | None = None) -> list[RegistrationRow]:
    repo = MeetingRepository.from_session(session)
    rows = await repo.registrations(meeting.id, statuses)
    position = 0
    out = []
    for r in rows:
        pos = None
        if r.status == "waitlisted":
            position += 1
            pos = position
        out.append(RegistrationRow(
            id=r.id, seq=r.seq, name=r.name, email=r.email, status=r.status,
            companions=r.companions, needs=dict(r.needs or {}), walk_in=r.walk_in,
            checkin_code=r.checkin_code, waitlist_position=pos,
            checked_in_at=r.checked_in_at, registered_at=r.registered_at,
            channel=r.channel, multiplier_link_id=r.multiplier_link_id, group_key=r.group_key,
            reach_tier=r.reach_tier))
    return out


CHANNEL_LABELS = {"invitation": "Persönliche Einladung", "public": "Öffentliche Anmeldung",
                  "walk_in": "Ohne Anmeldung gekommen", "multiplier": "Multiplikatoren-Link"}


@dataclass(frozen=True)
class Channels:
    """How the registrations came: per channel, each multiplier link on its own row (named
    data the coordinator sees anyway), and the self-descriptions by channel, suppressed
    below MIN_GROUP like every other count of them (`diversity.dimension`)."""

    rows: list[ChannelCount]
    self_descriptions: DimensionOut
    min_group: int = MIN_GROUP
    labels: dict[str, str] = field(default_factory=lambda: dict(CHANNEL_LABELS))


async def channels(session: AsyncSession, meeting: Meeting) -> Channels:
    repo = MeetingRepository.from_session(session)
    rows: dict[tuple[str, uuid.UUID | None], ChannelCount] = {}
    for channel, link_id, label, status, n, companions in await repo.by_channel(meeting.id):
        key = (channel, link_id)
        row = rows.get(key) or ChannelCount(
            channel=channel, link_id=link_id,
            label=(f"{CHANNEL_LABELS['multiplier']}: {label}" if label
                   else CHANNEL_LABELS.get(channel, channel)),
            registered=0, people=0, waitlisted=0, pending=0, cancelled=0)
        if status == "registered":
            row.registered += n
            row.people += n + int(companions)
        elif status == "waitlisted":
            row.waitlisted += n
        elif status == "pending":
            row.pending += n
        else:
            row.cancelled += n
        rows[key] = row
    order = list(CHANNEL_LABELS)
    ordered = sorted(rows.values(), key=lambda r: (order.index(r.channel)
                                                  if r.channel in order else len(order),
                                                  r.label))
    return Channels(ordered, dimension("channel",
                                       await repo.self_description_channels(meeting.id)))


async def pending_mails(session: AsyncSession, meeting_id: uuid.UUID) -> int:
    return await MeetingRepository.from_session(session).pending_count(meeting_id)


# --- for the event's workflow ------------------------------------------------------------


async def schedule(session: AsyncSession, meeting_id: uuid.UUID) -> MeetingSchedule | None:
    meeting = await MeetingRepository.from_session(session).get(meeting_id)
    if meeting is None:
        return None
    return MeetingSchedule(starts_at=meeting.starts_at, reminder_hours=meeting.reminder_hours,
                           status=meeting.status)


async def queue_reminders(session: AsyncSession, meeting_id: uuid.UUID,
                          starts_at: datetime) -> int:
    """Queue the reminder for everyone registered, once per start time. Nothing when the
    event was cancelled or moved since the timer was set (its start is no longer
    `starts_at`), and not to those who registered inside the reminder window (their
    confirmation is just as fresh)."""
    repo = MeetingRepository.from_session(session)
    meeting = await repo.lock(meeting_id)
    if (meeting is None or meeting.status in ("cancelled", "held")
            or meeting.starts_at != starts_at):
        return 0
    due = starts_at - timedelta(hours=meeting.reminder_hours)
    queued = 0
    for reg in await repo.registrations(meeting_id, ("registered",)):
        if reg.registered_at is not None and reg.registered_at > due:
            continue
        queued += await repo.enqueue_mail({
            "idempotency_key": f"reminder:{reg.id}:{starts_at.isoformat()}",
            "meeting_id": meeting.id, "registration_id": reg.id, "kind": "reminder",
            "payload": {"sequence": reg.ics_sequence, "starts_at": starts_at.isoformat()}})
    return queued


# --- public registration (double opt-in) ------------------------------------------------


async def public_meeting(session: AsyncSession, meeting_id: uuid.UUID) -> Meeting:
    meeting = await MeetingRepository.from_session(session).get(meeting_id)
    if meeting is None or not meeting.public:
        raise NotFound("Veranstaltung nicht gefunden.", code="event_not_found")
    return meeting


async def register_public(session: AsyncSession, meeting_id: uuid.UUID,
                          body: PublicRegistrationIn, *, secret_key: str,
                          now: datetime | None = None) -> Meeting:
    """A public registration waits for its double opt-in: only the link mailed to the
    address places it. The answer is the same whether the address is new, waiting or
    registered, so the form tells nobody who else is coming."""
    now = now or datetime.now(UTC)
    meeting = await public_meeting(session, meeting_id)
    await _request(session, meeting, body, secret_key=secret_key, now=now)
    return meeting


async def register_by_link(session: AsyncSession, secret: str, body: PublicRegistrationIn,
                           *, secret_key: str, now: datetime | None = None) -> Meeting:
    """The public registration through a partner's multiplier link (services/surveys/
    multiplier.py): the same request and double opt-in, attributed to the link's group and
    tier and the channel `multiplier`; the event need not be public. 404 for a secret that
    is no event link's, 410/409 for a closed, expired, full or not yet open link (checked
    here without a lock so the form refuses at once; the cap itself is counted when the
    address is confirmed, see `confirm_public`)."""
    now = now or datetime.now(UTC)
    found = await multiplier.event_link(session, secret)
    if found is None:
        raise NotFound("Dieser Link ist uns nicht bekannt.", code="token_unknown")
    link, meeting = found
    refused = multiplier.refusal(link, meeting, now)
    if refused is not None:
        raise refused
    await _request(session, meeting, body, secret_key=secret_key, now=now, link=link)
    return meeting


async def _request(session: AsyncSession, meeting: Meeting, body: PublicRegistrationIn, *,
                   secret_key: str, now: datetime, link: MultiplierLink | None = None) -> None:
    """A pending registration and its opt-in mail (both public ways in)."""
    try:
        address = normalise_email(body.email)
    except ValueError as exc:
        raise ValidationFailed(str(exc), details=[{"field": "email", "message": str(exc)}]
                               ) from exc
    try:
        name = normalise_name(body.name)
    except ValueError as exc:
        raise ValidationFailed(str(exc), details=[{"field": "name", "message": str(exc)}]
                               ) from exc
    _registration_open(meeting, now)
    repo = MeetingRepository.from_session(session)
    existing = await repo.public_registration(meeting.id, address)
    if existing is not None and existing.status in ("pending", *ACTIVE):
        return
    # Where it came from (the request that is confirmed decides, a renewed one included).
    origin: dict[str, Any] = {"channel": "public", "multiplier_link_id": None,
                              "group_key": None, "reach_tier": None}
    if link is not None:
        origin = {"channel": "multiplier", "multiplier_link_id": link.id,
                  "group_key": link.group_key, "reach_tier": link.reach_tier}
    if existing is None:
        reg = MeetingRegistration(
            meeting_id=meeting.id, organisation_id=meeting.organisation_id, name=name,
            email=address, language=body.language, status="pending",
            companions=body.companions, needs=body.needs.model_dump(),
            checkin_code=checkin_code(), **origin)
        await repo.add_registration(reg)
        reg.confirm_hash = hash_token(public_token(secret_key, reg.id))
    else:  # cancelled before: asks again, confirms again
        reg = existing
        reg.status, reg.name, reg.language = "pending", name, body.language
        reg.companions, reg.needs = body.companions, body.needs.model_dump()
        for key, value in origin.items():
            setattr(reg, key, value)
        reg.ics_sequence += 1
    await session.flush()
    await _queue(repo, meeting, reg, "optin", f"optin:{reg.id}:{reg.ics_sequence}")


async def public_registration(session: AsyncSession, token: str) -> MeetingRegistration:
    reg = None
    if len(token) <= 200:
        reg = await MeetingRepository.from_session(session).by_confirm_hash(hash_token(token))
    if reg is None:
        raise NotFound("Dieser Link ist uns nicht bekannt.", code="token_unknown")
    return reg


async def confirm_public(session: AsyncSession, token: str, *,
                         self_description: SelfDescription | None = None,
                         now: datetime | None = None) -> RegistrationOut:
    """The double opt-in link: the address is confirmed, the registration placed (registered
    or waitlisted, under the event's lock like every other). A multiplier link's
    registration is counted against the link's cap here, under the link's row lock in this
    transaction (after the event's: always that order); a link closed, expired or full by
    now refuses (410/409) and the registration stays unconfirmed. The voluntary
    self-description is stored at this moment (an unconfirmed request never counts in "who
    came"), apart from the registration, with its channel only."""
    now = now or datetime.now(UTC)
    found = await public_registration(session, token)
    repo = MeetingRepository.from_session(session)
    meeting = await repo.lock(found.meeting_id)
    assert meeting is not None
    reg = await repo.registration(found.id)  # as it is now that the event is locked
    assert reg is not None
    if reg.status == "pending":
        _registration_open(meeting, now)
        if reg.multiplier_link_id is not None:
            await _count_on_link(session, meeting, reg.multiplier_link_id, now)
        await repo.requeue(reg.id)  # its place in line is the confirmation's moment
        await session.refresh(reg)
        await _place(session, repo, meeting, reg, now)
        await _self_description(repo, meeting.id, meeting.process_id, self_description,
                                channel=reg.channel)
    return await registration_out(session, reg)


async def _count_on_link(session: AsyncSession, meeting: Meeting, link_id: uuid.UUID,
                         now: datetime) -> None:
    links = LinksRepository.from_session(session)
    if await links.take(link_id, now):
        return
    link = await links.get(link_id, survey_id=None, meeting_id=meeting.id)
    refused = multiplier.refusal(link, meeting, now) if link is not None else None
    raise refused or Gone("Dieser Link nimmt keine Anmeldungen mehr an.", code="link_closed")


async def cancel_public(session: AsyncSession, token: str, *,
                        now: datetime | None = None) -> RegistrationOut:
    reg = await public_registration(session, token)
    await cancel_registration(session, reg.id, now=now)
    refreshed = await MeetingRepository.from_session(session).registration(reg.id)
    assert refreshed is not None
    return await registration_out(session, refreshed)


async def registration_for_staff(session: AsyncSession, principal: Principal,
                                 registration_id: uuid.UUID) -> MeetingRegistration:
    reg = await MeetingRepository.from_session(session).registration(registration_id)
    if reg is None:
        raise NotFound("Anmeldung nicht gefunden.", code="registration_not_found")
    try:
        principal.require(reg.organisation_id, *STAFF)
    except NotFound as exc:
        raise NotFound("Anmeldung nicht gefunden.", code="registration_not_found") from exc
    return reg


# --- check-in and attendance -------------------------------------------------------------


@dataclass(frozen=True)
class CheckIn:
    registration: MeetingRegistration
    # False when the person was already checked in (a second scan says so, changes nothing).
    new: bool


async def _mark_attended(session: AsyncSession, meeting: Meeting, reg: MeetingRegistration,
                         *, actor: str | None, how: str, now: datetime) -> CheckIn:
    if reg.checked_in_at is not None:
        return CheckIn(reg, False)
    reg.checked_in_at = now
    await session.flush()
    await _record(session, meeting, "attendance.recorded", actor=actor,
                  registration_id=str(reg.id), how=how, companions=reg.companions,
                  walk_in=reg.walk_in)
    return CheckIn(reg, True)


async def check_in_code(session: AsyncSession, meeting_id: uuid.UUID, code: str, *,
                        actor: str | None, now: datetime | None = None) -> CheckIn:
    """At the door: the code from the confirmation (typed or scanned)."""
    now = now or datetime.now(UTC)
    repo = MeetingRepository.from_session(session)
    meeting = await repo.get(meeting_id)
    if meeting is None:
        raise NotFound("Veranstaltung nicht gefunden.", code="event_not_found")
    cleaned = normalise_code(code)
    reg = await repo.by_code(meeting_id, cleaned) if len(cleaned) == CODE_LENGTH else None
    if reg is None:
        raise NotFound("Diesen Code gibt es für diese Veranstaltung nicht.",
                       code="checkin_code_unknown",
                       details=[{"field": "code", "message": "unbekannter Code"}])
    if reg.status != "registered":
        raise Conflict(f"Diese Anmeldung ist nicht bestätigt (Status: {reg.status}).",
                       code="not_registered")
    return await _mark_attended(session, meeting, reg, actor=actor, how="code", now=now)


async def check_in_registration(session: AsyncSession, meeting_id: uuid.UUID,
                                registration_id: uuid.UUID, *, actor: str | None,
                                now: datetime | None = None) -> CheckIn:
    """Ticked off the list by staff."""
    now = now or datetime.now(UTC)
    repo = MeetingRepository.from_session(session)
    meeting = await repo.get(meeting_id)
    reg = await repo.registration(registration_id)
    if meeting is None or reg is None or reg.meeting_id != meeting_id:
        raise NotFound("Anmeldung nicht gefunden.", code="registration_not_found")
    if reg.status != "registered":
        raise Conflict(f"Diese Anmeldung ist nicht bestätigt (Status: {reg.status}).",
                       code="not_registered")
    return await _mark_attended(session, meeting, reg, actor=actor, how="list", now=now)


async def add_walk_in(session: AsyncSession, meeting_id: uuid.UUID, *, name: str,
                      companions: int = 0, actor: str | None,
                      now: datetime | None = None) -> CheckIn:
    """Someone who comes without registering: registered and checked in at once, counted
    against the capacity like everyone (a full room is a 409: raise the capacity first)."""
    now = now or datetime.now(UTC)
    try:
        name = normalise_name(name)
    except ValueError as exc:
        raise ValidationFailed(str(exc), details=[{"field": "name", "message": str(exc)}]
                               ) from exc
    if not 0 <= companions <= 20:
        raise ValidationFailed("0 bis 20 Begleitpersonen.",
                               details=[{"field": "companions", "message": "0 bis 20"}])
    repo = MeetingRepository.from_session(session)
    meeting = await repo.lock(meeting_id)
    if meeting is None:
        raise NotFound("Veranstaltung nicht gefunden.", code="event_not_found")
    if meeting.status == "cancelled":
        raise Conflict("Die Veranstaltung ist abgesagt.", code="event_cancelled")
    need = 1 + companions
    if not _fits(meeting, need):
        raise Conflict("Die Veranstaltung ist voll. Bitte zuerst die Kapazität erhöhen.",
                       code="event_full")
    reg = MeetingRegistration(
        meeting_id=meeting.id, organisation_id=meeting.organisation_id, name=name,
        email=None, language="de", status="registered", companions=companions, needs={},
        walk_in=True, channel="walk_in", checkin_code=checkin_code(), registered_at=now)
    await repo.add_registration(reg)
    meeting.places_taken += need
    _refresh_status(meeting)
    await session.flush()
    await _record(session, meeting, "registration.created", actor=actor,
                  registration_id=str(reg.id), companions=companions, walk_in=True,
                  places_taken=meeting.places_taken)
    return await _mark_attended(session, meeting, reg, actor=actor, how="walk_in", now=now)


@dataclass(frozen=True)
class AttendanceImport:
    recorded: int
    already: int
    # (line number, value, German reason) of rows that matched no registration.
    unknown: list[tuple[int, str, str]]


async def import_attendance(session: AsyncSession, meeting_id: uuid.UUID, rows: list[str],
                            *, actor: str | None,
                            now: datetime | None = None) -> AttendanceImport:
    """Attendance after the fact (a paper list typed up): one check-in code or e-mail address
    per row; rows that match nothing are reported by line, the others recorded."""
    now = now or datetime.now(UTC)
    repo = MeetingRepository.from_session(session)
    meeting = await repo.get(meeting_id)
    if meeting is None:
        raise NotFound("Veranstaltung nicht gefunden.", code="event_not_found")
    registered = await repo.registrations(meeting_id, ("registered",))
    by_code = {r.checkin_code: r for r in registered}
    by_email = {r.email.lower(): r for r in registered if r.email}
    recorded = already = 0
    unknown = []
    for line, raw in enumerate(rows, start=2):
        value = raw.strip()
        if not value:
            continue
        reg = by_email.get(value.lower()) if "@" in value else by_code.get(
            normalise_code(value))
        if reg is None:
            unknown.append((line, value[:100], "keine bestätigte Anmeldung dazu"))
            continue
        result = await _mark_attended(session, meeting, reg, actor=actor, how="import",
                                      now=now)
        recorded += result.new
        already += not result.new
    return AttendanceImport(recorded, already, unknown)


async def import_attendance_file(session: AsyncSession, meeting_id: uuid.UUID, data: bytes,
                                 *, actor: str | None) -> AttendanceImport:
    try:
        values = export.attendance_values(data)
    except ValueError as exc:
        raise ValidationFailed(str(exc), code="invalid_file",
                               details=[{"field": "file", "message": str(exc)}]) from exc
    return await import_attendance(session, meeting_id, values, actor=actor)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def export_list(session: AsyncSession, meeting: Meeting, which: str,
                      fmt: str) -> tuple[bytes, str, str]:
    """(file, media type, file name) of one list of the event."""
    if which not in export.LISTS or fmt not in ("csv", "xlsx"):
        raise NotFound("Diese Liste gibt es nicht.", code="export_not_found",
                       details=[{"field": "which", "allowed": list(export.LISTS)}])
    rows = export.select(await registration_rows(session, meeting), which)
    table = export.table(rows, await time_zone_of(MeetingRepository.from_session(session),
                                                meeting.organisation_id))
    name = f"{export.TITLES[which].lower()}-{meeting.starts_at:%Y-%m-%d}.{fmt}"
    if fmt == "csv":
        return export.to_csv(table), "text/csv; charset=utf-8", name
    return export.to_xlsx(table, export.TITLES[which]), XLSX, name


async def diversity(session: AsyncSession, *, meeting_id: uuid.UUID | None = None,
                    process_id: uuid.UUID | None = None) -> DiversityOut:
    counts = await MeetingRepository.from_session(session).self_description_counts(
        meeting_id=meeting_id, process_id=process_id)
    return summarise(counts)


@dataclass(frozen=True)
class DiversityItem:
    """The checklist item of the event's phase that the event's self-descriptions answer."""

    process_id: uuid.UUID
    phase_key: str
    key: str
    title: str
    done: bool
    # The event's self-descriptions meet it (`DiversityOut.checklist_met`).
    met: bool


async def diversity_item(session: AsyncSession, meeting: Meeting) -> DiversityItem | None:
    """The diversity item ("Teilnahme von Akteuren unterschiedlicher Gruppen, ...") of the
    event's phase and whether the event met it; None when the phase has no such item."""
    item = next((i for i in await ProcessRepository.from_session(session).checklist(
        meeting.process_id) if i.phase_key == meeting.phase_key
        and " ".join(i.title.split()) == CHECKLIST_TITLE), None)
    if item is None:
        return None
    met = (await diversity(session, meeting_id=meeting.id)).checklist_met
    return DiversityItem(process_id=meeting.process_id, phase_key=item.phase_key, key=item.key,
                         title=item.title, done=item.done, met=met)


async def events_waiting_for_mail(session: AsyncSession, min_age: timedelta) -> list[uuid.UUID]:
    """Events with a mail queued longer than `min_age` ago and not delivered yet."""
    return await MeetingRepository.from_session(session).events_with_pending_mail(
        datetime.now(UTC) - min_age)
