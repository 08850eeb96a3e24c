"""Events of a process (Veranstaltungen: kick-off, Bergfest, training days), their
registrations and waitlist, the mail ledger of their confirmations, and the voluntary,
unlinkable self-descriptions of who came.

Named "meetings" in code: "events" are the domain event feed (services/events).

Capacity: `places_taken` counts registered people with their companions and `waiting` the
waitlisted registrations; both change only under a row lock on the meeting
(services/meetings/repository.py), and a check constraint keeps the places within the capacity
whatever a future code path does.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, created_at, uuid_pk
from services.models.survey import random_pk

MEETING_STATUSES = ("planned", "open", "full", "held", "cancelled")
# pending: public registration waiting for the double opt-in link; registered; waitlisted;
# cancelled (by the person or staff); declined (invited, said no).
REGISTRATION_STATUSES = ("pending", "registered", "waitlisted", "cancelled", "declined")
# Where a registration came from: the personal link of an event campaign, the town's public
# registration page, at the door, or a partner organisation's multiplier link (0023).
REGISTRATION_CHANNELS = ("invitation", "public", "walk_in", "multiplier")
_CHANNEL_CHECK = "channel IN ('invitation', 'public', 'walk_in', 'multiplier')"


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint("status IN ('planned', 'open', 'full', 'held', 'cancelled')",
                        name="status"),
        CheckConstraint("capacity >= 0", name="capacity"),
        CheckConstraint("places_taken >= 0 AND (capacity = 0 OR places_taken <= capacity)",
                        name="within_capacity"),
        CheckConstraint("waiting >= 0", name="waiting"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        # One event per template entry and process: a retried start cannot create it twice.
        UniqueConstraint("process_id", "template_key"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    process_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), index=True)
    phase_key: Mapped[str] = mapped_column(String(100))
    template_key: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    location: Mapped[str] = mapped_column(Text, default="")
    accessibility: Mapped[str] = mapped_column(Text, default="")
    online_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    places_taken: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # How many wait (kept with places_taken under the same lock): "anyone waiting?" is then
    # a column of the locked row, so one statement can place a registration (the hot path
    # in services/meetings/repository.py) without reading the registrations.
    waiting: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    registration_opens_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    registration_deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default="planned")
    # Open to the town: a public registration page and the process's .ics feed.
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    reminder_hours: Mapped[int] = mapped_column(SmallInteger, default=24, server_default="24")
    # Raised on every change of time, place or status: the iCalendar SEQUENCE of the feed.
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    minutes: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now())


class MeetingRegistration(Base):
    __tablename__ = "meeting_registrations"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'registered', 'waitlisted', 'cancelled', 'declined')",
            name="status"),
        CheckConstraint("companions BETWEEN 0 AND 20", name="companions"),
        CheckConstraint(_CHANNEL_CHECK, name="channel"),
        CheckConstraint("reach_tier IS NULL OR reach_tier BETWEEN 1 AND 3", name="reach_tier"),
        # One registration per invitation and event; a public one per address and event.
        Index("uq_meeting_registrations_invitation", "meeting_id", "invitation_id",
              unique=True, postgresql_where=text("invitation_id IS NOT NULL")),
        Index("uq_meeting_registrations_public_email", "meeting_id", "email",
              unique=True, postgresql_where=text("invitation_id IS NULL AND NOT walk_in")),
        Index("ix_meeting_registrations_meeting_status_seq", "meeting_id", "status", "seq"),
        UniqueConstraint("checkin_code"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    # Arrival order: assigned when the row is written, under the meeting's lock, so the
    # waitlist moves up in the order people asked.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True))
    meeting_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    invitation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="SET NULL"))
    stakeholder_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("stakeholders.id", ondelete="SET NULL"), index=True)
    # Personal data (erased with the stakeholder).
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(12), default="de")
    status: Mapped[str] = mapped_column(String(20))
    companions: Mapped[int] = mapped_column(SmallInteger, default=0)
    # {wheelchair: bool, sign_language: bool, childcare: bool, interpreter: "tr"|..., note}
    needs: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    walk_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    # The server default is the personal link's: its one-statement hot path
    # (services/meetings/repository.py) leaves the column out.
    channel: Mapped[str] = mapped_column(String(20), default="invitation",
                                         server_default="invitation")
    # A multiplier link's registration: the link and the group and tier it is counted for
    # (the coordinator sees the registration's name anyway; nothing anonymous is linked).
    multiplier_link_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("multiplier_links.id", ondelete="SET NULL"), index=True)
    group_key: Mapped[str | None] = mapped_column(String(100))
    reach_tier: Mapped[int | None] = mapped_column(SmallInteger)
    checkin_code: Mapped[str] = mapped_column(String(8))
    # Double opt-in of a public registration: only the hash of the mailed link's token.
    confirm_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The iCalendar SEQUENCE of this person's invitation: raised with every mail that
    # changes it (reschedule, cancellation), so calendars apply the newest.
    ics_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    registered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    promoted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()


class MeetingMail(Base):
    """One row per mail about an event that must go out once (idempotency_key unique)."""

    __tablename__ = "meeting_mails"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'skipped')",
                        name="status"),
        Index("ix_meeting_mails_pending", "meeting_id",
              postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    meeting_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"))
    registration_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("meeting_registrations.id", ondelete="CASCADE"), index=True)
    # confirmation | waitlisted | promoted | update | cancel | reminder | optin
    kind: Mapped[str] = mapped_column(String(20))
    # What the mail says, frozen when it was queued (a later change queues its own mail):
    # the iCalendar SEQUENCE, the method, a confirmation token for the opt-in link.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # pending → sending (claimed by one delivery, committed before the SMTP send) → sent or
    # failed; skipped when no longer true at delivery (an update to someone who has cancelled
    # since). A crash after the claim leaves `sending`: never sent twice, at most lost.
    status: Mapped[str] = mapped_column(String(20), default="pending")
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()


class MeetingSelfDescription(Base):
    """A voluntary self-description given at registration. Deliberately no registration,
    invitation, stakeholder or token column, a random id and a date only (as anonymous survey
    answers): nothing leads back to the person."""

    __tablename__ = "meeting_self_descriptions"
    __table_args__ = (CheckConstraint(_CHANNEL_CHECK, name="channel"),)

    id: Mapped[uuid.UUID] = random_pk()
    meeting_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    process_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), index=True)
    age_band: Mapped[str] = mapped_column(String(20), default="keine_angabe")
    gender: Mapped[str] = mapped_column(String(20), default="keine_angabe")
    # Only with the separate explicit consent (DSGVO Art. 9); otherwise "keine_angabe".
    origin: Mapped[str] = mapped_column(String(40), default="keine_angabe")
    group_key: Mapped[str] = mapped_column(String(100), default="keine_angabe")
    # The registration's channel (counts by channel, suppressed below 5 where shown).
    channel: Mapped[str] = mapped_column(String(20), default="invitation",
                                         server_default="invitation")
    given_on: Mapped[date] = mapped_column(Date, server_default=func.current_date())
