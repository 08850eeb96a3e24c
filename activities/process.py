"""Activities of the process engine: thin, idempotent adapters onto services/processes.

Each runs in its own unit of work; every write has a unique key (transition key, approval id,
vote per user, mail ledger key), so Temporal's at-least-once execution never duplicates.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
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
from services.processes import notices
from services.processes import service as processes


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
    """Mail each recipient once (services.processes.notices owns the ledger loop). Returns
    how many mails this attempt sent."""
    settings = get_settings()
    return await notices.send_notice(notices.NoticeSetup(
        transport=get_transport(), mail_from=settings.mail_from,
        public_url=settings.public_url), data)


PROCESS_ACTIVITIES: list[Callable[..., Any]] = [
    persist_process_state, open_approval, record_vote, close_approval, notify_process]

ACTIVITIES.extend(PROCESS_ACTIVITIES)
