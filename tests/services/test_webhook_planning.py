"""Planning and first attempts against the real database: a planning activity retried after
its worker died (commit done, result lost) gets the same deliveries again, a second plan of the
same page gets none of them; a batch over its time budget leaves the rest to the retries."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from infra.outbound import LOOPBACK, guarded_client, parse_networks
from services.events.service import record_event
from services.models.organisation import Role
from services.webhooks import delivery, service
from services.webhooks.schemas import WebhookCreate
from tests.support.live_server import live_server
from tests.support.webhook_receiver import WebhookReceiver

KEY = "test-secret-key-" + "x" * 32
GRACE = timedelta(seconds=60)


async def _setup(session, make_staff, url: str, events: int):  # type: ignore[no-untyped-def]
    admin = await make_staff(role=Role.admin)
    sub, secret = await service.create_subscription(
        session, admin.org_id, WebhookCreate(url=url, types=["process.*"]), app_secret_key=KEY,
        allowed=parse_networks(LOOPBACK), actor=admin.email)
    for i in range(events):
        await record_event(session, organisation_id=admin.org_id, type="process.advanced",
                           data={"i": i})
    await session.flush()
    return sub, secret


async def test_a_retried_plan_gets_its_deliveries_again_another_plan_does_not(
        session, make_staff) -> None:  # type: ignore[no-untyped-def]
    sub, _ = await _setup(session, make_staff, "http://127.0.0.1:9/x", events=3)
    now = datetime.now(UTC)
    first = await delivery.plan_page(session, sub.start_seq, None, page_size=100, grace=GRACE,
                                     now=now, token="run-1:7")
    mine = [d for d in first.delivery_ids]
    assert len(mine) >= 3
    # The worker died after the commit: Temporal runs the same activity again.
    again = await delivery.plan_page(session, sub.start_seq, None, page_size=100, grace=GRACE,
                                     now=now, token="run-1:7")
    assert again.delivery_ids == mine
    # The next plan reads the page again (say, the cursor waits at a gap): nothing twice.
    other = await delivery.plan_page(session, sub.start_seq, None, page_size=100, grace=GRACE,
                                     now=now, token="run-1:8")
    assert set(other.delivery_ids).isdisjoint(mine)


async def test_a_batch_over_its_budget_leaves_the_rest_to_the_retries(session,
                                                                       make_staff) -> None:  # type: ignore[no-untyped-def]
    receiver = WebhookReceiver()
    async with live_server(receiver) as base:
        sub, secret = await _setup(session, make_staff, f"{base}/x", events=4)
        receiver.secrets = [secret]
        plan = await delivery.plan_page(session, sub.start_seq, None, page_size=100,
                                        grace=GRACE, now=datetime.now(UTC), token="t:1")

        @asynccontextmanager
        async def scope():  # type: ignore[no-untyped-def]
            yield session

        ids = [i for i in plan.delivery_ids]
        async with guarded_client(parse_networks(LOOPBACK)) as client:
            delivered, retry = await delivery.deliver_batch(scope, client, ids, KEY,
                                                            budget_seconds=0.0)
            assert (delivered, sorted(retry)) == (0, sorted(ids))
            assert receiver.requests == []
            delivered, retry = await delivery.deliver_batch(scope, client, ids, KEY)
        assert delivered == len(ids) and retry == []
        assert len(receiver.accepted) == len(ids) and all(r.verified for r in receiver.requests)
