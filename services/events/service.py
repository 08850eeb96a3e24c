"""Recording and reading domain events (the outbox that feeds the API feed, SSE and webhooks)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.events.audience import shape, type_filter
from services.events.repository import EventRepository

if TYPE_CHECKING:  # identity records events itself: a runtime import would be circular
    from services.identity.service import Principal


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
    session: AsyncSession, principal: Principal, *, after: int, limit: int
) -> list[EventOut]:
    """The events of the principal's organisations that its role there may see, each with the
    fields that role may see (services/events/audience.py); the feed and the stream both."""
    roles = {org_id: entry.role for org_id, entry in principal.orgs.items()}
    scopes = [(org_id, type_filter(role)) for org_id, role in roles.items()]
    rows = await EventRepository.from_session(session).list_after(scopes, after, limit)
    out = []
    for r in rows:
        if r.organisation_id is None:
            continue  # not reachable through the scopes; a guard for the shaping below
        shaped = shape(r.type, r.actor, r.data, roles[r.organisation_id])
        if shaped is None:
            continue  # the SQL filter admits only visible types; kept as a second lock
        actor, data = shaped
        out.append(EventOut(seq=r.seq, type=r.type, process_id=r.process_id,
                            occurred_at=r.occurred_at, actor=actor, data=data))
    return out


async def newest_seq(session: AsyncSession, organisation_ids: Sequence[uuid.UUID]) -> int:
    return await EventRepository.from_session(session).newest_seq(organisation_ids)
