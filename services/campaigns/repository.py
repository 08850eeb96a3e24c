"""All SQL of campaigns, invitations and the outbound mail ledger.

Activities page through an audience by `batch_no`, so every statement here touches one batch
(a few hundred rows) with set-based SQL, whatever the size of the audience.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, TextClause, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY

from services.campaigns.tokens import hash_token, invitation_token
from services.models.campaign import Campaign, Invitation
from services.models.organisation import Organisation
from services.models.stakeholder import Stakeholder
from services.repository import Repository

INSERT_CHUNK = 10_000


@dataclass(frozen=True)
class QueuedMail:
    ledger_id: uuid.UUID
    invitation_id: uuid.UUID
    name: str
    email: str
    language: str
    attempts: int
    # The stakeholder's kind: an organisation is greeted as a team, not as a person.
    kind: str = "person"


# A stakeholder may be written to only with a legal basis: a consent (the table's check
# constraint makes it carry its date), or a public task the organisation still declares.
# `{s}` is the stakeholders table's name or alias in the statement.
HAS_LEGAL_BASIS = """({s}.legal_basis = 'consent' OR ({s}.legal_basis = 'public_task' AND EXISTS (
    SELECT 1 FROM organisations lb_o
    WHERE lb_o.id = {s}.organisation_id AND lb_o.public_task_basis IS NOT NULL)))"""

_ENSURE_LEDGER = {
    # Eligible at batch time: never unsubscribed or erased; reminders only to those who have
    # neither answered nor declined (status still 'sent').
    "invitation": text("""
        INSERT INTO outbound_mails (id, idempotency_key, organisation_id, campaign_id,
            invitation_id, kind, reminder_no, recipient, status, attempts, planned_at, created_at)
        SELECT gen_random_uuid(), 'invitation:' || i.id, i.organisation_id, i.campaign_id, i.id,
               'invitation', 0, s.email, 'queued', 0, :planned_at, now()
        FROM invitations i JOIN stakeholders s ON s.id = i.stakeholder_id
        WHERE i.campaign_id = :campaign_id AND i.batch_no = :batch_no AND i.status = 'pending'
          AND s.unsubscribed_at IS NULL AND s.erased_at IS NULL AND s.email IS NOT NULL
        ON CONFLICT (idempotency_key) DO NOTHING
    """),
    "reminder": text("""
        INSERT INTO outbound_mails (id, idempotency_key, organisation_id, campaign_id,
            invitation_id, kind, reminder_no, recipient, status, attempts, planned_at, created_at)
        SELECT gen_random_uuid(), 'reminder:' || i.id || ':' || CAST(:reminder_no AS integer),
               i.organisation_id, i.campaign_id, i.id, 'reminder', CAST(:reminder_no AS integer),
               s.email, 'queued', 0, :planned_at, now()
        FROM invitations i JOIN stakeholders s ON s.id = i.stakeholder_id
        WHERE i.campaign_id = :campaign_id AND i.batch_no = :batch_no AND i.status = 'sent'
          AND i.reminders_sent < CAST(:reminder_no AS integer)
          AND s.unsubscribed_at IS NULL AND s.erased_at IS NULL AND s.email IS NOT NULL
        ON CONFLICT (idempotency_key) DO NOTHING
    """),
}

# The ledger statements of the sending path (services/campaigns/sender.py), for a bare asyncpg
# connection outside any transaction: each commits by itself in one round trip.

# `sending → unconfirmed`, written to PostgreSQL immediately before the end-of-data marker:
# from here on the mail counts as handed to the relay and is never leased again.
SENT_RAW = """
    UPDATE outbound_mails SET status = 'unconfirmed', sent_at = now(), message_id = $2,
           error = NULL
    WHERE id = $1 AND status = 'sending'
    RETURNING id
"""
# The terminator went out for a row that was not `sending` (which the sender no longer lets
# happen): seal it anyway, so that whatever went wrong before, it is never sent again.
SEAL_RAW = """
    UPDATE outbound_mails SET status = 'unconfirmed', sent_at = coalesce(sent_at, now()),
           message_id = $2
    WHERE id = $1 AND status NOT IN ('sent', 'unconfirmed')
"""
# `unconfirmed → sent` for the mails the relay answered 250, in bulk (a few per second per
# connection, not one write per mail). What stays `unconfirmed` is visible on the campaign.
CONFIRM_RAW = """
    UPDATE outbound_mails SET status = 'sent' WHERE id = ANY($1::uuid[]) AND status = 'unconfirmed'
"""
# No answer from the relay after the terminator: the mail may or may not have been stored.
UNCONFIRMED_RAW = """
    UPDATE outbound_mails SET error = $2 WHERE id = $1 AND status = 'unconfirmed'
"""
FAILURE_RAW = """
    UPDATE outbound_mails SET status = $2, error = $3, sent_at = NULL WHERE id = $1
"""
# Mails handed to the relay, whether or not it confirmed them.
HANDED_OVER = ("sent", "unconfirmed")

# Start of a batch attempt: a row left `sending` by an earlier attempt (a killed worker) never
# had its end-of-data marker written (see the sender), so it goes back to the queue.
RESET_STALE = text("""
    UPDATE outbound_mails m SET status = 'queued'
    FROM invitations i
    WHERE i.id = m.invitation_id AND m.campaign_id = :campaign_id AND i.batch_no = :batch_no
      AND m.kind = :kind AND m.reminder_no = :reminder_no AND m.status = 'sending'
""")


class CampaignRepository(Repository):
    # --- campaigns -------------------------------------------------------------------------

    def add(self, campaign: Campaign) -> None:
        self.session.add(campaign)

    async def get(self, campaign_id: uuid.UUID, *, for_update: bool = False,
                  for_share: bool = False) -> Campaign | None:
        """`for_share`: a send step's lease holds the row against a concurrent cancel (which
        takes it `for_update`), so a batch either leases before the cancel or sees it."""
        stmt = select(Campaign).where(Campaign.id == campaign_id)
        if for_update:
            stmt = stmt.with_for_update()
        elif for_share:
            stmt = stmt.with_for_update(read=True)
        return (await self.session.scalars(stmt)).first()

    async def list_for_org(self, organisation_id: uuid.UUID, limit: int = 100) -> list[Campaign]:
        rows = await self.session.scalars(
            select(Campaign).where(Campaign.organisation_id == organisation_id)
            .order_by(Campaign.created_at.desc()).limit(limit))
        return list(rows)

    async def list_for_process(self, process_id: uuid.UUID, limit: int = 100) -> list[Campaign]:
        rows = await self.session.scalars(
            select(Campaign).where(Campaign.process_id == process_id)
            .order_by(Campaign.created_at.desc()).limit(limit))
        return list(rows)

    async def organisation_info(self, organisation_id: uuid.UUID) -> tuple[str, str, str]:
        """(name, time zone, slug): the sender, the deadline's zone, the legal pages' path."""
        row = (await self.session.execute(
            select(Organisation.name, Organisation.time_zone, Organisation.slug)
            .where(Organisation.id == organisation_id))).one()
        return str(row[0]), str(row[1] or "Europe/Berlin"), str(row[2])

    async def survey_owner(self, survey_id: uuid.UUID
                           ) -> tuple[uuid.UUID, uuid.UUID, dict[str, str]] | None:
        """(organisation_id, process_id, title by language) of a survey (the survey domain's
        table, read here so the campaign can check and name its target)."""
        row = (await self.session.execute(
            text("SELECT organisation_id, process_id, title FROM surveys WHERE id = :id"),
            {"id": survey_id})).first()
        return (row[0], row[1], row[2]) if row else None

    async def meeting_owner(self, meeting_id: uuid.UUID
                            ) -> tuple[uuid.UUID, uuid.UUID, str, str, datetime] | None:
        """(organisation_id, process_id, title, status, starts_at) of an event (the meetings
        domain's table, read here as the survey's is)."""
        row = (await self.session.execute(
            text("SELECT organisation_id, process_id, title, status, starts_at "
                 "FROM meetings WHERE id = :id"), {"id": meeting_id})).first()
        return (row[0], row[1], row[2], row[3], row[4]) if row else None

    async def progress(self, campaign_id: uuid.UUID) -> dict[str, int]:
        row = (await self.session.execute(
            select(
                func.count().label("total"),
                func.count().filter(Invitation.sent_at.is_not(None)).label("sent"),
                func.count().filter(Invitation.status == "failed").label("failed"),
                func.count().filter(Invitation.status == "responded").label("responded"),
                func.count().filter(Invitation.status == "declined").label("declined"),
                func.count().filter(Invitation.reminders_sent > 0).label("reminded"),
                func.count().filter(Invitation.status == "pending").label("pending"),
                func.count().filter(Invitation.status == "cancelled").label("cancelled"),
            ).where(Invitation.campaign_id == campaign_id)
        )).one()
        unconfirmed: dict[str, int] = {kind: int(n) for kind, n in await self.session.execute(
            text("""
                SELECT kind, count(*) FROM outbound_mails
                WHERE campaign_id = :campaign_id AND status = 'unconfirmed' GROUP BY kind
            """), {"campaign_id": campaign_id})}
        return {**row._mapping, "unconfirmed": sum(unconfirmed.values()),
                "unconfirmed_invitations": unconfirmed.get("invitation", 0)}

    # --- audience ----------------------------------------------------------------------------

    async def invitation_count(self, campaign_id: uuid.UUID) -> int:
        return int(await self.session.scalar(
            select(func.count()).where(Invitation.campaign_id == campaign_id)) or 0)

    @staticmethod
    def _audience_conditions(organisation_id: uuid.UUID,
                             audience: dict[str, Any]) -> list[ColumnElement[bool] | TextClause]:
        conditions: list[ColumnElement[bool] | TextClause] = [
            Stakeholder.organisation_id == organisation_id,
            Stakeholder.erased_at.is_(None),
            Stakeholder.unsubscribed_at.is_(None),
            Stakeholder.email.is_not(None),
            text(HAS_LEGAL_BASIS.format(s="stakeholders")),
        ]
        if audience.get("groups"):
            conditions.append(Stakeholder.group_key.in_(audience["groups"]))
        if audience.get("tiers"):
            conditions.append(Stakeholder.reach_tier.in_(audience["tiers"]))
        if audience.get("tags"):
            conditions.append(Stakeholder.tags.overlap(
                bindparam("audience_tags", audience["tags"], type_=ARRAY(Text))))
        return conditions

    async def audience_count(self, organisation_id: uuid.UUID, audience: dict[str, Any]) -> int:
        """How many would be invited now: what the campaign page shows before sending."""
        return int(await self.session.scalar(
            select(func.count()).select_from(Stakeholder)
            .where(*self._audience_conditions(organisation_id, audience))) or 0)

    async def audience_ids(self, campaign: Campaign) -> list[tuple[uuid.UUID, str, int, str]]:
        rows = await self.session.execute(
            select(Stakeholder.id, Stakeholder.group_key, Stakeholder.reach_tier,
                   Stakeholder.language)
            .where(*self._audience_conditions(campaign.organisation_id,
                                              campaign.audience or {})))
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    async def create_invitations(self, campaign: Campaign, secret_key: str,
                                 batch_size: int) -> tuple[int, int]:
        """One invitation per stakeholder in the audience, in bulk; returns (total, batches).

        Batch numbers are dealt in random order: they say nothing about a person.
        """
        members = await self.audience_ids(campaign)
        random.SystemRandom().shuffle(members)
        for start in range(0, len(members), INSERT_CHUNK):
            chunk = members[start:start + INSERT_CHUNK]
            ids = [uuid.uuid4() for _ in chunk]
            await self.session.execute(
                text("""
                    INSERT INTO invitations (id, campaign_id, organisation_id, stakeholder_id,
                        token_hash, status, group_key, reach_tier, language, batch_no,
                        reminders_sent, expires_at)
                    SELECT r.id, :campaign_id, :organisation_id, r.stakeholder_id, r.token_hash,
                           'pending', r.group_key, r.reach_tier, r.language, r.batch_no, 0,
                           :expires_at
                    FROM unnest(:ids ::uuid[], :stakeholders ::uuid[], :hashes ::text[],
                                :groups ::text[], :tiers ::int[], :languages ::text[],
                                :batches ::int[])
                         AS r(id, stakeholder_id, token_hash, group_key, reach_tier, language,
                              batch_no)
                """),
                {
                    "campaign_id": campaign.id,
                    "organisation_id": campaign.organisation_id,
                    "expires_at": campaign.deadline,
                    "ids": ids,
                    "stakeholders": [m[0] for m in chunk],
                    "hashes": [hash_token(invitation_token(secret_key, i)) for i in ids],
                    "groups": [m[1] for m in chunk],
                    "tiers": [m[2] for m in chunk],
                    "languages": [m[3] for m in chunk],
                    "batches": [(start + k) // batch_size for k in range(len(chunk))],
                },
            )
        total = len(members)
        return total, (total + batch_size - 1) // batch_size

    # --- ledger ------------------------------------------------------------------------------

    async def ensure_ledger(self, campaign_id: uuid.UUID, kind: str, reminder_no: int,
                            batch_no: int, planned_at: datetime) -> None:
        params: dict[str, Any] = {"campaign_id": campaign_id, "batch_no": batch_no,
                                  "planned_at": planned_at}
        if kind == "reminder":
            params["reminder_no"] = reminder_no
        await self.session.execute(_ENSURE_LEDGER[kind], params)

    async def reset_stale(self, campaign_id: uuid.UUID, kind: str, reminder_no: int,
                          batch_no: int) -> int:
        result = await self.session.execute(RESET_STALE, {
            "campaign_id": campaign_id, "batch_no": batch_no, "kind": kind,
            "reminder_no": reminder_no})
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def lease_batch(self, campaign_id: uuid.UUID, kind: str, reminder_no: int,
                          batch_no: int) -> list[QueuedMail]:
        """Lease the batch's queued mails (`queued → sending`) and return them.

        Eligibility is checked again here — not answered, not declined, not unsubscribed, not
        erased, still with a legal basis — and whatever is no longer eligible is cancelled.
        """
        params = {"campaign_id": campaign_id, "batch_no": batch_no, "kind": kind,
                  "reminder_no": reminder_no}
        rows = await self.session.execute(text("""
            UPDATE outbound_mails m SET status = 'sending', attempts = m.attempts + 1
            FROM invitations i JOIN stakeholders s ON s.id = i.stakeholder_id
            WHERE i.id = m.invitation_id AND m.campaign_id = :campaign_id
              AND i.batch_no = :batch_no AND m.kind = :kind AND m.reminder_no = :reminder_no
              AND m.status = 'queued'
              AND s.unsubscribed_at IS NULL AND s.erased_at IS NULL AND s.email IS NOT NULL
              AND """ + HAS_LEGAL_BASIS.format(s="s") + """
              AND ((m.kind = 'invitation' AND i.status = 'pending')
                   OR (m.kind = 'reminder' AND i.status = 'sent'))
            RETURNING m.id, m.invitation_id, s.name, s.email, i.language, m.attempts, s.kind
        """), params)
        leased = [QueuedMail(r[0], r[1], r[2] or "", r[3], r[4], r[5], r[6]) for r in rows]
        await self.session.execute(text("""
            UPDATE outbound_mails m SET status = 'cancelled'
            FROM invitations i
            WHERE i.id = m.invitation_id AND m.campaign_id = :campaign_id
              AND i.batch_no = :batch_no AND m.kind = :kind AND m.reminder_no = :reminder_no
              AND m.status = 'queued'
        """), params)
        return sorted(leased, key=lambda q: q.ledger_id)

    async def fail_mail(self, ledger_id: uuid.UUID, error: str) -> None:
        """Mark one leased mail `failed` for good (it is never retried)."""
        await self.session.execute(text(
            "UPDATE outbound_mails SET status = 'failed', error = :error, sent_at = NULL"
            " WHERE id = :id AND status = 'sending'"), {"id": ledger_id, "error": error[:500]})

    async def sync_invitations(self, campaign_id: uuid.UUID, kind: str, reminder_no: int,
                               batch_no: int) -> None:
        """Carry the ledger's outcome over to the invitations of one batch (idempotent)."""
        if kind == "invitation":
            await self.session.execute(text("""
                UPDATE invitations i SET status = 'sent', sent_at = m.sent_at, error = NULL
                FROM outbound_mails m
                WHERE m.invitation_id = i.id AND m.kind = 'invitation'
                  AND m.status IN ('sent', 'unconfirmed')
                  AND i.campaign_id = :campaign_id AND i.batch_no = :batch_no
                  AND i.status IN ('pending', 'failed')
            """), {"campaign_id": campaign_id, "batch_no": batch_no})
            await self.session.execute(text("""
                UPDATE invitations i SET status = 'failed', error = m.error
                FROM outbound_mails m
                WHERE m.invitation_id = i.id AND m.kind = 'invitation' AND m.status = 'failed'
                  AND i.campaign_id = :campaign_id AND i.batch_no = :batch_no
                  AND i.status = 'pending'
            """), {"campaign_id": campaign_id, "batch_no": batch_no})
        else:
            await self.session.execute(text("""
                UPDATE invitations i SET reminders_sent = :reminder_no,
                       last_reminded_at = m.sent_at
                FROM outbound_mails m
                WHERE m.invitation_id = i.id AND m.kind = 'reminder'
                  AND m.reminder_no = :reminder_no AND m.status IN ('sent', 'unconfirmed')
                  AND i.campaign_id = :campaign_id AND i.batch_no = :batch_no
                  AND i.reminders_sent < :reminder_no
            """), {"campaign_id": campaign_id, "batch_no": batch_no,
                   "reminder_no": reminder_no})

    async def batch_outcome(self, campaign_id: uuid.UUID, kind: str, reminder_no: int,
                            batch_no: int) -> dict[str, int]:
        rows = await self.session.execute(text("""
            SELECT m.status, count(*) FROM outbound_mails m
            JOIN invitations i ON i.id = m.invitation_id
            WHERE m.campaign_id = :campaign_id AND i.batch_no = :batch_no AND m.kind = :kind
              AND m.reminder_no = :reminder_no
            GROUP BY m.status
        """), {"campaign_id": campaign_id, "batch_no": batch_no, "kind": kind,
               "reminder_no": reminder_no})
        return {r[0]: int(r[1]) for r in rows}

    async def reminder_batches(self, campaign_id: uuid.UUID,
                               reminder_no: int) -> tuple[list[int], int]:
        rows = (await self.session.execute(text("""
            SELECT i.batch_no, count(*) FROM invitations i
            JOIN stakeholders s ON s.id = i.stakeholder_id
            WHERE i.campaign_id = :campaign_id AND i.status = 'sent'
              AND i.reminders_sent < :reminder_no
              AND s.unsubscribed_at IS NULL AND s.erased_at IS NULL
            GROUP BY i.batch_no ORDER BY i.batch_no
        """), {"campaign_id": campaign_id, "reminder_no": reminder_no})).all()
        return [int(r[0]) for r in rows], sum(int(r[1]) for r in rows)

    # --- participants ------------------------------------------------------------------------

    async def invitation_by_token_hash(self, token_hash: str) -> Invitation | None:
        return (await self.session.scalars(
            select(Invitation).where(Invitation.token_hash == token_hash).with_for_update()
        )).first()

    async def invitation(self, invitation_id: uuid.UUID) -> Invitation | None:
        return (await self.session.scalars(
            select(Invitation).where(Invitation.id == invitation_id).with_for_update()
        )).first()

    async def set_declined(self, invitation_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            update(Invitation).where(Invitation.id == invitation_id,
                                     Invitation.status.in_(("pending", "sent", "failed")))
            .values(status="declined", declined_at=func.now())
            .execution_options(synchronize_session=False))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set_unsubscribed(self, stakeholder_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            update(Stakeholder).where(Stakeholder.id == stakeholder_id,
                                      Stakeholder.unsubscribed_at.is_(None))
            .values(unsubscribed_at=func.now())
            .execution_options(synchronize_session=False))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def cancel_unsent(self, campaign_id: uuid.UUID) -> int:
        """Mark what a cancelled campaign will not send: queued ledger rows and the pending
        invitations no send attempt has leased (a leased one is being handed to the relay
        and becomes `sent` as usual). Returns the number of invitations cancelled."""
        await self.session.execute(text("""
            UPDATE outbound_mails SET status = 'cancelled'
            WHERE campaign_id = :campaign_id AND status = 'queued'
        """), {"campaign_id": campaign_id})
        result = await self.session.execute(text("""
            UPDATE invitations i SET status = 'cancelled'
            WHERE i.campaign_id = :campaign_id AND i.status = 'pending'
              AND NOT EXISTS (SELECT 1 FROM outbound_mails m
                              WHERE m.invitation_id = i.id AND m.kind = 'invitation'
                                AND m.status IN ('sending', 'unconfirmed', 'sent'))
        """), {"campaign_id": campaign_id})
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def set_deadline(self, campaign_id: uuid.UUID, deadline: datetime) -> None:
        """The campaign's deadline and its links' expiry move together."""
        await self.session.execute(
            update(Campaign).where(Campaign.id == campaign_id).values(deadline=deadline)
            .execution_options(synchronize_session=False))
        await self.session.execute(
            update(Invitation).where(Invitation.campaign_id == campaign_id)
            .values(expires_at=deadline).execution_options(synchronize_session=False))

    async def close(self, campaign_id: uuid.UUID, closed_at: datetime) -> bool:
        # A cancelled campaign stays cancelled.
        result = await self.session.execute(
            update(Campaign).where(Campaign.id == campaign_id,
                                   Campaign.status.not_in(("closed", "cancelled")))
            .values(status="closed", closed_at=closed_at)
            .execution_options(synchronize_session=False))
        return bool(result.rowcount)  # type: ignore[attr-defined]
