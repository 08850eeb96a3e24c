"""SQL for the organisation's public pages."""

from __future__ import annotations

import uuid

from services.models.legal import OrganisationLegal
from services.models.organisation import Organisation
from services.repository import Repository


class LegalRepository(Repository):
    async def get(self, organisation_id: uuid.UUID) -> OrganisationLegal | None:
        return await self.session.get(OrganisationLegal, organisation_id)

    def add(self, row: OrganisationLegal) -> None:
        self.session.add(row)

    async def flush(self) -> None:
        await self.session.flush()

    async def slug_of(self, organisation_id: uuid.UUID) -> str | None:
        # By primary key: the identity map then serves the page's other lookups of it.
        org = await self.session.get(Organisation, organisation_id)
        return org.slug if org else None
