"""Shapes of campaigns and their live progress."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.campaign import parse_offset
from contracts.input_rules import BoundedDateTime, bounded_duration
from services.stakeholders.rules import normalise_group, normalise_tags


class Audience(BaseModel):
    model_config = ConfigDict(extra="forbid")

    groups: list[str] = Field(default_factory=list, max_length=50)
    tiers: list[int] = Field(default_factory=list, max_length=3)
    tags: list[str] = Field(default_factory=list, max_length=50)

    @field_validator("groups")
    @classmethod
    def _groups(cls, value: list[str]) -> list[str]:
        return sorted({normalise_group(g) for g in value})

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: list[int]) -> list[int]:
        if any(t not in (1, 2, 3) for t in value):
            raise ValueError("Erreichbarkeitsstufen sind 1, 2 und 3.")
        return sorted(set(value))

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return normalise_tags(value)


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["survey", "event"]
    target_id: uuid.UUID
    title: str = Field(default="", max_length=300)
    audience: Audience = Field(default_factory=Audience)
    reminders: list[str] = Field(default_factory=list, max_length=10)
    # With an offset (any, -12:00 too) and inside 2000-2100: the workflow's timers and the
    # mails' local dates are computed from it.
    deadline: BoundedDateTime

    @field_validator("reminders")
    @classmethod
    def _reminders(cls, value: list[str]) -> list[str]:
        # Bounded here, not in parse_offset: running campaigns parse theirs again on replay.
        offsets = [bounded_duration(parse_offset(v)) for v in value]
        if offsets != sorted(offsets) or len(set(offsets)) != len(offsets):
            raise ValueError("Erinnerungen aufsteigend und ohne Doppelungen angeben.")
        return [v.strip().upper() for v in value]


class CampaignOut(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    process_id: uuid.UUID | None
    kind: str
    target_id: uuid.UUID | None
    title: str
    audience: dict[str, list]
    reminders: list[str]
    deadline: datetime
    status: str
    started_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    total: int
    # Invitations the relay confirmed (250).
    sent: int
    # Mails (invitations and reminders) handed to the relay without its confirmation: a
    # dropped connection or a crash after the message went out. Never sent again.
    unconfirmed: int = 0
    failed: int
    # Invitations dealt with: handed to the relay (confirmed or not) or failed for good.
    processed: int = 0
    responded: int
    declined: int
    reminded: int
    pending: int
    # Invitations a cancel left unsent.
    cancelled: int = 0
    progress_percent: float
