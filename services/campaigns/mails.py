"""Invitation and reminder mails in the stakeholder's language (one template per language,
German where one is missing; subjects and dates from services/i18n),
plain text and HTML, a personal link, decline and unsubscribe links, RFC 8058 one-click
unsubscribe headers, the organisation as the sender's name.

Templates are rendered once per batch with placeholders and filled per recipient: Jinja runs a
handful of times per batch instead of once per mail, which keeps CPU free for SMTP.
"""

from __future__ import annotations

import base64
import email
import email.policy
import html
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, Template, TemplateNotFound, select_autoescape

from infra.mail import ORGANISATION_HEADER
from services import i18n
from services.campaigns.tokens import invitation_token
from services.legal.service import page_links
from services.stakeholders.addresses import single_line, smtp_address

TEMPLATES = Path(__file__).parent / "mail_templates"
_env = Environment(loader=FileSystemLoader(TEMPLATES),
                   autoescape=select_autoescape(["html"]), keep_trailing_newline=True)
_DOT = re.compile(rb"(?m)^\.")

# Placeholders survive Jinja's escaping unchanged and cannot occur in real text.
NAME = "\x00NAME\x00"
LINK = "\x00LINK\x00"
DECLINE = "\x00DECLINE\x00"
UNSUBSCRIBE = "\x00UNSUB\x00"



def format_deadline(deadline: datetime, language: str, time_zone: str) -> str:
    return i18n.datetime_text(deadline, language, time_zone)


def _template(lang: str, ext: str) -> Template:
    """`campaign.<lang>.<ext>`, German where a language has no template of its own."""
    try:
        return _env.get_template(f"campaign.{lang}.{ext}")
    except TemplateNotFound:
        return _env.get_template(f"campaign.{i18n.DEFAULT}.{ext}")


@dataclass(frozen=True)
class MailContext:
    org_name: str
    mail_from: str
    public_url: str
    secret_key: str
    campaign_kind: str
    title: str
    deadline: datetime
    time_zone: str = "Europe/Berlin"
    organisation_id: uuid.UUID | None = None
    # The target's title per language (a survey's); used where the campaign's title is the
    # target's German one (the default, services.campaigns.service.check_target), so an
    # English mail names the survey by its English title. A title the coordinator typed is
    # kept as typed.
    target_titles: dict[str, str] | None = None

    def title_in(self, language: str) -> str:
        titles = self.target_titles or {}
        if titles and (not self.title or self.title == titles.get("de")):
            return titles.get(language) or titles.get("de") or self.title
        return self.title
    # The organisation's public pages (Impressum, privacy, contact) go in every footer.
    org_slug: str = ""


@dataclass(frozen=True)
class Rendered:
    message_id: str
    sender: str
    recipient: str
    data: bytes  # dot-stuffed, CRLF, without the final "." line: ready for the DATA phase


class MailRenderer:
    """Renders the mails of one batch (one kind, one reminder number)."""

    def __init__(self, ctx: MailContext, kind: str, reminder_no: int = 0) -> None:
        self.ctx = ctx
        self.kind = kind
        self.reminder_no = reminder_no
        self.mail_from = smtp_address(ctx.mail_from)
        self.domain = self.mail_from.rpartition("@")[2] or "localhost"
        self.base = ctx.public_url.rstrip("/")
        self.sender_header = header("From", Address(display_name=single_line(ctx.org_name),
                                                    addr_spec=self.mail_from))
        self.date = format_datetime(datetime.now(ZoneInfo(ctx.time_zone)))
        self.boundary = "=_mitwirken_" + secrets.token_hex(12)
        self._cache: dict[tuple[str, bool], tuple[str, str, str]] = {}
        self.organisation_header = (f"{ORGANISATION_HEADER}: {ctx.organisation_id}\r\n"
                                    if ctx.organisation_id else "")

    def _templates(self, language: str, organisation: bool) -> tuple[str, str, str]:
        key = (language, organisation)
        if key not in self._cache:
            lang = i18n.supported(language)
            t = i18n.texts(lang, "campaign_mail")
            title = self.ctx.title_in(lang) or t[f"default_title_{self.ctx.campaign_kind}"]
            values = {
                "name": NAME, "link": LINK, "decline_link": DECLINE,
                "unsubscribe_link": UNSUBSCRIBE, "org_name": self.ctx.org_name,
                "title": title, "kind": self.ctx.campaign_kind, "reminder": self.kind == "reminder",
                "deadline": format_deadline(self.ctx.deadline, lang, self.ctx.time_zone),
                "organisation": organisation,
                "legal": page_links(self.base, self.ctx.org_slug, lang)
                if self.ctx.org_slug else None,
            }
            text = _template(lang, "txt").render(values)
            markup = _template(lang, "html").render(values)
            subject = header("Subject", single_line(t[f"subject_{self.kind}"].format(
                title=title)))
            self._cache[key] = (subject, text, markup)
        return self._cache[key]

    def render(self, invitation_id: uuid.UUID, name: str, address: str,
               language: str, recipient_kind: str = "person") -> Rendered:
        """The wire form of one mail, assembled directly (MIME multipart/alternative, base64
        parts): about ten times faster than building an EmailMessage per recipient. Every
        header still comes from the email package (`header`): folded, encoded words for
        non-ASCII, and a name can never start a new header line.

        Raises UnsendableAddress for an address that cannot go on the wire; `send_batch`
        checks the addresses first and fails those mails alone."""
        # An organisation (stakeholder kind) is greeted as a team, a person by name.
        subject, text, markup = self._templates(language, recipient_kind == "organisation")
        token = invitation_token(self.ctx.secret_key, invitation_id)
        link = f"{self.base}/t/{token}"
        fill = {LINK: link, DECLINE: f"{link}/decline", UNSUBSCRIBE: f"{link}/unsubscribe"}
        plain = text.replace(NAME, name)
        rich = markup.replace(NAME, html.escape(name))
        for key, value in fill.items():
            plain = plain.replace(key, value)
            rich = rich.replace(key, html.escape(value))
        suffix = f".{self.reminder_no}" if self.kind == "reminder" else ""
        # Deterministic: the same invitation always carries the same Message-ID, so a
        # receiving system can recognise a copy even in the crash window of the sender.
        message_id = f"<{self.kind}.{invitation_id}{suffix}@{self.domain}>"
        recipient = smtp_address(address)
        to = header("To", Address(display_name=single_line(name), addr_spec=recipient))
        boundary = self.boundary
        head = (
            f"{self.sender_header}{to}{subject}"
            f"Date: {self.date}\r\n"
            f"Message-ID: {message_id}\r\n"
            f"Content-Language: {i18n.supported(language)}\r\n"
            f"List-Unsubscribe: <{fill[UNSUBSCRIBE]}>\r\n"
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
            "Auto-Submitted: auto-generated\r\n"
            f"{self.organisation_header}"
            "MIME-Version: 1.0\r\n"
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'
            f"--{boundary}\r\n"
            'Content-Type: text/plain; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n"
        ).encode("ascii")
        middle = (
            f"--{boundary}\r\n"
            'Content-Type: text/html; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n"
        ).encode("ascii")
        tail = f"--{boundary}--\r\n".encode("ascii")
        raw = b"".join((head, _b64(plain.replace("\n", "\r\n")), middle, _b64(rich), tail))
        # Base64 lines never start with ".", headers neither; stuffing stays for safety.
        return Rendered(message_id, self.mail_from, recipient, _DOT.sub(b"..", raw))


def _b64(value: str) -> bytes:
    return base64.encodebytes(value.encode("utf-8")).replace(b"\n", b"\r\n")


def header(name: str, value: str | Address) -> str:
    """One header line, built and folded by the email package (SMTP policy: CRLF, lines of at
    most 78 characters, RFC 2047 encoded words), ending in CRLF."""
    return email.policy.SMTP.header_factory(name, value).fold(policy=email.policy.SMTP)


def parse(data: bytes) -> EmailMessage:
    """Parse a rendered mail (tests and the mail viewer use it)."""
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]
