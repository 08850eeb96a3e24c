"""Process notices (reminders, overdue notices, approval mails): the mail ledger loop.

Like the campaign sender (services/campaigns/service.py), the domain owns the ledger: each
recipient's mail is claimed under `{idempotency_key}:{email}` (row first), sent, then marked
sent, so a retried activity sends only what is missing. The activity is a thin adapter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.process import NotifyInput
from infra.db import session_scope
from infra.mail import MailTransport
from services.identity.repository import IdentityRepository
from services.processes import mails
from services.processes import service as processes
from services.processes.repository import ProcessRepository
from services.resolutions import service as resolutions
from services.stakeholders.addresses import UnsendableAddress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NoticeSetup:
    transport: MailTransport
    mail_from: str
    public_url: str
    maker: async_sessionmaker[AsyncSession] | None = None  # None: infra.db's configured one


async def send_notice(setup: NoticeSetup, data: NotifyInput) -> int:
    """Mail each recipient once under `{idempotency_key}:{email}`. Returns how many mails
    this call sent (0 when all were sent or failed before)."""
    async with session_scope(setup.maker) as session:
        repo = ProcessRepository.from_session(session)
        process = await repo.get(data.process_id)
        org = await IdentityRepository.from_session(session).org_by_id(data.organisation_id)
        people = await processes.recipients(session, data.organisation_id, data.recipients,
                                            role=data.recipient_role)
        subject = mails.subject(data, process.title if process else "")
        attachment = None
        reasons: list[str] = []
        if data.kind == "approval_result" and data.approval_id is not None:
            # Written by close_approval before this mail: why the steering group said no.
            approval = await repo.approval(data.approval_id)
            if approval is not None and approval.status == "rejected":
                reasons = list(approval.reasons or [])
        if data.kind == "resolution_submitted" and data.resolution_id is not None:
            # The clerk gets the submitted version's PDF with the mail.
            attachment = await resolutions.submission_attachment(session, data.resolution_id)
        todo = []
        for person in people:
            key = f"{data.idempotency_key}:{person.email}"
            row = await repo.claim_notification({
                "idempotency_key": key, "process_id": data.process_id, "kind": data.kind,
                "recipient": person.email, "subject": subject[:300],
                "scheduled_for": data.scheduled_for, "status": "pending"})
            if row.status not in ("sent", "failed"):
                todo.append((key, person.email))
    if process is None or org is None:
        return 0
    sent = 0
    for key, address in todo:
        try:
            msg = mails.render(data, to=address, process_title=process.title,
                               mail_from=setup.mail_from, org_name=org.name,
                               public_url=setup.public_url, attachment=attachment,
                               reasons=reasons)
        except UnsendableAddress as exc:
            # That one mail fails for good; a retry could never send it and would hold up
            # everyone else's.
            log.warning("process notice %s not sendable: %s", key, exc)
            async with session_scope(setup.maker) as session:
                await ProcessRepository.from_session(session).mark_failed(key)
            continue
        await setup.transport.send(msg)
        async with session_scope(setup.maker) as session:
            await ProcessRepository.from_session(session).mark_sent(key, datetime.now(UTC))
        sent += 1
    return sent
