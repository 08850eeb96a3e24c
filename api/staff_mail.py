"""Sending the staff accounts' link mails from a request (pages and API alike): after the
answer, as a background task, so a known address answers no slower than an unknown one."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from fastapi import BackgroundTasks

from infra.config import Settings
from infra.mail import MailTransport
from services.identity import accounts
from services.identity.mails import password_link_mail

log = logging.getLogger(__name__)


def _until(kind: str) -> str:
    ttl = accounts.INVITE_TTL if kind == "invite" else accounts.RESET_TTL
    expires = datetime.now(UTC) + ttl
    return expires.astimezone(ZoneInfo("Europe/Berlin")).strftime("%d.%m.%Y, %H:%M Uhr")


async def _deliver(settings: Settings, msg: EmailMessage) -> None:
    if not settings.smtp_host or not settings.smtp_port:
        log.warning("no SMTP relay configured: %s to %s not sent",
                    msg["X-Mitwirken-Notice"], msg["To"])
        return
    transport = MailTransport(settings.smtp_host, settings.smtp_port, pool_size=1)
    try:
        await transport.send(msg)
    finally:
        await transport.close()


def send_link_mail(tasks: BackgroundTasks, settings: Settings, kind: str, to: str,
                   secret: str, *, org: str = "Mitwirken", actor: str = "") -> None:
    """Queue the invitation ("invite") or reset ("reset") mail with its one-time link."""
    msg = password_link_mail(
        kind, to=to, link=f"{settings.public_url.rstrip('/')}/passwort-setzen/{secret}",
        until=_until(kind), mail_from=settings.mail_from, org=org, actor=actor)
    tasks.add_task(_deliver, settings, msg)
