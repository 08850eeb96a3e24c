"""SQL for the domain event outbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert

from services.events.audience import TypeFilter
from services.models.domain_event import DomainEvent
from services.repository import Repository


def _scope(organisation_id: uuid.UUID, f: TypeFilter) -> ColumnElement[bool]:
    own = DomainEvent.organisation_id == organisation_id
    if f.everything:
        return own
    types = or_(DomainEvent.type.in_(f.exact),
                *(DomainEvent.type.startswith(p, autoescape=True) for p in f.prefixes))
    if f.excluded:
        types = and_(types, DomainEvent.type.not_in(f.excluded))
    return and_(own, types)


class EventRepository(Repository):
    async def append(self, values: dict[str, Any]) -> int | None:
        """Insert one event; with a dedupe key a repeated append is a no-op (returns None)."""
        stmt = insert(DomainEvent).values(**values)
        if values.get("dedupe_key"):
            stmt = stmt.on_conflict_do_nothing(index_elements=["dedupe_key"])
        result = await self.session.execute(stmt.returning(DomainEvent.seq))
        return result.scalar_one_or_none()

    async def list_after(
        self, scopes: Sequence[tuple[uuid.UUID, TypeFilter]], after: int, limit: int
    ) -> list[DomainEvent]:
        """The events after `after` of each organisation, of the types its filter admits (in
        SQL, so that a page holds `limit` visible events and `after` paging stays exact)."""
        if not scopes:
            return []
        stmt = (
            select(DomainEvent)
            .where(or_(*(_scope(org, f) for org, f in scopes)), DomainEvent.seq > after)
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
