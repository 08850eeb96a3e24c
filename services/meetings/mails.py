"""Mails about events: confirmation (with the calendar invitation, the check-in code and its
QR code), waitlist place, promotion from the waitlist, update after a reschedule, cancellation,
reminder, and the double opt-in of a public registration. German, English for `en`.

Headers come from the email package under the SMTP policy (folded, encoded words, CRLF), names
and titles as one line, addresses in their ASCII form (services/stakeholders/addresses.py), as
for campaign mails. The calendar is a body part of multipart/alternative (`text/calendar;
charset="UTF-8"; method=REQUEST|CANCEL`), which Outlook and Thunderbird need to offer
"accept"; the QR code is an attachment.
"""

from __future__ import annotations

import email.policy
import io
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import segno

from services import i18n
from services.campaigns.mails import MONTHS_DE
from services.meetings import calendar
from services.models.meeting import Meeting, MeetingRegistration
from services.stakeholders.addresses import single_line, smtp_address

WITH_CALENDAR = ("confirmation", "promoted", "update", "cancel")
WITH_CODE = ("confirmation", "promoted", "update", "reminder")

SUBJECTS = {
    "de": {
        "confirmation": "Anmeldebestätigung: {title}",
        "promoted": "Ein Platz ist frei geworden: {title}",
        "waitlisted": "Warteliste: {title}",
        "update": "Geänderter Termin: {title}",
        "cancel": "Abgesagt: {title}",
        "cancel_own": "Abmeldung bestätigt: {title}",
        "reminder": "Erinnerung: {title}",
        "optin": "Bitte bestätigen Sie Ihre Anmeldung: {title}",
    },
    "en": {
        "confirmation": "Registration confirmed: {title}",
        "promoted": "A place has become free: {title}",
        "waitlisted": "Waiting list: {title}",
        "update": "Changed date: {title}",
        "cancel": "Cancelled: {title}",
        "cancel_own": "Cancellation confirmed: {title}",
        "reminder": "Reminder: {title}",
        "optin": "Please confirm your registration: {title}",
    },
}

LEADS = {
    "de": {
        "confirmation": "Sie sind angemeldet für „{title}“.",
        "promoted": "Für „{title}“ ist ein Platz frei geworden: Sie sind jetzt angemeldet.",
        "waitlisted": "„{title}“ ist derzeit ausgebucht. Sie stehen auf der Warteliste "
                      "(Platz {position}); wird ein Platz frei, rücken Sie automatisch nach "
                      "und erhalten eine E-Mail.",
        "update": "Der Termin von „{title}“ hat sich geändert. Die neuen Angaben stehen "
                  "unten; Ihr Kalendereintrag wird aktualisiert.",
        "cancel": "„{title}“ ist leider abgesagt.",
        "cancel_own": "Sie haben sich von „{title}“ abgemeldet.",
        "reminder": "Wir erinnern Sie an „{title}“.",
        "optin": "Sie (oder jemand mit Ihrer Adresse) möchten sich für „{title}“ anmelden. "
                 "Bitte bestätigen Sie die Anmeldung mit diesem Link:",
    },
    "en": {
        "confirmation": "You are registered for “{title}”.",
        "promoted": "A place for “{title}” has become free: you are now registered.",
        "waitlisted": "“{title}” is fully booked at the moment. You are on the waiting list "
                      "(position {position}); if a place becomes free, you move up "
                      "automatically and get an e-mail.",
        "update": "The date of “{title}” has changed. The new details are below; your "
                  "calendar entry is updated.",
        "cancel": "Unfortunately “{title}” has been cancelled.",
        "cancel_own": "You have cancelled your registration for “{title}”.",
        "reminder": "This is a reminder of “{title}”.",
        "optin": "You (or someone using your address) would like to register for “{title}”. "
                 "Please confirm the registration with this link:",
    },
}

LABELS = {
    "de": {"when": "Wann", "where": "Wo", "access": "Barrierefreiheit", "online": "Online",
           "code": "Ihr Check-in-Code", "code_hint": "Zeigen Sie den Code (oder den QR-Code im "
           "Anhang) am Eingang.", "companions": "Begleitpersonen", "manage": "Anmeldung ansehen "
           "oder absagen", "hello": "Guten Tag", "regards": "Mit freundlichen Grüßen",
           "optin_ignore": "Wenn Sie das nicht waren, ignorieren Sie diese E-Mail; ohne "
           "Bestätigung wird niemand angemeldet."},
    "en": {"when": "When", "where": "Where", "access": "Accessibility", "online": "Online",
           "code": "Your check-in code", "code_hint": "Show the code (or the QR code attached) "
           "at the entrance.", "companions": "Companions", "manage": "View or cancel your "
           "registration", "hello": "Hello", "regards": "Kind regards",
           "optin_ignore": "If this was not you, ignore this e-mail; nobody is registered "
           "without the confirmation."},
}


def format_span(meeting: Meeting, tz: str, language: str) -> str:
    zone = ZoneInfo(tz)
    start, end = meeting.starts_at.astimezone(zone), meeting.ends_at.astimezone(zone)
    if language == "en":
        head = start.strftime("%A, %d %B %Y, %H:%M")
        tail = end.strftime("%H:%M") if end.date() == start.date() else end.strftime(
            "%d %B %Y, %H:%M")
        return f"{head} – {tail}"
    day = f"{start.day}. {MONTHS_DE[start.month - 1]} {start.year}"
    tail = f"{end:%H:%M}" if end.date() == start.date() else (
        f"{end.day}. {MONTHS_DE[end.month - 1]} {end.year}, {end:%H:%M}")
    return f"{day}, {start:%H:%M} – {tail} Uhr"


@dataclass(frozen=True)
class Sender:
    org_name: str
    mail_from: str
    public_url: str
    time_zone: str


def qr_png(value: str) -> bytes:
    out = io.BytesIO()
    segno.make(value, error="m").save(out, kind="png", scale=6, border=2)
    return out.getvalue()


def render(meeting: Meeting, reg: MeetingRegistration, kind: str, payload: dict[str, object],
           sender: Sender, *, manage_link: str | None, checkin_link: str | None = None,
           waitlist_position: int | None = None, now: datetime | None = None
           ) -> EmailMessage:
    """One mail. Raises UnsendableAddress for an address that cannot go on the wire."""
    lang = i18n.supported(reg.language)
    address = smtp_address(reg.email or "")
    from_addr = smtp_address(sender.mail_from)
    domain = from_addr.rpartition("@")[2] or "localhost"
    text_key = "cancel_own" if kind == "cancel" and payload.get("own") else kind
    title = single_line(meeting.title)
    labels = LABELS[lang]
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["Subject"] = single_line(SUBJECTS[lang][text_key].format(title=title))
    msg["From"] = Address(display_name=single_line(sender.org_name), addr_spec=from_addr)
    msg["To"] = Address(display_name=single_line(reg.name or ""), addr_spec=address)
    sequence = int(str(payload.get("sequence", 0)))
    # Deterministic: a copy sent in a crash window carries the same Message-ID.
    msg["Message-ID"] = f"<event-{kind}.{reg.id}.{sequence}@{domain}>"
    msg["Content-Language"] = lang
    msg["Auto-Submitted"] = "auto-generated"
    lines = [f"{labels['hello']} {reg.name}," if reg.name else f"{labels['hello']},", ""]
    lines.append(LEADS[lang][text_key].format(title=title, position=waitlist_position or "?"))
    if kind == "optin":
        lines += ["", str(payload.get("link", "")), "", labels["optin_ignore"]]
    else:
        lines += ["", f"{labels['when']}: {format_span(meeting, sender.time_zone, lang)}"]
        if meeting.location:
            lines.append(f"{labels['where']}: {meeting.location}")
        if meeting.accessibility:
            lines.append(f"{labels['access']}: {meeting.accessibility}")
        if meeting.online_url:
            lines.append(f"{labels['online']}: {meeting.online_url}")
        if reg.companions:
            lines.append(f"{labels['companions']}: {reg.companions}")
        if kind in WITH_CODE and reg.status == "registered":
            lines += ["", f"{labels['code']}: {reg.checkin_code}", labels["code_hint"]]
        if manage_link and kind != "cancel":
            lines += ["", f"{labels['manage']}:", manage_link]
    lines += ["", labels["regards"], sender.org_name, ""]
    msg.set_content("\n".join(lines))
    if kind in WITH_CALENDAR and (kind != "cancel" or payload.get("was") == "registered"):
        method = "CANCEL" if kind == "cancel" else "REQUEST"
        ics = calendar.invitation(
            meeting, reg, tz=sender.time_zone, organizer_name=sender.org_name,
            organizer_email=from_addr, attendee_email=address, method=method,
            sequence=sequence, domain=domain, now=now)
        msg.add_alternative(ics.decode("utf-8"), subtype="calendar", charset="UTF-8",
                            params={"method": method})
    if kind in WITH_CODE and reg.status == "registered" and kind != "reminder":
        msg.add_attachment(qr_png(checkin_link or reg.checkin_code), maintype="image",
                           subtype="png", filename=f"check-in-{reg.checkin_code}.png")
    return msg
