"""Request and response bodies of events (meetings) and registrations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.input_rules import WindowedDateTime
from services.i18n import Language

AGE_BANDS = ("unter_18", "18_26", "27_44", "45_64", "65_plus", "keine_angabe")
GENDERS = ("weiblich", "maennlich", "divers", "keine_angabe")
ORIGINS = ("deutsch", "eu", "nicht_eu", "migrationsgeschichte", "keine_angabe")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MeetingCreate(_Strict):
    phase: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=10_000)
    # With an offset, or local time of the organisation's time zone without one.
    starts_at: WindowedDateTime
    ends_at: WindowedDateTime
    location: str = Field(default="", max_length=2_000)
    accessibility: str = Field(default="", max_length=2_000)
    online_url: str | None = Field(default=None, max_length=500)
    capacity: int = Field(default=0, ge=0, le=100_000)
    registration_opens_at: WindowedDateTime | None = None
    registration_deadline: WindowedDateTime | None = None
    public: bool = False
    reminder_hours: int = Field(default=24, ge=0, le=24 * 14)

    @field_validator("online_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("Der Online-Link muss mit https:// beginnen.")
        return value or None


class MeetingUpdate(_Strict):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=10_000)
    starts_at: WindowedDateTime | None = None
    ends_at: WindowedDateTime | None = None
    location: str | None = Field(default=None, max_length=2_000)
    accessibility: str | None = Field(default=None, max_length=2_000)
    online_url: str | None = Field(default=None, max_length=500)
    capacity: int | None = Field(default=None, ge=0, le=100_000)
    registration_opens_at: WindowedDateTime | None = None
    registration_deadline: WindowedDateTime | None = None
    public: bool | None = None
    reminder_hours: int | None = Field(default=None, ge=0, le=24 * 14)
    status: Literal["planned", "held", "cancelled"] | None = None
    minutes: str | None = Field(default=None, max_length=50_000)


class MeetingOut(BaseModel):
    id: uuid.UUID
    process_id: uuid.UUID
    phase: str
    template_key: str | None
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    location: str
    accessibility: str
    online_url: str | None
    capacity: int
    places_taken: int
    places_free: int | None
    waitlisted: int
    registration_opens_at: datetime | None
    registration_deadline: datetime | None
    status: str
    public: bool
    reminder_hours: int
    sequence: int
    minutes: str


class Needs(_Strict):
    wheelchair: bool = False
    sign_language: bool = False
    childcare: bool = False
    # The language an interpreter should speak (e.g. "tr", "ar", "uk").
    interpreter: str | None = Field(default=None, max_length=50)
    note: str = Field(default="", max_length=1_000)


class SelfDescription(_Strict):
    """Voluntary; each answer may be "keine_angabe". `origin` is kept only with
    `origin_consent` (DSGVO Art. 9: data that can reveal ethnic origin)."""

    age_band: Literal[AGE_BANDS] = "keine_angabe"  # type: ignore[valid-type]
    gender: Literal[GENDERS] = "keine_angabe"  # type: ignore[valid-type]
    origin: Literal[ORIGINS] = "keine_angabe"  # type: ignore[valid-type]
    origin_consent: bool = False
    group: str = Field(default="keine_angabe", max_length=100)


class RegistrationIn(_Strict):
    attending: bool
    companions: int = Field(default=0, ge=0, le=20)
    needs: Needs = Field(default_factory=Needs)
    self_description: SelfDescription | None = None


class PublicRegistrationIn(_Strict):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=320)
    companions: int = Field(default=0, ge=0, le=20)
    needs: Needs = Field(default_factory=Needs)
    language: Language = "de"


class RegistrationOut(BaseModel):
    id: uuid.UUID
    meeting_id: uuid.UUID
    status: str
    companions: int
    waitlist_position: int | None
    checkin_code: str | None


class RegistrationRow(BaseModel):
    """The coordinator's list (names and needs: staff only)."""

    id: uuid.UUID
    seq: int
    name: str | None
    email: str | None
    status: str
    companions: int
    needs: dict[str, object]
    walk_in: bool
    checkin_code: str
    waitlist_position: int | None
    checked_in_at: datetime | None
    registered_at: datetime | None
    # invitation | public | walk_in | multiplier (with the link's group and tier)
    channel: str = "invitation"
    multiplier_link_id: uuid.UUID | None = None
    group_key: str | None = None
    reach_tier: int | None = None


class ChannelCount(BaseModel):
    """Registrations of one channel (a multiplier link each on its own row)."""

    channel: str
    link_id: uuid.UUID | None
    label: str
    registered: int  # registrations placed (with `people` their people)
    people: int
    waitlisted: int
    pending: int  # not confirmed yet (double opt-in)
    cancelled: int  # cancelled or declined
