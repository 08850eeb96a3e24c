"""Delivering the queued mails of one event (called by the event workflow's activity).

Each mail is claimed (`sending`, committed) before it is sent and marked `sent` after, so a
retried or concurrent delivery never sends one twice. An address that cannot go on the wire
fails that one mail, as does an SMTP error once the relay may have taken the mail (a second
copy would be worse than a missing one). A mail whose news is no longer true when it is
delivered (an update for someone who cancelled meanwhile) is skipped. Only when nothing reached
the relay (no connection) does the mail go back to the queue, and the error is raised so the
activity's retry sends it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession

from infra.mail import MailTransport
from services.meetings import links, mails
from services.meetings.repository import MeetingRepository
from services.stakeholders.addresses import UnsendableAddress

log = logging.getLogger(__name__)

# The news of these kinds is only true for someone still registered when it goes out.
NEEDS_REGISTERED = ("confirmation", "promoted", "update", "reminder")


@dataclass(frozen=True)
class DeliverySetup:
    transport: MailTransport
    maker: Callable[[], AbstractAsyncContextManager[AsyncSession]]
    mail_from: str
    public_url: str
    secret_key: str


async def deliver(setup: DeliverySetup, meeting_id: uuid.UUID) -> int:
    """Send every pending mail of the event; returns how many went out."""
    sent = 0
    while True:
        async with setup.maker() as session:
            ids = await MeetingRepository.from_session(session).claim_pending(meeting_id)
            await session.commit()
        if not ids:
            return sent
        for mail_id in ids:
            sent += await _one(setup, mail_id)


async def _one(setup: DeliverySetup, mail_id: uuid.UUID) -> int:
    async with setup.maker() as session:
        repo = MeetingRepository.from_session(session)
        mail = await repo.mail(mail_id)
        if mail is None or mail.registration_id is None:
            return 0
        reg = await repo.registration(mail.registration_id)
        meeting = await repo.get(mail.meeting_id)
        assert reg is not None and meeting is not None
        org = await repo.organisation(meeting.organisation_id)
        skip = None
        if mail.kind in NEEDS_REGISTERED and reg.status != "registered":
            skip = f"nicht mehr angemeldet ({reg.status})"
        elif mail.kind == "waitlisted" and reg.status != "waitlisted":
            skip = f"nicht mehr auf der Warteliste ({reg.status})"
        elif not reg.email:
            skip = "keine Adresse (gelöscht)"
        if skip:
            await repo.finish_mail(mail_id, "skipped", error=skip)
            await session.commit()
            return 0
        sender = mails.Sender(org_name=org.name if org else "", mail_from=setup.mail_from,
                              public_url=setup.public_url,
                              time_zone=(org.time_zone if org else None) or "Europe/Berlin",
                              org_slug=org.slug if org else "")
        payload = dict(mail.payload or {})
        if mail.kind == "optin":
            token = links.public_token(setup.secret_key, reg.id)
            payload["link"] = f"{setup.public_url.rstrip('/')}/anmeldung/{token}/bestaetigen"
        position = payload.get("position")
        try:
            message = mails.render(
                meeting, reg, mail.kind, payload, sender,
                manage_link=links.manage_link(setup.public_url, setup.secret_key, reg.id,
                                              reg.invitation_id),
                checkin_link=links.checkin_link(setup.public_url, meeting.id,
                                                reg.checkin_code),
                waitlist_position=int(position) if isinstance(position, int) else None)
        except UnsendableAddress as exc:
            log.warning("event mail %s not sendable: %s", mail_id, exc)
            await repo.finish_mail(mail_id, "failed", error=f"Adresse nicht zustellbar: {exc}")
            await session.commit()
            return 0
    try:
        await setup.transport.send(message)
    except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPConnectTimeoutError,
            ConnectionRefusedError) as exc:
        # Nothing reached the relay: back in the queue, the activity's retry sends it.
        await _finish(setup, mail_id, "pending", str(exc))
        raise
    except (aiosmtplib.SMTPException, OSError) as exc:
        # The relay may have taken it (a connection lost after the data): failed rather
        # than a second copy.
        log.warning("event mail %s failed: %s", mail_id, exc)
        await _finish(setup, mail_id, "failed", str(exc))
        return 0
    async with setup.maker() as session:
        await MeetingRepository.from_session(session).finish_mail(
            mail_id, "sent", at=datetime.now(UTC))
        await session.commit()
    return 1


async def _finish(setup: DeliverySetup, mail_id: uuid.UUID, status: str, error: str) -> None:
    async with setup.maker() as session:
        await MeetingRepository.from_session(session).finish_mail(mail_id, status,
                                                                  error=error[:500])
        await session.commit()
