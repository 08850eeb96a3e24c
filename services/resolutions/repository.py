"""SQL of the council resolution: drafts, versions, files, the clerk's inbox, OParl lists."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from services.models.resolution import ResolutionDraft, ResolutionFile, ResolutionVersion
from services.repository import Repository

# Versions that reached the clerk (the inbox, OParl's papers).
DELIVERED = ("submitted", "received", "scheduled", "deferred", "adopted", "amended", "rejected")


class ResolutionRepository(Repository):
    async def draft(self, process_id: uuid.UUID, *, lock: bool = False) -> ResolutionDraft | None:
        stmt = select(ResolutionDraft).where(ResolutionDraft.process_id == process_id)
        if lock:
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).one_or_none()

    async def insert_draft(self, values: dict[str, Any]) -> None:
        await self.session.execute(insert(ResolutionDraft).values(**values)
                                   .on_conflict_do_nothing(index_elements=["process_id"]))

    async def update_draft(self, draft_id: uuid.UUID, values: dict[str, Any]) -> None:
        await self.session.execute(update(ResolutionDraft)
                                   .where(ResolutionDraft.id == draft_id).values(**values))

    async def versions(self, process_id: uuid.UUID) -> list[ResolutionVersion]:
        return list((await self.session.scalars(
            select(ResolutionVersion).where(ResolutionVersion.process_id == process_id)
            .order_by(ResolutionVersion.number))).all())

    async def version(self, version_id: uuid.UUID, *,
                      lock: bool = False) -> ResolutionVersion | None:
        stmt = select(ResolutionVersion).where(ResolutionVersion.id == version_id)
        if lock:
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).one_or_none()

    async def version_by_number(self, process_id: uuid.UUID,
                                number: int) -> ResolutionVersion | None:
        return (await self.session.scalars(select(ResolutionVersion).where(
            ResolutionVersion.process_id == process_id,
            ResolutionVersion.number == number))).one_or_none()

    async def final_of(self, version_id: uuid.UUID) -> ResolutionVersion | None:
        return (await self.session.scalars(select(ResolutionVersion).where(
            ResolutionVersion.based_on == version_id))).one_or_none()

    async def next_number(self, process_id: uuid.UUID) -> int:
        n = await self.session.scalar(select(func.coalesce(func.max(ResolutionVersion.number), 0))
                                      .where(ResolutionVersion.process_id == process_id))
        return int(n or 0) + 1

    def add(self, obj: object) -> None:
        self.session.add(obj)

    async def flush(self) -> None:
        await self.session.flush()

    async def update_version(self, version_id: uuid.UUID, values: dict[str, Any]) -> None:
        await self.session.execute(update(ResolutionVersion)
                                   .where(ResolutionVersion.id == version_id).values(**values))

    async def files(self, version_ids: Sequence[uuid.UUID]) -> list[ResolutionFile]:
        """The files' metadata (the bytes are deferred: lists never load documents)."""
        if not version_ids:
            return []
        from sqlalchemy.orm import defer

        return list((await self.session.scalars(
            select(ResolutionFile).options(defer(ResolutionFile.data))
            .where(ResolutionFile.version_id.in_(version_ids))
            .order_by(ResolutionFile.kind))).all())

    async def file(self, version_id: uuid.UUID, kind: str) -> ResolutionFile | None:
        return (await self.session.scalars(select(ResolutionFile).where(
            ResolutionFile.version_id == version_id, ResolutionFile.kind == kind))).one_or_none()

    async def file_by_id(self, file_id: uuid.UUID) -> ResolutionFile | None:
        return await self.session.get(ResolutionFile, file_id)

    async def insert_file(self, values: dict[str, Any]) -> None:
        await self.session.execute(insert(ResolutionFile).values(**values)
                                   .on_conflict_do_nothing(index_elements=["version_id", "kind"]))

    async def delivered(self, org_ids: Sequence[uuid.UUID], *, limit: int = 500,
                        offset: int = 0) -> list[ResolutionVersion]:
        """Versions at the clerk's office (and final versions), newest first."""
        if not org_ids:
            return []
        return list((await self.session.scalars(
            select(ResolutionVersion)
            .where(ResolutionVersion.organisation_id.in_(org_ids),
                   ResolutionVersion.status.in_(DELIVERED))
            .order_by(ResolutionVersion.created_at.desc(), ResolutionVersion.id)
            .limit(limit).offset(offset))).all())

    async def papers(self, org_id: uuid.UUID, *, limit: int,
                     offset: int) -> tuple[list[ResolutionVersion], int]:
        """OParl papers of one body in a stable order, with the total count."""
        where = (ResolutionVersion.organisation_id == org_id,
                 ResolutionVersion.status.in_(DELIVERED))
        total = await self.session.scalar(select(func.count()).select_from(ResolutionVersion)
                                          .where(*where))
        rows = list((await self.session.scalars(
            select(ResolutionVersion).where(*where)
            .order_by(ResolutionVersion.created_at, ResolutionVersion.id)
            .limit(limit).offset(offset))).all())
        return rows, int(total or 0)
