"""HTTP request and response shapes of the foundation endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class OrgCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slug: str = Field(min_length=1, max_length=63)
    name: str = Field(min_length=1, max_length=200)


class OrgUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # The declared public task (e.g. "§ 5 HGO …"); null or "" withdraws it.
    public_task_basis: str | None = Field(max_length=2000)


class OrgOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    slug: str
    name: str
    time_zone: str
    public_task_basis: str | None = None
    created_at: datetime


class OrgLegalIn(BaseModel):
    """PUT /api/v1/orgs/{slug}/legal: the whole set (a missing field is stored empty). The
    rules and their German messages live in services/legal/service.py (shared with the page)."""

    model_config = ConfigDict(extra="forbid")
    responsible: str | None = None
    represented_by: str | None = None
    email: str | None = None
    phone: str | None = None
    imprint_extra: str | None = None
    dpo_name: str | None = None
    dpo_email: str | None = None
    purpose: str | None = None
    legal_basis: str | None = None
    retention: str | None = None
    supervisory_authority: str | None = None
    contact_note: str | None = None


class OrgLegalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    responsible: str = ""
    represented_by: str = ""
    email: str = ""
    phone: str = ""
    imprint_extra: str = ""
    dpo_name: str = ""
    dpo_email: str = ""
    purpose: str = ""
    legal_basis: str = ""
    retention: str = ""
    supervisory_authority: str = ""
    contact_note: str = ""
    updated_at: datetime | None = None
    updated_by: str = ""
    # The public pages (relative to the server), linked from participant pages and mails.
    pages: dict[str, str] = {}


class MeOut(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str
    organisations: list[dict[str, str]]
