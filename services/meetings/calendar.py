"""iCalendar (RFC 5545/5546) for events: a personal invitation per registration and a feed of
a process's public events.

The invitation's UID comes from the registration (`registration-<id>@<domain>`): the same for
the confirmation, every update and the cancellation, so a calendar replaces its entry instead of
adding one; SEQUENCE rises with each change (services/meetings/service.py raises it). Times are
written in the organisation's zone with a VTIMEZONE for the span around the event, so the
calendar shows 18:00 in summer and winter alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress, vText

from services.models.meeting import Meeting, MeetingRegistration

PRODID = "-//Mitwirken//Beteiligung//DE"


def registration_uid(registration: MeetingRegistration, domain: str) -> str:
    return f"registration-{registration.id}@{domain}"


def meeting_uid(meeting: Meeting, domain: str) -> str:
    return f"event-{meeting.id}@{domain}"


def _calendar(method: str | None, tz: str, meetings: Sequence[Meeting], name: str = ""
              ) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    if meetings:
        first = min(m.starts_at for m in meetings).astimezone(ZoneInfo(tz)).date()
        last = max(m.ends_at for m in meetings).astimezone(ZoneInfo(tz)).date()
        # A VTIMEZONE for the span of the events (plus a margin), not 1970-2038: short, and
        # what the calendar needs to place the local times.
        cal.add_component(Timezone.from_tzid(tz, first_date=date(first.year - 1, 1, 1),
                                             last_date=date(last.year + 2, 1, 1)))
    return cal


def _location(meeting: Meeting) -> str:
    parts = [meeting.location]
    if meeting.online_url:
        parts.append(meeting.online_url)
    return " · ".join(p for p in parts if p)


def _description(meeting: Meeting, extra: str = "") -> str:
    parts = [meeting.description]
    if meeting.accessibility:
        parts.append(f"Barrierefreiheit: {meeting.accessibility}")
    if meeting.online_url:
        parts.append(f"Online: {meeting.online_url}")
    if extra:
        parts.append(extra)
    return "\n\n".join(p for p in parts if p)


def _event(meeting: Meeting, tz: str, uid: str, sequence: int, status: str,
           now: datetime) -> Event:
    zone = ZoneInfo(tz)
    ev = Event()
    ev.add("uid", uid)
    ev.add("dtstamp", now.astimezone(UTC))
    ev.add("dtstart", meeting.starts_at.astimezone(zone))
    ev.add("dtend", meeting.ends_at.astimezone(zone))
    ev.add("sequence", sequence)
    ev.add("summary", meeting.title)
    ev.add("status", status)
    location = _location(meeting)
    if location:
        ev.add("location", location)
    if meeting.online_url:
        ev.add("url", meeting.online_url)
    ev.add("last-modified", meeting.updated_at.astimezone(UTC) if meeting.updated_at else now)
    return ev


def invitation(meeting: Meeting, registration: MeetingRegistration, *, tz: str,
               organizer_name: str, organizer_email: str, attendee_email: str,
               method: str, sequence: int, domain: str, note: str = "",
               now: datetime | None = None) -> bytes:
    """The personal invitation: METHOD:REQUEST (new or changed) or CANCEL (STATUS:CANCELLED)."""
    now = now or datetime.now(UTC)
    cal = _calendar(method, tz, [meeting])
    status = "CANCELLED" if method == "CANCEL" else "CONFIRMED"
    ev = _event(meeting, tz, registration_uid(registration, domain), sequence, status, now)
    ev.add("description", _description(meeting, note))
    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["CN"] = vText(organizer_name)
    ev.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{attendee_email}")
    if registration.name:
        attendee.params["CN"] = vText(registration.name)
    attendee.params["ROLE"] = vText("REQ-PARTICIPANT")
    attendee.params["PARTSTAT"] = vText("DECLINED" if method == "CANCEL" else "ACCEPTED")
    attendee.params["RSVP"] = vText("FALSE")
    ev.add("attendee", attendee)
    cal.add_component(ev)
    return bytes(cal.to_ical())


def feed(meetings: Sequence[Meeting], *, tz: str, name: str, domain: str,
         now: datetime | None = None) -> bytes:
    """A subscribable calendar of a process's public events (METHOD:PUBLISH); a cancelled
    event stays in it with STATUS:CANCELLED, so subscribers see the cancellation."""
    now = now or datetime.now(UTC)
    cal = _calendar("PUBLISH", tz, meetings, name)
    cal.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
    for m in meetings:
        status = "CANCELLED" if m.status == "cancelled" else "CONFIRMED"
        ev = _event(m, tz, meeting_uid(m, domain), m.sequence, status, now)
        description = _description(m)
        if description:
            ev.add("description", description)
        cal.add_component(ev)
    return bytes(cal.to_ical())
