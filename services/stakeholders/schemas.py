"""Shapes of the stakeholder registry (services and API share them)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.input_rules import WindowedDateTime
from services.i18n import Language
from services.stakeholders.rules import (
    normalise_email,
    normalise_group,
    normalise_name,
    normalise_tags,
)


class StakeholderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=320)
    kind: Literal["person", "organisation"] = "person"
    group: str = Field(min_length=1, max_length=100)
    reach_tier: int = Field(default=1, ge=1, le=3)
    tags: list[str] = Field(default_factory=list, max_length=50)
    language: Language = "de"
    accessibility_needs: str | None = Field(default=None, max_length=2000)
    notes: str | None = Field(default=None, max_length=5000)
    # Before 2000 or after 2100 is a typo (the product's date window, as for the API).
    consent_at: WindowedDateTime | None = None
    consent_method: str | None = Field(default=None, max_length=200)
    # 'consent' or 'public_task'; omitted: consent when consent_at is given, else the
    # organisation's declared public task, else 422 (no one is invited without a basis).
    legal_basis: str | None = Field(default=None, max_length=40)
    parent_id: uuid.UUID | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalise_email(value)

    @field_validator("group")
    @classmethod
    def _group(cls, value: str) -> str:
        return normalise_group(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return normalise_tags(value)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        # One line of plain text: it goes into the To: header of every mail.
        return normalise_name(value)


class StakeholderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    name: str | None
    email: str | None
    group: str = Field(validation_alias="group_key")
    reach_tier: int
    tags: list[str]
    language: str
    accessibility_needs: str | None
    notes: str | None
    consent_at: datetime | None
    consent_method: str | None
    legal_basis: str | None
    parent_id: uuid.UUID | None
    unsubscribed_at: datetime | None
    erased_at: datetime | None
    created_at: datetime
    updated_at: datetime


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=300)
    key: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("label")
    @classmethod
    def _label(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("Die Bezeichnung fehlt.")
        return value

    @field_validator("key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        return None if value is None else normalise_group(value)


class GroupOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    label: str
    source: str


class StakeholderPage(BaseModel):
    items: list[StakeholderOut]
    total: int
    page: int
    per_page: int


class RejectedRow(BaseModel):
    row: int
    field: str
    message: str
    # The column's heading as the file spells it ("E-Mail" for field "email").
    column: str | None = None


class ImportResult(BaseModel):
    created: int
    updated: int
    rejected: list[RejectedRow]


class StakeholderExport(BaseModel):
    """Everything held on one person (DSGVO Art. 15)."""

    stakeholder: StakeholderOut
    contact_persons: list[uuid.UUID]
    invitations: list[dict[str, Any]]
    mails: list[dict[str, Any]]
    # Registrations for events (with the needs given there).
    event_registrations: list[dict[str, Any]] = Field(default_factory=list)
    consent: dict[str, Any]
    exported_at: datetime
