"""German mails of the process engine: reminders, overdue notices, gate requests, escalations."""

from __future__ import annotations

import email.policy
from datetime import date
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid

from contracts.process import NotifyInput
from infra.mail import ORGANISATION_HEADER
from services.stakeholders.addresses import single_line, smtp_address

SUBJECTS = {
    "reminder": "Erinnerung: Phase „{phase}“ endet am {end}",
    "overdue": "Überfällig: Phase „{phase}“ sollte am {end} enden",
    "approval_request": "Bitte um Freigabe: {phase}",
    "escalation": "Frist verstrichen: Freigabe „{phase}“ ist noch offen",
    "approval_result": "Freigabe „{phase}“: {note}",
    "resolution_submitted": "Neue Beschlussvorlage: {process} ({note})",
    "resolution_ack_reminder": "Erinnerung: Eingang der Beschlussvorlage „{process}“ bestätigen",
    "resolution_outcome_reminder": "Erinnerung: Ergebnis der Sitzung vom {end} zu „{process}“",
}


def _de(d: date | None) -> str:
    return d.strftime("%d.%m.%Y") if d else "–"


def subject(n: NotifyInput, process_title: str = "") -> str:
    return SUBJECTS[n.kind].format(phase=n.phase_title, end=_de(n.planned_end), note=n.note or "",
                                   process=process_title)


def render(n: NotifyInput, *, to: str, process_title: str, mail_from: str, org_name: str,
           public_url: str,
           attachment: tuple[str, str, bytes] | None = None) -> EmailMessage:
    """Headers by the email package under the SMTP policy (folded, encoded words, CRLF);
    titles and names as one line; addresses in their ASCII form (punycode domain). Raises
    UnsendableAddress when `to` cannot go on the wire."""
    link = f"{public_url.rstrip('/')}/app/processes/{n.process_id}"
    if n.kind in ("approval_request",) and n.approval_id:
        link = f"{public_url.rstrip('/')}/app/approvals/{n.approval_id}"
    if n.resolution_id is not None:
        link = f"{public_url.rstrip('/')}/app/clerk/resolutions/{n.resolution_id}"
    lines = {
        "reminder": [f"die Phase „{n.phase_title}“ des Prozesses „{process_title}“ endet "
                     f"planmäßig am {_de(n.planned_end)}.",
                     "Bitte prüfen Sie die offenen Punkte der Checkliste."],
        "overdue": [f"die Phase „{n.phase_title}“ des Prozesses „{process_title}“ sollte am "
                    f"{_de(n.planned_end)} enden und ist noch nicht abgeschlossen.",
                    "Bitte schließen Sie die Phase ab oder passen Sie den Zeitplan an."],
        "approval_request": [f"für den Prozess „{process_title}“ bittet die Koordination um "
                             f"Ihre Entscheidung: „{n.phase_title}“.",
                             "Bitte stimmen Sie zu oder lehnen Sie mit einer Begründung ab."],
        "escalation": [f"die Freigabe „{n.phase_title}“ im Prozess „{process_title}“ ist "
                       "nach Ablauf der Frist noch nicht entschieden.",
                       "Bitte sprechen Sie die Steuerungsgruppe an."],
        "approval_result": [f"die Steuerungsgruppe hat „{n.phase_title}“ im Prozess "
                            f"„{process_title}“ {n.note or 'entschieden'}."],
        "resolution_submitted": [f"die Beschlussvorlage zum Prozess „{process_title}“ "
                                 f"({n.note or 'neue Fassung'}) liegt Ihnen vor; das PDF ist "
                                 "angehängt, DOCX und OParl-JSON finden Sie unter dem Link.",
                                 "Bitte bestätigen Sie den Eingang."],
        "resolution_ack_reminder": [f"der Eingang der Beschlussvorlage zum Prozess "
                                    f"„{process_title}“ ({n.note or ''}) ist noch nicht "
                                    "bestätigt.", "Bitte bestätigen Sie den Eingang."],
        "resolution_outcome_reminder": [f"die Sitzung vom {_de(n.planned_end)} ist vorbei; "
                                        f"das Ergebnis zur Beschlussvorlage „{process_title}“ "
                                        "ist noch nicht eingetragen.",
                                        "Bitte tragen Sie das Ergebnis ein (beschlossen, "
                                        "geändert beschlossen, abgelehnt oder vertagt)."],
    }[n.kind]
    sender = smtp_address(mail_from)
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["Subject"] = single_line(subject(n, process_title))
    msg["From"] = Address(display_name=single_line(org_name), addr_spec=sender)
    msg["To"] = Address(addr_spec=smtp_address(to))
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    msg["X-Mitwirken-Notice"] = n.kind
    msg[ORGANISATION_HEADER] = str(n.organisation_id)
    body = "Guten Tag,\n\n" + "\n".join(lines) + f"\n\n{link}\n\nMitwirken – {org_name}\n"
    msg.set_content(body)
    if attachment is not None:
        name, mime, data = attachment
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg
