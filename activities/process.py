"""Activities of the process engine: thin, idempotent adapters onto services/processes.

Each runs in its own unit of work; every write has a unique key (transition key, approval id,
vote per user, mail ledger key), so Temporal's at-least-once execution never duplicates.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities.failures import refused_data_is_final
from activities.registry import ACTIVITIES
from contracts.process import (
    CloseApprovalInput,
    NotifyInput,
    OpenApprovalInput,
    OpenApprovalResult,
    PersistProcessInput,
    RecordVoteInput,
)
from infra.config import get_settings
from infra.db import session_scope
from infra.mail import get_transport
from services.identity.repository import IdentityRepository
from services.processes import mails
from services.processes import service as processes
from services.processes.repository import ProcessRepository
from services.resolutions import service as resolutions
from services.stakeholders.addresses import UnsendableAddress

log = logging.getLogger(__name__)


@asynccontextmanager
async def writing() -> AsyncIterator[AsyncSession]:
    """The activity's unit of work; a write the database refuses as data is final."""
    with refused_data_is_final():
        async with session_scope() as session:
            yield session


@activity.defn(name="persist_process_state")
async def persist_process_state(data: PersistProcessInput) -> bool:
    async with writing() as session:
        return await processes.apply_snapshot(session, data)


@activity.defn(name="open_approval")
async def open_approval(data: OpenApprovalInput) -> OpenApprovalResult:
    async with writing() as session:
        return OpenApprovalResult(voters=await processes.open_approval(session, data))


@activity.defn(name="record_vote")
async def record_vote(data: RecordVoteInput) -> None:
    async with writing() as session:
        await processes.record_vote(session, data)


@activity.defn(name="close_approval")
async def close_approval(data: CloseApprovalInput) -> None:
    async with writing() as session:
        await processes.close_approval(session, data)


@activity.defn(name="notify_process")
async def notify_process(data: NotifyInput) -> int:
    """Mail each recipient once under `{idempotency_key}:{email}` (ledger row first, then
    the send, then the row marked sent). Returns how many mails this attempt sent."""
    settings = get_settings()
    async with session_scope() as session:
        repo = ProcessRepository.from_session(session)
        process = await repo.get(data.process_id)
        org = await IdentityRepository.from_session(session).org_by_id(data.organisation_id)
        people = await processes.recipients(session, data.organisation_id, data.recipients,
                                            role=data.recipient_role)
        subject = mails.subject(data, process.title if process else "")
        attachment = None
        if data.kind == "resolution_submitted" and data.resolution_id is not None:
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
    transport = get_transport()
    for key, address in todo:
        try:
            msg = mails.render(data, to=address, process_title=process.title,
                               mail_from=settings.mail_from, org_name=org.name,
                               public_url=settings.public_url, attachment=attachment)
        except UnsendableAddress as exc:
            # That one mail fails for good; a retry could never send it and would hold up
            # everyone else's.
            log.warning("process notice %s not sendable: %s", key, exc)
            async with session_scope() as session:
                await ProcessRepository.from_session(session).mark_failed(key)
            continue
        await transport.send(msg)
        async with session_scope() as session:
            await ProcessRepository.from_session(session).mark_sent(key, datetime.now(UTC))
        sent += 1
    return sent


PROCESS_ACTIVITIES: list[Callable[..., Any]] = [
    persist_process_state, open_approval, record_vote, close_approval, notify_process]

ACTIVITIES.extend(PROCESS_ACTIVITIES)
