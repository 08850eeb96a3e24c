"""Recording and reading domain events (the outbox that feeds the API feed, SSE and webhooks)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.events.repository import EventRepository


class EventOut(BaseModel):
    seq: int
    type: str
    process_id: uuid.UUID | None
    occurred_at: datetime
    actor: str | None
    data: dict[str, Any]


async def record_event(
    session: AsyncSession,
    *,
    organisation_id: uuid.UUID | None,
    type: str,
    data: dict[str, Any] | None = None,
    process_id: uuid.UUID | None = None,
    actor: str | None = None,
    dedupe_key: str | None = None,
) -> int | None:
    """Append an event inside the caller's transaction, so it commits with the change it records.

    `dedupe_key` makes the append idempotent for activities that Temporal may retry.
    """
    return await EventRepository.from_session(session).append(
        {
            "organisation_id": organisation_id,
            "type": type,
            "data": data or {},
            "process_id": process_id,
            "actor": actor,
            "dedupe_key": dedupe_key,
        }
    )


async def list_events(
    session: AsyncSession, organisation_ids: Sequence[uuid.UUID], *, after: int, limit: int
) -> list[EventOut]:
    rows = await EventRepository.from_session(session).list_after(organisation_ids, after, limit)
    return [
        EventOut(
            seq=r.seq,
            type=r.type,
            process_id=r.process_id,
            occurred_at=r.occurred_at,
            actor=r.actor,
            data=r.data,
        )
        for r in rows
    ]


async def newest_seq(session: AsyncSession, organisation_ids: Sequence[uuid.UUID]) -> int:
    return await EventRepository.from_session(session).newest_seq(organisation_ids)
