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


class MeOut(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str
    organisations: list[dict[str, str]]
