"""Webhook activities: thin adapters from the dispatcher and delivery workflows to
services.webhooks.delivery. Each is safe to run twice (unique delivery rows, attempts counted
in the database, receivers deduplicate by `webhook-id`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.registry import ACTIVITIES
from contracts.webhooks import (
    ACT_DELIVER,
    ACT_DELIVER_BATCH,
    ACT_GIVE_UP,
    ACT_PLAN,
    ERR_ATTEMPT_FAILED,
    DeliverBatchIn,
    DeliverBatchOut,
    DeliverIn,
    DeliverOut,
    PlanIn,
    PlanOut,
)
from infra import outbound
from infra.config import get_settings
from infra.db import session_scope
from services.webhooks import delivery

POLL_SECONDS = 0.25
# How long the cursor waits at a gap in the sequence (services/webhooks/delivery.py).
GAP_GRACE = timedelta(seconds=60)


@activity.defn(name=ACT_PLAN)
async def plan_deliveries(inp: PlanIn) -> PlanOut:
    """The next page's deliveries; waits up to `wait_seconds` for new events (polling the
    table, heartbeating) so an idle dispatcher costs one activity per wait, not a timer loop."""
    loop = asyncio.get_running_loop()
    until = loop.time() + inp.wait_seconds
    cursor, gap_since = inp.cursor, inp.gap_since
    info = activity.info()
    token = f"{info.workflow_run_id}:{info.activity_id}"
    while True:
        async with session_scope() as session:
            plan = await delivery.plan_page(session, cursor, gap_since, page_size=inp.page_size,
                                            grace=GAP_GRACE, now=datetime.now(UTC),
                                            token=token)
        if plan.delivery_ids or plan.cursor != inp.cursor or loop.time() >= until:
            return PlanOut(cursor=plan.cursor, gap_since=plan.gap_since,
                           delivery_ids=plan.delivery_ids)
        cursor, gap_since = plan.cursor, plan.gap_since
        activity.heartbeat()
        await asyncio.sleep(POLL_SECONDS)


@activity.defn(name=ACT_DELIVER_BATCH)
async def deliver_batch(inp: DeliverBatchIn) -> DeliverBatchOut:
    # A pool per batch: httpx's pool gets slower with every request waiting in it, and the
    # dispatcher runs pages side by side (bench/webhook_deliveries.py).
    async with outbound.new_client(max_connections=delivery.BATCH_CONCURRENCY) as client:
        delivered, retry = await delivery.deliver_batch(
            session_scope, client, inp.delivery_ids, get_settings().resolved_secret_key(),
            heartbeat=activity.heartbeat)
    return DeliverBatchOut(delivered=delivered, retry=retry)


@activity.defn(name=ACT_DELIVER)
async def deliver(inp: DeliverIn) -> DeliverOut:
    try:
        status = await delivery.deliver_one(session_scope, outbound.get_client(),
                                            inp.delivery_id, get_settings().resolved_secret_key())
    except delivery.AttemptFailed as exc:
        raise ApplicationError(str(exc), type=ERR_ATTEMPT_FAILED) from exc
    return DeliverOut(status=status)  # type: ignore[arg-type]


@activity.defn(name=ACT_GIVE_UP)
async def give_up(inp: DeliverIn) -> None:
    async with session_scope() as session:
        await delivery.give_up(session, inp.delivery_id)


ACTIVITIES.extend([plan_deliveries, deliver_batch, deliver, give_up])
