"""What an organisation publishes about itself: Impressum, privacy notice, contact."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base


class OrganisationLegal(Base):
    """One row per organisation, written by its admin. Without a row the public pages say that
    nothing is filled in yet (services/legal/service.py), so they always answer."""

    __tablename__ = "organisation_legal"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    # Impressum (§ 5 DDG): who offers the pages, where, represented by whom, how to reach them.
    responsible: Mapped[str] = mapped_column(Text)  # name and postal address, several lines
    represented_by: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str] = mapped_column(String(50), default="")
    imprint_extra: Mapped[str] = mapped_column(Text, default="")
    # DSGVO Art. 13: data protection officer, purpose, legal basis, retention, authority.
    dpo_name: Mapped[str] = mapped_column(String(200))
    dpo_email: Mapped[str] = mapped_column(String(320))
    purpose: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    retention: Mapped[str] = mapped_column(Text, default="")
    supervisory_authority: Mapped[str] = mapped_column(Text, default="")
    # Contact page: office hours, how to reach a person.
    contact_note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())
    updated_by: Mapped[str] = mapped_column(String(320), default="")
