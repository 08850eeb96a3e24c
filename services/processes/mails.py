"""German mails of the process engine: reminders, overdue notices, gate requests, escalations."""

from __future__ import annotations

import email.policy
from datetime import date
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from contracts.process import NotifyInput
from infra.mail import ORGANISATION_HEADER
from services.stakeholders.addresses import single_line, smtp_address

# One template per kind (subject in `{% set subject %}`, body extending notice.de.txt), as
# the campaign mails are: the texts are data, the headers stay the email package's below.
TEMPLATES = Path(__file__).parent / "mail_templates"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=False,
                   keep_trailing_newline=True, undefined=StrictUndefined)


def _de(d: date | None) -> str:
    return d.strftime("%d.%m.%Y") if d else "–"


def _texts(n: NotifyInput, *, process_title: str = "", org_name: str = "",
           link: str = "", reasons: list[str] | None = None) -> tuple[str, str]:
    module = _env.get_template(f"{n.kind}.de.txt").make_module({
        "phase": n.phase_title, "end": _de(n.planned_end), "note": n.note,
        "process": process_title, "org_name": org_name, "link": link,
        "reasons": [single_line(r) for r in reasons or []]})
    return str(getattr(module, "subject")), str(module)  # noqa: B009  (set in the template)


def subject(n: NotifyInput, process_title: str = "") -> str:
    return _texts(n, process_title=process_title)[0]


def render(n: NotifyInput, *, to: str, process_title: str, mail_from: str, org_name: str,
           public_url: str,
           attachment: tuple[str, str, bytes] | None = None,
           reasons: list[str] | None = None) -> EmailMessage:
    """Headers by the email package under the SMTP policy (folded, encoded words, CRLF);
    titles and names as one line; addresses in their ASCII form (punycode domain). Raises
    UnsendableAddress when `to` cannot go on the wire. `reasons`: a rejected approval's
    reasons (the result mail tells the coordinators why)."""
    link = f"{public_url.rstrip('/')}/app/processes/{n.process_id}"
    if n.kind in ("approval_request",) and n.approval_id:
        link = f"{public_url.rstrip('/')}/app/approvals/{n.approval_id}"
    if n.resolution_id is not None:
        link = f"{public_url.rstrip('/')}/app/clerk/resolutions/{n.resolution_id}"
    title, body = _texts(n, process_title=process_title, org_name=org_name, link=link,
                         reasons=reasons)
    sender = smtp_address(mail_from)
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["Subject"] = single_line(title)
    msg["From"] = Address(display_name=single_line(org_name), addr_spec=sender)
    msg["To"] = Address(addr_spec=smtp_address(to))
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    msg["X-Mitwirken-Notice"] = n.kind
    msg[ORGANISATION_HEADER] = str(n.organisation_id)
    msg.set_content(body)
    if attachment is not None:
        name, mime, data = attachment
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg
