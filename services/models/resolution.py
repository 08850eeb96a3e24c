"""Council resolution: the working draft of a process, its immutable versions and their files.

The draft is what the coordinator edits; each compile freezes it (with the participation
report of that moment) into a numbered version with a content hash. A submitted version is a
"resolution" at the clerk's office: its id is the one the clerk's endpoints and the
CouncilResolutionWorkflow use, and its rows carry what the council did with it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, created_at, uuid_pk


class ResolutionDraft(Base):
    __tablename__ = "resolution_drafts"

    id: Mapped[uuid.UUID] = uuid_pk()
    process_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), unique=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    # services/resolutions/schemas.py DraftSections, as JSON.
    sections: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Counts the edits: a version remembers the revision it froze, so an edit after an
    # approval is visible (the approved version no longer is the draft).
    revision: Mapped[int] = mapped_column(Integer, default=0)
    # drafting | submitted | decided
    status: Mapped[str] = mapped_column(String(20), default="drafting")
    # Why the council sent the last version back (outcome rejected), shown while redrafting.
    rejection: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    updated_by: Mapped[str | None] = mapped_column(String(320))
    updated_at: Mapped[datetime] = created_at()
    created_at: Mapped[datetime] = created_at()


class ResolutionVersion(Base):
    __tablename__ = "resolution_versions"
    __table_args__ = (UniqueConstraint("process_id", "number"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    process_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    # draft: compiled from the working draft; final: the wording the council adopted.
    kind: Mapped[str] = mapped_column(String(10), default="draft")
    based_on: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("resolution_versions.id"))
    draft_revision: Mapped[int] = mapped_column(Integer)
    # Frozen: sections, participation report, metadata. Never updated after insert.
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    content_hash: Mapped[str] = mapped_column(String(64))
    author: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Every change of the rows below (OParl `modified`).
    modified_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    approval_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("process_approvals.id", ondelete="SET NULL"))
    # compiled | submitted | received | scheduled | deferred | adopted | amended | rejected
    status: Mapped[str] = mapped_column(String(20), default="compiled")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_by: Mapped[str | None] = mapped_column(String(320))
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    body: Mapped[str | None] = mapped_column(String(300))
    meeting_date: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(20))
    decided_on: Mapped[date | None] = mapped_column(Date)
    minutes_ref: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    amendments: Mapped[str | None] = mapped_column(Text)


class ResolutionFile(Base):
    """A rendered document of a version (rendered once: its size and checksum stay true)."""

    __tablename__ = "resolution_files"
    __table_args__ = (UniqueConstraint("version_id", "kind"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("resolution_versions.id", ondelete="CASCADE"), index=True)
    # pdf | docx | report (the participation report alone, as PDF)
    kind: Mapped[str] = mapped_column(String(10))
    file_name: Mapped[str] = mapped_column(String(200))
    mime_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha512: Mapped[str] = mapped_column(String(128))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
