"""SQL for the domain event outbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from services.models.domain_event import DomainEvent
from services.repository import Repository


class EventRepository(Repository):
    async def append(self, values: dict[str, Any]) -> int | None:
        """Insert one event; with a dedupe key a repeated append is a no-op (returns None)."""
        stmt = insert(DomainEvent).values(**values)
        if values.get("dedupe_key"):
            stmt = stmt.on_conflict_do_nothing(index_elements=["dedupe_key"])
        result = await self.session.execute(stmt.returning(DomainEvent.seq))
        return result.scalar_one_or_none()

    async def list_after(
        self, organisation_ids: Sequence[uuid.UUID], after: int, limit: int
    ) -> list[DomainEvent]:
        if not organisation_ids:
            return []
        stmt = (
            select(DomainEvent)
            .where(DomainEvent.organisation_id.in_(organisation_ids), DomainEvent.seq > after)
            .order_by(DomainEvent.seq)
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    async def newest_seq(self, organisation_ids: Sequence[uuid.UUID]) -> int:
        if not organisation_ids:
            return 0
        value = await self.session.scalar(
            select(func.coalesce(func.max(DomainEvent.seq), 0)).where(
                DomainEvent.organisation_id.in_(organisation_ids)
            )
        )
        return int(value or 0)
