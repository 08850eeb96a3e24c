"""The confirmation's iCalendar invitation, its update after a reschedule and the
cancellation, parsed back with `icalendar`: local times in summer and winter, one UID,
SEQUENCE rising; and the process's public .ics feed."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from services.meetings import delivery, service
from services.meetings.schemas import MeetingUpdate, RegistrationIn
from tests.support.meetings import (
    calendar_of,
    delivery_setup,
    make_event,
    make_links,
    registrations,
)

BERLIN = ZoneInfo("Europe/Berlin")


def _event(raw: bytes):  # type: ignore[no-untyped-def]
    found = calendar_of(raw)
    assert found is not None, "no text/calendar part"
    part, cal = found
    events = [c for c in cal.walk("VEVENT")]
    assert len(events) == 1
    return part, cal, events[0]


@pytest.mark.parametrize("starts", [datetime(2027, 7, 15, 18, 0, tzinfo=BERLIN),
                                    datetime(2027, 1, 20, 18, 0, tzinfo=BERLIN)],
                         ids=["summer", "winter"])
async def test_invitation_update_and_cancellation(committed_maker, smtp_sink, starts):
    setup = await make_event(committed_maker, capacity=10, starts_at=starts)
    [token] = await make_links(committed_maker, setup, 1)
    async with committed_maker() as s:
        await service.register_by_token(s, token, RegistrationIn(attending=True, companions=1))
        await s.commit()
    ds = delivery_setup(committed_maker, smtp_sink.port)
    assert await delivery.deliver(ds, setup.meeting_id) == 1
    [reg] = await registrations(committed_maker, setup.meeting_id)
    [mail] = smtp_sink.to(reg.email)
    part, cal, ev = _event(mail.raw)
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"
    assert part.get_content_charset().upper() == "UTF-8"
    assert cal["METHOD"] == "REQUEST"
    # A VTIMEZONE for the organisation's zone; the times in it, at 18:00 local.
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert ev["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert ev.decoded("DTSTART") == starts
    assert ev.decoded("DTSTART").utcoffset() == starts.utcoffset()
    assert ev.decoded("DTEND") == starts + timedelta(hours=2)
    assert str(ev["ORGANIZER"]) == "mailto:beteiligung@weiterstadt.example"
    assert str(ev["ATTENDEE"]) == f"mailto:{reg.email}"
    uid, seq0 = str(ev["UID"]), int(ev["SEQUENCE"])
    assert uid == f"registration-{reg.id}@weiterstadt.example"
    # The mail: a check-in code in the text, the QR code attached.
    message = mail.message
    assert reg.checkin_code in message.get_body(("plain",)).get_content()
    assert any(p.get_content_type() == "image/png" for p in message.iter_attachments())

    # Rescheduled by an hour and a day: an update with the same UID and a higher SEQUENCE.
    moved = starts + timedelta(days=1, hours=1)
    async with committed_maker() as s:
        await service.update_meeting(s, setup.meeting_id, MeetingUpdate(
            starts_at=moved, ends_at=moved + timedelta(hours=3)), actor="k@example.org")
        await s.commit()
    smtp_sink.clear()
    assert await delivery.deliver(ds, setup.meeting_id) == 1
    [update] = smtp_sink.to(reg.email)
    _, cal2, ev2 = _event(update.raw)
    assert cal2["METHOD"] == "REQUEST"
    assert str(ev2["UID"]) == uid
    seq1 = int(ev2["SEQUENCE"])
    assert seq1 > seq0
    assert ev2.decoded("DTSTART") == moved
    assert ev2.decoded("DTEND") == moved + timedelta(hours=3)

    # The event is cancelled: METHOD:CANCEL, STATUS:CANCELLED, same UID, higher SEQUENCE.
    async with committed_maker() as s:
        await service.update_meeting(s, setup.meeting_id, MeetingUpdate(status="cancelled"),
                                     actor="k@example.org")
        await s.commit()
    smtp_sink.clear()
    assert await delivery.deliver(ds, setup.meeting_id) == 1
    [cancel] = smtp_sink.to(reg.email)
    part3, cal3, ev3 = _event(cancel.raw)
    assert part3.get_param("method") == "CANCEL"
    assert cal3["METHOD"] == "CANCEL"
    assert str(ev3["STATUS"]) == "CANCELLED"
    assert str(ev3["UID"]) == uid
    assert int(ev3["SEQUENCE"]) > seq1
    # Delivered once: another delivery run sends nothing.
    smtp_sink.clear()
    assert await delivery.deliver(ds, setup.meeting_id) == 0
    assert smtp_sink.messages == []


async def test_waitlisted_and_promoted_mails(committed_maker, smtp_sink):
    setup = await make_event(committed_maker, capacity=1)
    first, second = await make_links(committed_maker, setup, 2)
    for token in (first, second):
        async with committed_maker() as s:
            await service.register_by_token(s, token, RegistrationIn(attending=True))
            await s.commit()
    ds = delivery_setup(committed_maker, smtp_sink.port)
    assert await delivery.deliver(ds, setup.meeting_id) == 2
    a, b = await registrations(committed_maker, setup.meeting_id)
    [wait] = smtp_sink.to(b.email)
    assert calendar_of(wait.raw) is None  # no calendar entry for a waitlist place
    body = wait.message.get_body(("plain",)).get_content()
    assert "Warteliste" in body and "Platz 1" in body
    async with committed_maker() as s:
        await service.register_by_token(s, first, RegistrationIn(attending=False))
        await s.commit()
    smtp_sink.clear()
    assert await delivery.deliver(ds, setup.meeting_id) == 2  # a's cancellation, b's promotion
    [promoted] = smtp_sink.to(b.email)
    assert "Platz ist frei geworden" in promoted.message["Subject"]
    _, cal, ev = _event(promoted.raw)
    assert cal["METHOD"] == "REQUEST" and str(ev["UID"]).startswith(f"registration-{b.id}@")
    [own_cancel] = smtp_sink.to(a.email)
    assert _event(own_cancel.raw)[1]["METHOD"] == "CANCEL"


async def test_public_feed(committed_maker):
    from services.meetings.calendar import feed

    setup = await make_event(committed_maker, capacity=0, public=True,
                             starts_at=datetime(2027, 3, 27, 18, 0, tzinfo=BERLIN))
    async with committed_maker() as s:
        meetings = await service.meetings_of_process(s, setup.process_id, public_only=True)
    raw = feed(meetings, tz="Europe/Berlin", name="Vielfaltsstrategie", domain="w.example")
    cal = Calendar.from_ical(raw)
    [ev] = cal.walk("VEVENT")
    assert ev.decoded("DTSTART") == datetime(2027, 3, 27, 18, 0, tzinfo=BERLIN)
    assert str(ev["UID"]) == f"event-{setup.meeting_id}@w.example"
