"""SQL of the uploaded templates (`org_templates`)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from services.models.template import OrgTemplate
from services.repository import Repository


class TemplateRepository(Repository):
    async def latest(self, organisation_id: uuid.UUID | None, kind: str,
                     key: str) -> OrgTemplate | None:
        """The newest version of `key` owned by the organisation (None: platform-shared)."""
        owner = (OrgTemplate.organisation_id.is_(None) if organisation_id is None
                 else OrgTemplate.organisation_id == organisation_id)
        return await self.session.scalar(
            select(OrgTemplate).where(owner, OrgTemplate.kind == kind, OrgTemplate.key == key)
            .order_by(OrgTemplate.version.desc()).limit(1))

    async def latest_of_owners(self, organisation_ids: list[uuid.UUID],
                               kind: str) -> list[OrgTemplate]:
        """The newest version of every key of these organisations and of the platform."""
        owner = or_(OrgTemplate.organisation_id.in_(organisation_ids),
                    OrgTemplate.organisation_id.is_(None))
        ranked = (
            select(OrgTemplate.id, func.row_number().over(
                partition_by=(OrgTemplate.organisation_id, OrgTemplate.key),
                order_by=OrgTemplate.version.desc()).label("n"))
            .where(owner, OrgTemplate.kind == kind).subquery())
        rows = await self.session.scalars(
            select(OrgTemplate).join(ranked, ranked.c.id == OrgTemplate.id)
            .where(ranked.c.n == 1).order_by(OrgTemplate.key))
        return list(rows)

    async def versions(self, organisation_id: uuid.UUID | None) -> list[OrgTemplate]:
        """Every version the organisation (None: the platform) uploaded, newest first per key."""
        owner = (OrgTemplate.organisation_id.is_(None) if organisation_id is None
                 else OrgTemplate.organisation_id == organisation_id)
        rows = await self.session.scalars(
            select(OrgTemplate).where(owner)
            .order_by(OrgTemplate.kind, OrgTemplate.key, OrgTemplate.version.desc()))
        return list(rows)

    async def add(self, row: OrgTemplate) -> bool:
        """Insert; False if the same version was written meanwhile (a concurrent upload)."""
        try:
            async with self.session.begin_nested():
                self.session.add(row)
                await self.session.flush()
        except IntegrityError:
            return False
        return True
