"""All SQL of events (meetings), registrations, their mail ledger and self-descriptions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import asyncpg
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert

from services import i18n
from services.campaigns.receipt import receipt_ctes
from services.models.campaign import Campaign
from services.models.meeting import (
    Meeting,
    MeetingMail,
    MeetingRegistration,
    MeetingSelfDescription,
)
from services.models.organisation import Organisation
from services.models.survey import MultiplierLink
from services.repository import Repository


class MeetingRepository(Repository):
    # --- events ---------------------------------------------------------------------------

    def add(self, meeting: Meeting) -> None:
        self.session.add(meeting)

    async def get(self, meeting_id: uuid.UUID) -> Meeting | None:
        return await self.session.get(Meeting, meeting_id)

    async def lock(self, meeting_id: uuid.UUID) -> Meeting | None:
        """The event row locked for this transaction: every change of its places goes through
        here, so concurrent registrations queue on the lock instead of racing a count."""
        stmt = (select(Meeting).where(Meeting.id == meeting_id).with_for_update()
                .execution_options(populate_existing=True))
        return (await self.session.scalars(stmt)).one_or_none()

    async def of_process(self, process_id: uuid.UUID, *, public_only: bool = False
                         ) -> list[Meeting]:
        stmt = select(Meeting).where(Meeting.process_id == process_id)
        if public_only:
            stmt = stmt.where(Meeting.public.is_(True))
        # Fresh rows: the registration hot path changes places and status by SQL, which a
        # Meeting already in this session's identity map would not show.
        return list((await self.session.scalars(
            stmt.order_by(Meeting.starts_at, Meeting.title)
            .execution_options(populate_existing=True))).all())

    async def insert_from_template(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(Meeting).values(rows).on_conflict_do_nothing(
                index_elements=["process_id", "template_key"]))

    async def organisation(self, organisation_id: uuid.UUID) -> Organisation | None:
        return await self.session.get(Organisation, organisation_id)

    async def campaign(self, campaign_id: uuid.UUID) -> Campaign | None:
        return await self.session.get(Campaign, campaign_id)

    # --- registrations --------------------------------------------------------------------

    async def registration(self, registration_id: uuid.UUID) -> MeetingRegistration | None:
        return await self.session.get(MeetingRegistration, registration_id,
                                      populate_existing=True)

    async def registration_for_invitation(self, meeting_id: uuid.UUID,
                                          invitation_id: uuid.UUID
                                          ) -> MeetingRegistration | None:
        stmt = select(MeetingRegistration).where(
            MeetingRegistration.meeting_id == meeting_id,
            MeetingRegistration.invitation_id == invitation_id,
        ).execution_options(populate_existing=True)
        return (await self.session.scalars(stmt)).one_or_none()

    async def public_registration(self, meeting_id: uuid.UUID, email: str
                                  ) -> MeetingRegistration | None:
        stmt = select(MeetingRegistration).where(
            MeetingRegistration.meeting_id == meeting_id,
            MeetingRegistration.invitation_id.is_(None),
            MeetingRegistration.walk_in.is_(False),
            MeetingRegistration.email == email,
        ).execution_options(populate_existing=True)
        return (await self.session.scalars(stmt)).one_or_none()

    async def by_confirm_hash(self, confirm_hash: str) -> MeetingRegistration | None:
        stmt = select(MeetingRegistration).where(
            MeetingRegistration.confirm_hash == confirm_hash
        ).execution_options(populate_existing=True)
        return (await self.session.scalars(stmt)).one_or_none()

    async def by_code(self, meeting_id: uuid.UUID, code: str) -> MeetingRegistration | None:
        stmt = select(MeetingRegistration).where(
            MeetingRegistration.meeting_id == meeting_id,
            MeetingRegistration.checkin_code == code,
        ).execution_options(populate_existing=True)
        return (await self.session.scalars(stmt)).one_or_none()

    async def add_registration(self, registration: MeetingRegistration) -> None:
        self.session.add(registration)
        await self.session.flush()
        await self.session.refresh(registration)

    async def requeue(self, registration_id: uuid.UUID) -> None:
        """A new place in the arrival order (someone who cancelled and asks again)."""
        await self.session.execute(text(
            "UPDATE meeting_registrations SET seq = DEFAULT WHERE id = :id"),
            {"id": registration_id})

    async def waitlist(self, meeting_id: uuid.UUID) -> list[MeetingRegistration]:
        stmt = select(MeetingRegistration).where(
            MeetingRegistration.meeting_id == meeting_id,
            MeetingRegistration.status == "waitlisted",
        ).order_by(MeetingRegistration.seq).execution_options(populate_existing=True)
        return list((await self.session.scalars(stmt)).all())

    async def waitlist_position(self, meeting_id: uuid.UUID, seq: int) -> int:
        return int(await self.session.scalar(
            select(func.count()).select_from(MeetingRegistration).where(
                MeetingRegistration.meeting_id == meeting_id,
                MeetingRegistration.status == "waitlisted",
                MeetingRegistration.seq <= seq)) or 0)

    async def registrations(self, meeting_id: uuid.UUID,
                            statuses: Sequence[str] | None = None
                            ) -> list[MeetingRegistration]:
        stmt = select(MeetingRegistration).where(MeetingRegistration.meeting_id == meeting_id)
        if statuses is not None:
            stmt = stmt.where(MeetingRegistration.status.in_(list(statuses)))
        return list((await self.session.scalars(
            stmt.order_by(MeetingRegistration.seq)
            .execution_options(populate_existing=True))).all())

    async def raise_sequences(self, meeting_id: uuid.UUID, statuses: Sequence[str]) -> None:
        await self.session.execute(
            update(MeetingRegistration)
            .where(MeetingRegistration.meeting_id == meeting_id,
                   MeetingRegistration.status.in_(list(statuses)))
            .values(ics_sequence=MeetingRegistration.ics_sequence + 1))

    async def by_channel(self, meeting_id: uuid.UUID) -> list[Any]:
        """Registrations per channel, link (its label) and status, with their companions."""
        reg = MeetingRegistration
        stmt = (select(reg.channel, reg.multiplier_link_id, MultiplierLink.label, reg.status,
                       func.count(), func.coalesce(func.sum(reg.companions), 0))
                .outerjoin(MultiplierLink, MultiplierLink.id == reg.multiplier_link_id)
                .where(reg.meeting_id == meeting_id)
                .group_by(reg.channel, reg.multiplier_link_id, MultiplierLink.label, reg.status))
        return list((await self.session.execute(stmt)).all())

    # --- self-descriptions ----------------------------------------------------------------

    async def self_description_channels(self, meeting_id: uuid.UUID) -> dict[str, int]:
        col = MeetingSelfDescription.channel
        rows = await self.session.execute(
            select(col, func.count()).where(MeetingSelfDescription.meeting_id == meeting_id)
            .group_by(col))
        return {str(k): int(n) for k, n in rows.all()}

    async def add_self_description(self, values: dict[str, Any]) -> None:
        await self.session.execute(insert(MeetingSelfDescription).values(**values))

    async def self_description_counts(self, *, meeting_id: uuid.UUID | None = None,
                                      process_id: uuid.UUID | None = None
                                      ) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for dim in ("age_band", "gender", "origin", "group_key"):
            col = getattr(MeetingSelfDescription, dim)
            stmt = select(col, func.count()).group_by(col)
            if meeting_id is not None:
                stmt = stmt.where(MeetingSelfDescription.meeting_id == meeting_id)
            if process_id is not None:
                stmt = stmt.where(MeetingSelfDescription.process_id == process_id)
            out[dim] = {str(k): int(n) for k, n in (await self.session.execute(stmt)).all()}
        return out

    # --- the mail ledger ------------------------------------------------------------------

    async def enqueue_mail(self, values: dict[str, Any]) -> bool:
        """Queue one mail under its idempotency key; a second queueing is a no-op."""
        stmt = insert(MeetingMail).values(status="pending", **values).on_conflict_do_nothing(
            index_elements=["idempotency_key"]).returning(MeetingMail.id)
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def claim_pending(self, meeting_id: uuid.UUID, limit: int = 200) -> list[uuid.UUID]:
        """Claim pending mails for one delivery (`sending`, committed by the caller before
        anything is sent): a concurrent or retried delivery never gets the same rows."""
        rows = await self.session.execute(text("""
            UPDATE meeting_mails SET status = 'sending'
            WHERE id IN (SELECT id FROM meeting_mails
                         WHERE meeting_id = :m AND status = 'pending'
                         ORDER BY created_at LIMIT :n FOR UPDATE SKIP LOCKED)
            RETURNING id
        """), {"m": meeting_id, "n": limit})
        return [r[0] for r in rows]

    async def mail(self, mail_id: uuid.UUID) -> MeetingMail | None:
        return await self.session.get(MeetingMail, mail_id)

    async def finish_mail(self, mail_id: uuid.UUID, status: str, *, error: str | None = None,
                          at: datetime | None = None) -> None:
        await self.session.execute(update(MeetingMail).where(MeetingMail.id == mail_id).values(
            status=status, error=error, sent_at=at))

    async def events_with_pending_mail(self, created_before: datetime) -> list[uuid.UUID]:
        """Events with a mail still queued since before `created_before` (the outbox sweep)."""
        rows = await self.session.scalars(
            select(MeetingMail.meeting_id).where(
                MeetingMail.status == "pending", MeetingMail.created_at < created_before)
            .distinct())
        return list(rows)

    async def pending_count(self, meeting_id: uuid.UUID) -> int:
        return int(await self.session.scalar(
            select(func.count()).select_from(MeetingMail).where(
                MeetingMail.meeting_id == meeting_id, MeetingMail.status == "pending")) or 0)


# --- the hot path: a new registration through a personal link ------------------------------

# ONE statement, run on its own (autocommit), so a registration is one round trip:
# - `inv`: the invitation behind the token, locked first (as every other path of a personal link
#   does, so this statement and a concurrent decline of the same link cannot deadlock), if its
#   campaign is an event campaign and the link has not expired;
# - `ctx`: its person, if this invitation has no registration for the event yet. The check reads
#   the statement's snapshot: a second click of the same link that raced the first is stopped by
#   the unique index (meeting_id, invitation_id), the caller then takes the ordinary path;
# - `u`: the event's counter UPDATE takes the event's row lock and decides from the locked
#   (newest) row alone, by the rule of `service.placement`: registered while places are free and
#   nobody waits (then `waiting` stays 0), otherwise waitlisted (then `waiting` >= 1 is the new
#   person's position); no row when the event does not take registrations now (cancelled,
#   held, started, outside its window): the caller then takes the ordinary path, which says why;
# - the registration, its mail in the ledger, its domain event and the invitation's receipt.
# The lock on the event is held for this one statement and its commit.
# Parameters: $1 token hash, $2 now, $3 places needed (1 + companions), $4 registration id,
# $5 companions, $6 needs (JSON text), $7 check-in code, $8 today (the receipt's date),
# $9 the language chosen on the page (or NULL: the invitation's, if one the mails speak),
# $10 the languages the mails speak.
_FITS = "(waiting = 0 AND (capacity = 0 OR places_taken + $3::int <= capacity))"
_REGISTER_BY_TOKEN = f"""
    WITH inv AS (
        SELECT i.id, i.stakeholder_id, c.target_id AS meeting_id,
               COALESCE($9::text, CASE WHEN i.language = ANY($10::text[]) THEN i.language
                                       ELSE 'de' END) AS language
        FROM invitations i JOIN campaigns c ON c.id = i.campaign_id
        WHERE i.token_hash = $1 AND c.kind = 'event' AND c.target_id IS NOT NULL
          AND (i.expires_at IS NULL OR i.expires_at > $2)
        FOR UPDATE OF i
    ),
    ctx AS (
        SELECT inv.id, inv.stakeholder_id, inv.meeting_id, inv.language, s.name, s.email
        FROM inv LEFT JOIN stakeholders s ON s.id = inv.stakeholder_id
        WHERE NOT EXISTS (SELECT 1 FROM meeting_registrations x
                          WHERE x.meeting_id = inv.meeting_id AND x.invitation_id = inv.id)
    ),
    u AS (
        UPDATE meetings SET
            places_taken = places_taken + CASE WHEN {_FITS} THEN $3::int ELSE 0 END,
            waiting = waiting + CASE WHEN {_FITS} THEN 0 ELSE 1 END,
            status = CASE
                WHEN {_FITS} AND capacity <> 0 AND places_taken + $3::int >= capacity
                    THEN 'full'
                WHEN {_FITS} THEN 'open'
                WHEN capacity <> 0 AND places_taken >= capacity THEN 'full'
                ELSE 'open' END
        FROM ctx
        WHERE meetings.id = ctx.meeting_id AND meetings.status IN ('planned', 'open', 'full')
          AND meetings.starts_at > $2
          AND (meetings.registration_opens_at IS NULL OR meetings.registration_opens_at <= $2)
          AND (meetings.registration_deadline IS NULL OR meetings.registration_deadline >= $2)
        RETURNING meetings.id, meetings.organisation_id, meetings.process_id, meetings.title,
                  meetings.places_taken, meetings.waiting, ctx.id AS invitation_id,
                  ctx.stakeholder_id, ctx.language, ctx.name, ctx.email
    ),
    r AS (
        INSERT INTO meeting_registrations (id, meeting_id, organisation_id, invitation_id,
            stakeholder_id, name, email, language, status, companions, needs, walk_in,
            checkin_code, ics_sequence, registered_at, created_at)
        SELECT $4, u.id, u.organisation_id, u.invitation_id, u.stakeholder_id,
               u.name, u.email, u.language,
               CASE WHEN u.waiting = 0 THEN 'registered' ELSE 'waitlisted' END,
               $5::smallint, $6::text::jsonb, false, $7, 0,
               CASE WHEN u.waiting = 0 THEN $2::timestamptz END, now()
        FROM u
        RETURNING id, seq, status
    ),
    mail AS (
        INSERT INTO meeting_mails (id, idempotency_key, meeting_id, registration_id, kind,
                                   payload, status, created_at)
        SELECT gen_random_uuid(),
               CASE WHEN r.status = 'registered' THEN 'confirmation:' || r.id::text || ':0'
                    ELSE 'waitlisted:' || r.id::text || ':' || r.seq::text END,
               u.id, r.id,
               CASE WHEN r.status = 'registered' THEN 'confirmation' ELSE 'waitlisted' END,
               CASE WHEN r.status = 'registered'
                    THEN jsonb_build_object('sequence', 0, 'method', 'REQUEST')
                    ELSE jsonb_build_object('position', u.waiting) END,
               'pending', now()
        FROM r, u
    ),
    ev AS (
        INSERT INTO domain_events (id, organisation_id, type, process_id, data)
        SELECT gen_random_uuid(), u.organisation_id,
               CASE WHEN r.status = 'registered' THEN 'registration.created'
                    ELSE 'registration.waitlisted' END,
               u.process_id,
               jsonb_build_object('event_id', u.id::text, 'title', u.title,
                                  'registration_id', r.id::text,
                                  'companions', $5::integer)
               || CASE WHEN r.status = 'registered'
                       THEN jsonb_build_object('places_taken', u.places_taken)
                       ELSE '{{}}'::jsonb END
        FROM r, u
    ),
    {receipt_ctes("(SELECT invitation_id FROM u)", "$8")}
    SELECT r.id, r.seq, r.status, u.waiting, u.id AS meeting_id, u.process_id FROM r, u
"""


class HotPath(Repository):
    async def register_by_token(self, token_hash: str, *, now: datetime, registration_id:
                                uuid.UUID, companions: int, needs: str, code: str,
                                day: date, language: str | None = None) -> Any:
        """`_REGISTER_BY_TOKEN`: the new registration's id, seq, status, waitlist position,
        event and process, or None when this is not a first registration of an open event
        (nothing was written; a racing second click of the same link included)."""
        try:
            return await self.raw_fetchrow(_REGISTER_BY_TOKEN, token_hash, now,
                                           1 + companions, registration_id, companions,
                                           needs, code, day, language,
                                           list(i18n.LANGUAGES), atomic=True)
        except asyncpg.UniqueViolationError:
            # The same link's other click committed first (or, once in 10^12, the check-in
            # code was taken): the statement wrote nothing, the ordinary path decides.
            return None
