"""Stakeholders: the persons and organisations a municipality invites to take part."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from services.i18n import LANGUAGES  # noqa: F401  (the model's list, as before)
from services.models.base import Base, created_at, uuid_pk

LANGUAGE_LIST = ", ".join(f"'{code}'" for code in LANGUAGES)

KINDS = ("person", "organisation")
# Why the municipality may write to someone (DSGVO Art. 6): their consent (with its date), or a
# public task the organisation has declared (Organisation.public_task_basis). NULL: no mail.
LEGAL_BASES = ("consent", "public_task")


class Stakeholder(Base):
    __tablename__ = "stakeholders"
    __table_args__ = (
        # NULLs are distinct, so erased rows (email NULL) never collide.
        UniqueConstraint("organisation_id", "email"),
        CheckConstraint("reach_tier BETWEEN 1 AND 3", name="reach_tier"),
        CheckConstraint("kind IN ('person', 'organisation')", name="kind"),
        CheckConstraint(f"language IN ({LANGUAGE_LIST})", name="language"),
        CheckConstraint("legal_basis IS NULL OR legal_basis = 'public_task' "
                        "OR (legal_basis = 'consent' AND consent_at IS NOT NULL)",
                        name="legal_basis"),
        Index("ix_stakeholders_org_group_tier", "organisation_id", "group_key", "reach_tier"),
        Index("ix_stakeholders_tags", "tags", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(20), default="person")
    # Personal data: NULL after erasure (DSGVO Art. 17).
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    group_key: Mapped[str] = mapped_column(String(100))
    reach_tier: Mapped[int] = mapped_column(SmallInteger, default=1)
    tags: Mapped[list[str]] = mapped_column(
        ARRAY(Text), default=list, server_default=text("'{}'::text[]")
    )
    language: Mapped[str] = mapped_column(String(12), default="de")
    accessibility_needs: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    consent_method: Mapped[str | None] = mapped_column(String(200))
    legal_basis: Mapped[str | None] = mapped_column(String(20))
    # A contact person of an organisation points at the organisation's row.
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("stakeholders.id", ondelete="SET NULL"), index=True
    )
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class OrganisationGroup(Base):
    """A stakeholder group an organisation knows: from the templates of its processes, added
    by hand, or created by an import that asked for it. Imports and campaigns check against
    these, so a typo cannot create a group nobody invites."""

    __tablename__ = "organisation_groups"
    __table_args__ = (
        UniqueConstraint("organisation_id", "key"),
        CheckConstraint("source IN ('template', 'manual', 'import')", name="source"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    key: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = created_at()
