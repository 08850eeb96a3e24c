"""Mails about events: confirmation (with the calendar invitation, the check-in code and its
QR code), waitlist place, promotion from the waitlist, update after a reschedule, cancellation,
reminder, and the double opt-in of a public registration, in the registration's language
(the six of services/i18n, German where a text is missing).

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
from services.legal.service import page_links
from services.meetings import calendar
from services.models.meeting import Meeting, MeetingRegistration
from services.stakeholders.addresses import single_line, smtp_address

WITH_CALENDAR = ("confirmation", "promoted", "update", "cancel")
WITH_CODE = ("confirmation", "promoted", "update", "reminder")



def format_span(meeting: Meeting, tz: str, language: str) -> str:
    """When an event runs, in the language's words and order ("4. Mai 2027, 18:00 – 20:00
    Uhr", "4 May 2027, 18:00 – 20:00", Arabic with its own month names ...)."""
    zone = ZoneInfo(tz)
    start, end = meeting.starts_at.astimezone(zone), meeting.ends_at.astimezone(zone)
    german = i18n.supported(language) in ("de", i18n.EASY_GERMAN)
    comma = "، " if i18n.direction(language) == "rtl" else ", "
    head = f"{i18n.date_text(start, language, None)}{comma}{i18n.time_text(start, language, None)}"
    if end.date() == start.date():
        tail = i18n.time_text(end, language, None)
    else:
        tail = (f"{i18n.date_text(end, language, None)}{comma}"
                f"{i18n.time_text(end, language, None)}")
    return f"{head} – {tail}" + (" Uhr" if german else "")


@dataclass(frozen=True)
class Sender:
    org_name: str
    mail_from: str
    public_url: str
    time_zone: str
    # The organisation's public pages (Impressum, privacy, contact) go in every footer.
    org_slug: str = ""


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
    labels = i18n.texts(lang, "event_mail")
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["Subject"] = single_line(i18n.text(lang, f"event_mail_subject.{text_key}",
                                           title=title))
    msg["From"] = Address(display_name=single_line(sender.org_name), addr_spec=from_addr)
    msg["To"] = Address(display_name=single_line(reg.name or ""), addr_spec=address)
    sequence = int(str(payload.get("sequence", 0)))
    # Deterministic: a copy sent in a crash window carries the same Message-ID.
    msg["Message-ID"] = f"<event-{kind}.{reg.id}.{sequence}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    lines = [f"{labels['hello']} {reg.name}," if reg.name else f"{labels['hello']},", ""]
    lines.append(i18n.text(lang, f"event_mail_lead.{text_key}", title=title,
                           position=waitlist_position or "?"))
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
    if sender.org_slug:
        legal = page_links(sender.public_url, sender.org_slug, lang)
        lines += ["--", f"{labels['imprint']}: {legal['impressum']}",
                  f"{labels['privacy']}: {legal['datenschutz']}",
                  f"{labels['contact']}: {legal['kontakt']}", ""]
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
    # Last: set_content and add_alternative drop or move every Content-* header set before
    # them (the mails had carried no language at all).
    msg["Content-Language"] = lang
    return msg
