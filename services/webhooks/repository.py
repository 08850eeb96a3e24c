"""SQL for webhook subscriptions, deliveries and attempts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text, update

from services.models.domain_event import DomainEvent
from services.models.organisation import Organisation
from services.models.webhook import WebhookAttempt, WebhookDelivery, WebhookSubscription
from services.repository import Repository

# A subscription matches an event of its organisation, after its start, by exact type, by
# family ("process.*") or by "*".
_PLAN = text("""
    INSERT INTO webhook_deliveries (id, subscription_id, organisation_id, event_seq, event_type)
    SELECT gen_random_uuid(), s.id, s.organisation_id, e.seq, e.type
    FROM domain_events e
    JOIN webhook_subscriptions s ON s.organisation_id = e.organisation_id
    WHERE e.seq > :after AND e.seq <= :upto AND s.active AND e.seq > s.start_seq
      AND (e.type = ANY(s.types) OR '*' = ANY(s.types)
           OR EXISTS (SELECT 1 FROM unnest(s.types) t
                      WHERE t LIKE '%.*' AND starts_with(e.type, left(t, -1))))
    ON CONFLICT (subscription_id, event_seq) DO NOTHING
""")

# The planned deliveries of a page are claimed with the planning activity's token. A retried
# activity (its worker died after the commit) has the same token and claims them again, so
# nothing created is left undelivered; a page read twice (the cursor waiting at a gap) does
# not hand out what an earlier plan already has.
_CLAIM = text("""
    UPDATE webhook_deliveries SET plan_token = :token
    WHERE event_seq > :after AND event_seq <= :upto AND status = 'pending'
      AND (plan_token IS NULL OR plan_token = :token)
    RETURNING id, event_seq
""")

# One statement per batch of attempts: count the attempt on the delivery, then log it with
# the number the count gave (so concurrent attempts never share a number).
_RECORD = text("""
    WITH r AS (
        SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:codes AS int[]),
                             CAST(:errors AS text[]), CAST(:durations AS int[]),
                             CAST(:statuses AS text[]), CAST(:ats AS timestamptz[]))
            AS r(id, code, error, duration, status, at)
    ), u AS (
        UPDATE webhook_deliveries d
        SET attempts = d.attempts + 1, last_status_code = r.code, last_error = r.error,
            last_attempt_at = r.at, status = r.status,
            delivered_at = CASE WHEN r.status = 'delivered' THEN r.at ELSE d.delivered_at END
        FROM r WHERE d.id = r.id
        RETURNING d.id, d.attempts, r.code, r.error, r.duration, r.at
    )
    INSERT INTO webhook_attempts (id, delivery_id, attempt_no, status_code, error, duration_ms,
                                  attempted_at)
    SELECT gen_random_uuid(), id, attempts, code, error, duration, at FROM u
""")


@dataclass(frozen=True)
class DeliveryTarget:
    """What one attempt needs: the delivery, its subscription and its event."""

    delivery: WebhookDelivery
    subscription: WebhookSubscription
    event: DomainEvent


@dataclass(frozen=True)
class AttemptRecord:
    delivery_id: uuid.UUID
    status_code: int | None
    error: str | None
    duration_ms: int
    status: str  # the delivery's status after the attempt
    at: datetime


class WebhookRepository(Repository):
    # --- subscriptions -----------------------------------------------------------------------

    def add(self, obj: Any) -> None:
        self.session.add(obj)

    async def flush(self) -> None:
        await self.session.flush()

    async def subscription(self, organisation_id: uuid.UUID,
                           subscription_id: uuid.UUID) -> WebhookSubscription | None:
        return await self.session.scalar(select(WebhookSubscription).where(
            WebhookSubscription.id == subscription_id,
            WebhookSubscription.organisation_id == organisation_id))

    async def subscriptions(self, organisation_id: uuid.UUID) -> list[WebhookSubscription]:
        return list((await self.session.scalars(select(WebhookSubscription).where(
            WebhookSubscription.organisation_id == organisation_id).order_by(
                WebhookSubscription.created_at))).all())

    async def delete_subscription(self, subscription_id: uuid.UUID) -> None:
        await self.session.execute(delete(WebhookSubscription).where(
            WebhookSubscription.id == subscription_id))

    async def disable(self, subscription_ids: Sequence[uuid.UUID], reason: str) -> list[
            WebhookSubscription]:
        """Deactivate the still active ones among them; returns those it changed."""
        if not subscription_ids:
            return []
        rows = await self.session.scalars(
            update(WebhookSubscription)
            .where(WebhookSubscription.id.in_(subscription_ids), WebhookSubscription.active)
            .values(active=False, disabled_reason=reason)
            .returning(WebhookSubscription))
        return list(rows.all())

    async def newest_seq(self) -> int:
        return int(await self.session.scalar(
            select(func.coalesce(func.max(DomainEvent.seq), 0))) or 0)

    # --- the dispatcher ----------------------------------------------------------------------

    async def dispatch_start(self) -> int:
        """Where a dispatcher without a cursor starts: before the oldest active subscription's
        first event, or at the newest event when none is active."""
        oldest = await self.session.scalar(select(func.min(WebhookSubscription.start_seq)).where(
            WebhookSubscription.active))
        return int(oldest) if oldest is not None else await self.newest_seq()

    async def seqs_after(self, after: int, limit: int) -> list[int]:
        return list((await self.session.scalars(
            select(DomainEvent.seq).where(DomainEvent.seq > after).order_by(DomainEvent.seq)
            .limit(limit))).all())

    async def create_deliveries(self, after: int, upto: int, token: str) -> list[uuid.UUID]:
        """Deliveries for the matching events in (after, upto]: those no other plan has
        claimed, by seq."""
        params = {"after": after, "upto": upto}
        await self.session.execute(_PLAN, params)
        rows = (await self.session.execute(_CLAIM, {**params, "token": token})).all()
        return [r.id for r in sorted(rows, key=lambda r: r.event_seq)]

    # --- deliveries --------------------------------------------------------------------------

    async def targets(self, delivery_ids: Sequence[uuid.UUID]) -> list[DeliveryTarget]:
        rows = await self.session.execute(
            select(WebhookDelivery, WebhookSubscription, DomainEvent)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .join(DomainEvent, DomainEvent.seq == WebhookDelivery.event_seq)
            .where(WebhookDelivery.id.in_(delivery_ids)))
        return [DeliveryTarget(d, s, e) for d, s, e in rows.all()]

    async def record_attempts(self, records: Sequence[AttemptRecord]) -> None:
        if not records:
            return
        await self.session.execute(_RECORD, {
            "ids": [r.delivery_id for r in records],
            "codes": [r.status_code for r in records],
            "errors": [r.error for r in records],
            "durations": [r.duration_ms for r in records],
            "statuses": [r.status for r in records],
            "ats": [r.at for r in records],
        })

    async def set_status(self, delivery_ids: Sequence[uuid.UUID], status: str, *,
                         only_pending: bool = True) -> None:
        stmt = update(WebhookDelivery).where(WebhookDelivery.id.in_(delivery_ids))
        if only_pending:
            stmt = stmt.where(WebhookDelivery.status == "pending")
        await self.session.execute(stmt.values(status=status))

    async def delivery(self, subscription_id: uuid.UUID,
                       delivery_id: uuid.UUID) -> WebhookDelivery | None:
        return await self.session.scalar(select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.subscription_id == subscription_id).with_for_update())

    async def deliveries(self, subscription_id: uuid.UUID, *, before_seq: int | None,
                         limit: int) -> list[tuple[WebhookDelivery, list[WebhookAttempt]]]:
        stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
        if before_seq is not None:
            stmt = stmt.where(WebhookDelivery.event_seq < before_seq)
        deliveries = list((await self.session.scalars(
            stmt.order_by(WebhookDelivery.event_seq.desc()).limit(limit))).all())
        attempts: dict[uuid.UUID, list[WebhookAttempt]] = {d.id: [] for d in deliveries}
        if deliveries:
            for a in (await self.session.scalars(select(WebhookAttempt).where(
                    WebhookAttempt.delivery_id.in_(list(attempts))).order_by(
                        WebhookAttempt.attempt_no))).all():
                attempts[a.delivery_id].append(a)
        return [(d, attempts[d.id]) for d in deliveries]

    async def organisation(self, organisation_id: uuid.UUID) -> Organisation | None:
        return await self.session.get(Organisation, organisation_id)
