"""Making deliveries: planning them from the event log, signing, posting, recording attempts.

Called by the activities (activities/webhooks.py); the dispatcher workflow decides when.

The planning cursor and gaps: `seq` comes from an identity sequence, so a transaction that
took seq 10 may commit after one that took seq 11. A cursor moved past 11 would never see 10.
So the cursor moves only over a gap-free run of seqs; at a gap it waits (while the events
after the gap are delivered already: delivery rows are unique per subscription and event, so
reading them again creates nothing) until `grace` has passed since the gap was first seen,
then takes the gap for a rolled-back transaction and moves on.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.webhooks import webhook_message_id
from infra.outbound import BlockedAddress
from services.events.audience import shape
from services.events.service import EventOut, record_event
from services.models.organisation import Role
from services.webhooks import secrets
from services.webhooks.repository import AttemptRecord, DeliveryTarget, WebhookRepository

SessionScope = Callable[[], AbstractAsyncContextManager[AsyncSession]]

# Posting a page's first attempts at once, bounded (a page may hold hundreds). More is not
# faster: httpx's connection pool slows down past ~8 concurrent requests on this machine
# (bench/webhook_deliveries.py: a bare client at 64 connections reached 70 requests/s, at 8
# about 550/s, against the same local receiver).
BATCH_CONCURRENCY = 8
ERROR_LIMIT = 500
# A page's first attempts stop starting after this long (the activity's timeout is 5 min and
# an attempt may take the client timeout, 10 s by default, on top).
BATCH_BUDGET_SECONDS = 120.0


def advance_cursor(cursor: int, seqs: Sequence[int], gap_since: datetime | None,
                   now: datetime, grace: timedelta) -> tuple[int, datetime | None]:
    """The new cursor over `seqs` (ascending, all > cursor) and since when it waits at a gap
    (None when it does not)."""
    for seq in seqs:
        if seq != cursor + 1:
            if gap_since is None:
                return cursor, now
            if now - gap_since < grace:
                return cursor, gap_since
            gap_since = None  # waited long enough: the missing seqs were rolled back
        cursor = seq
    return cursor, None


@dataclass(frozen=True)
class Plan:
    cursor: int
    gap_since: datetime | None
    delivery_ids: list[uuid.UUID]


async def plan_page(session: AsyncSession, cursor: int | None, gap_since: datetime | None, *,
                    page_size: int, grace: timedelta, now: datetime, token: str) -> Plan:
    """Create the deliveries of the next page of events and claim them with `token` (the
    planning activity's: the same when it is retried); idempotent."""
    repo = WebhookRepository.from_session(session)
    if cursor is None:
        cursor = await repo.dispatch_start()
    seqs = await repo.seqs_after(cursor, page_size)
    if not seqs:
        return Plan(cursor, None, [])
    ids = await repo.create_deliveries(cursor, seqs[-1], token)
    new_cursor, new_gap = advance_cursor(cursor, seqs, gap_since, now, grace)
    return Plan(new_cursor, new_gap, ids)


def payload(target: DeliveryTarget) -> bytes:
    """The body: Standard Webhooks' {type, timestamp, data}, data being the event as the
    organisation's admin sees it in the feed (webhooks are an admin feature)."""
    ev = target.event
    shaped = shape(ev.type, ev.actor, ev.data, Role.admin)
    actor, data = shaped if shaped is not None else (None, {})
    event = EventOut(seq=ev.seq, type=ev.type, process_id=ev.process_id,
                     occurred_at=ev.occurred_at, actor=actor, data=data)
    body = {"type": ev.type, "timestamp": ev.occurred_at.isoformat(),
            "organisation_id": str(ev.organisation_id),
            "data": event.model_dump(mode="json")}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def signing_secrets(target: DeliveryTarget, app_secret_key: str, now: datetime) -> list[str]:
    sub = target.subscription
    found = [secrets.decrypt(sub.secret_enc, app_secret_key)]
    if sub.previous_secret_enc and sub.previous_expires_at and sub.previous_expires_at > now:
        found.append(secrets.decrypt(sub.previous_secret_enc, app_secret_key))
    return found


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int
    at: datetime

    @property
    def status(self) -> str:
        """The delivery's status after this attempt: pending means worth another try."""
        if self.status_code is not None and 200 <= self.status_code < 300:
            return "delivered"
        if self.status_code == 410:
            return "gone"  # Standard Webhooks: the receiver asks us to stop
        return "pending"


async def attempt(client: httpx.AsyncClient, target: DeliveryTarget, app_secret_key: str,
                  *, body: bytes | None = None) -> Outcome:
    """One signed POST; network failures and refused addresses are outcomes, not errors."""
    now = datetime.now(UTC)
    body = payload(target) if body is None else body
    msg_id = webhook_message_id(target.delivery.id)
    timestamp = int(now.timestamp())
    headers = {
        "content-type": "application/json",
        "user-agent": "Mitwirken-Webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": secrets.signature_header(
            signing_secrets(target, app_secret_key, now), msg_id, timestamp, body),
    }
    started = time.perf_counter()
    code: int | None = None
    error: str | None = None
    try:
        response = await client.post(target.subscription.url, content=body, headers=headers)
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except BlockedAddress as exc:
        error = f"Adresse nicht erlaubt: {exc}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    duration = int((time.perf_counter() - started) * 1000)
    return Outcome(code, error[:ERROR_LIMIT] if error else None, duration, now)


async def _record(session: AsyncSession, done: Sequence[tuple[DeliveryTarget, Outcome]]) -> None:
    repo = WebhookRepository.from_session(session)
    await repo.record_attempts([
        AttemptRecord(t.delivery.id, o.status_code, o.error, o.duration_ms, o.status, o.at)
        for t, o in done])
    gone = {t.subscription.id: t for t, o in done if o.status == "gone"}
    for sub in await repo.disable(list(gone), "Der Empfänger antwortete 410 Gone."):
        await record_event(session, organisation_id=sub.organisation_id,
                           type="webhook.disabled",
                           data={"webhook_id": str(sub.id), "reason": "410"},
                           dedupe_key=f"webhook-disabled:{sub.id}:{sub.created_at.isoformat()}")


async def _sendable(session: AsyncSession,
                    delivery_ids: Sequence[uuid.UUID]) -> list[DeliveryTarget]:
    """The pending ones among them; those of a disabled subscription become skipped."""
    repo = WebhookRepository.from_session(session)
    targets = [t for t in await repo.targets(delivery_ids) if t.delivery.status == "pending"]
    inactive = [t.delivery.id for t in targets if not t.subscription.active]
    if inactive:
        await repo.set_status(inactive, "skipped")
    return [t for t in targets if t.subscription.active]


async def deliver_batch(scope: SessionScope, client: httpx.AsyncClient,
                        delivery_ids: Sequence[uuid.UUID], app_secret_key: str, *,
                        heartbeat: Callable[[], None] = lambda: None,
                        budget_seconds: float = BATCH_BUDGET_SECONDS,
                        ) -> tuple[int, list[uuid.UUID]]:
    """First attempts of a page at once. Returns (delivered, ids worth retrying).

    Run again after a crash it re-posts only what is not recorded yet: the receiver may see a
    delivery twice, with the same `webhook-id` (at least once, as Standard Webhooks says).
    Slow receivers cannot hold the dispatcher: after `budget_seconds` no further first attempt
    starts; the deliveries not tried go to the retrying workflows like the failed ones.
    """
    async with scope() as session:
        targets = await _sendable(session, delivery_ids)
    queue = list(reversed(targets))
    done: list[tuple[DeliveryTarget, Outcome]] = []
    loop = asyncio.get_running_loop()
    until = loop.time() + budget_seconds
    beat = [loop.time()]

    async def sender() -> None:
        # A few senders taking turns (not a task per delivery: the event loop's bookkeeping
        # for hundreds of waiting tasks cost more CPU than the requests themselves).
        while queue and loop.time() < until:
            t = queue.pop()
            done.append((t, await attempt(client, t, app_secret_key)))
            if loop.time() - beat[0] >= 1.0:
                beat[0] = loop.time()
                heartbeat()

    await asyncio.gather(*(sender() for _ in range(min(BATCH_CONCURRENCY, len(targets)))))
    async with scope() as session:
        await _record(session, done)
    delivered = sum(1 for _, o in done if o.status == "delivered")
    untried = [t.delivery.id for t in reversed(queue)]
    return delivered, [t.delivery.id for t, o in done if o.status == "pending"] + untried


class AttemptFailed(Exception):
    """The receiver did not take the delivery; Temporal retries with backoff."""


async def deliver_one(scope: SessionScope, client: httpx.AsyncClient, delivery_id: uuid.UUID,
                      app_secret_key: str) -> str:
    """One attempt of one delivery; its status after it, or AttemptFailed to be retried."""
    async with scope() as session:
        targets = await WebhookRepository.from_session(session).targets([delivery_id])
        if not targets:
            return "skipped"  # deleted with its subscription
        if targets[0].delivery.status != "pending":
            return targets[0].delivery.status
        sendable = await _sendable(session, [delivery_id])
    if not sendable:
        return "skipped"
    outcome = await attempt(client, sendable[0], app_secret_key)
    async with scope() as session:
        await _record(session, [(sendable[0], outcome)])
    if outcome.status == "pending":
        raise AttemptFailed(outcome.error or "keine Antwort")
    return outcome.status


async def give_up(session: AsyncSession, delivery_id: uuid.UUID) -> None:
    """The retries are spent: the delivery stays listed as failed (a manual redelivery may
    send it again)."""
    await WebhookRepository.from_session(session).set_status([delivery_id], "failed")
