"""Templates an organisation uploads (or the platform admin shares): one row per version.

A row never changes; uploading the same key again adds version n+1. Processes copy the
template into their own snapshot when they start, so a new version never changes a running
process.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, created_at, uuid_pk


class OrgTemplate(Base):
    __tablename__ = "org_templates"
    __table_args__ = (
        CheckConstraint("kind IN ('process', 'survey')", name="kind"),
        # One numbering per owner and key; platform-shared rows (organisation NULL) have
        # their own (NULLs are distinct in a plain unique constraint).
        Index("uq_org_templates_owner_key_version", "organisation_id", "kind", "key", "version",
              unique=True, postgresql_where=text("organisation_id IS NOT NULL")),
        Index("uq_org_templates_shared_key_version", "kind", "key", "version", unique=True,
              postgresql_where=text("organisation_id IS NULL")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    # NULL: shared by the platform admin with every organisation.
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(63))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    # The file as uploaded (downloaded again as a starting point) and what it was validated to.
    source_yaml: Mapped[str] = mapped_column(Text)
    parsed: Mapped[dict[str, Any]] = mapped_column(JSONB)
    content_hash: Mapped[str] = mapped_column(String(64))
    derived_from: Mapped[str | None] = mapped_column(String(63))
    created_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at()
