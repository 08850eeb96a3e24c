"""Webhook delivery end to end in one process: the API creates the subscription (and starts the
dispatcher), a domain event is recorded, the worker delivers it to a real local HTTP receiver
that verifies signatures with the `standardwebhooks` package and answers 500 twice: Temporal
retries, and the receiver has the event exactly once by `webhook-id`. Also: the attempt log,
a manual redelivery (same id), 410 disabling the subscription, and only subscribed types of
the own organisation going out."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import delete
from temporalio.worker import Worker

from activities import webhooks as webhook_activities
from api.app import create_app
from contracts.queues import TASK_QUEUE
from contracts.webhooks import DISPATCHER_WORKFLOW_ID
from infra import outbound
from infra.config import get_settings
from infra.outbound import LOOPBACK
from services.events.service import record_event
from services.models.organisation import Role
from services.models.webhook import WebhookSubscription
from tests.support.live_server import live_server
from tests.support.polling import eventually
from tests.support.webhook_receiver import WebhookReceiver
from workflows.webhooks import WebhookDeliveryWorkflow, WebhookDispatcherWorkflow

ACTIVITIES = [webhook_activities.plan_deliveries, webhook_activities.deliver_batch,
              webhook_activities.deliver, webhook_activities.give_up]


HISTORIES = Path(__file__).resolve().parents[1] / "replay" / "histories"


@dataclass
class Stack:
    http: AsyncClient
    admin: Any
    maker: Any
    client: Any


@pytest.fixture
async def stack(settings, committed_maker, time_skipping_env, make_committed_staff,
                monkeypatch) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    # The worker's activities read the settings from the environment, like the real worker.
    monkeypatch.setenv("MITWIRKEN_SECRET_KEY", settings.resolved_secret_key())
    get_settings.cache_clear()
    outbound.configure(outbound.parse_networks(LOOPBACK), timeout=5)
    fast = settings.model_copy(update={"webhook_retry_initial_seconds": 1.0})
    app = create_app(fast, sessionmaker=committed_maker)
    app.state.temporal.client = time_skipping_env.client
    admin = await make_committed_staff(role=Role.admin)
    async with Worker(time_skipping_env.client, task_queue=TASK_QUEUE,
                      workflows=[WebhookDispatcherWorkflow, WebhookDeliveryWorkflow],
                      activities=ACTIVITIES), \
            AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        try:
            yield Stack(http, admin, committed_maker, time_skipping_env.client)
        finally:
            await time_skipping_env.client.get_workflow_handle(
                DISPATCHER_WORKFLOW_ID).terminate("test done")
            async with committed_maker() as s:  # no active subscription left for later tests
                await s.execute(delete(WebhookSubscription).where(
                    WebhookSubscription.organisation_id == admin.org_id))
                await s.commit()
    get_settings.cache_clear()


async def _subscribe(stack: Stack, url: str, types: list[str]) -> dict[str, Any]:
    r = await stack.http.post(f"/api/v1/orgs/{stack.admin.org_slug}/webhooks",
                              json={"url": url, "types": types, "description": "Test"},
                              headers=stack.admin.headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def _event(stack: Stack, type_: str, org_id: uuid.UUID | None = None,
                 **data: Any) -> int | None:
    async with stack.maker() as s:
        seq = await record_event(s, organisation_id=org_id or stack.admin.org_id, type=type_,
                                 data=data, actor=stack.admin.email)
        await s.commit()
    return seq


async def _deliveries(stack: Stack, webhook_id: str) -> list[dict[str, Any]]:
    r = await stack.http.get(
        f"/api/v1/orgs/{stack.admin.org_slug}/webhooks/{webhook_id}/deliveries",
        headers=stack.admin.headers)
    assert r.status_code == 200, r.text
    return r.json()["deliveries"]  # type: ignore[no-any-return]


async def _until(check, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    await eventually(check, timeout=timeout, interval=0.1)


async def test_two_500s_then_the_event_exactly_once_by_webhook_id(stack, make_committed_staff):  # type: ignore[no-untyped-def]
    receiver = WebhookReceiver(script=[500, 500])
    async with live_server(receiver) as base:
        sub = await _subscribe(stack, f"{base}/rat", ["resolution.submitted"])
        receiver.secrets = [sub["secret"]]
        stranger = await make_committed_staff(role=Role.admin)
        await _event(stack, "process.advanced", phase="beschluss")  # not subscribed
        await _event(stack, "resolution.submitted", stranger.org_id, version=9)  # not ours
        await _event(stack, "resolution.submitted", version=1, title="Leitlinien Vielfalt")

        async def delivered() -> bool:
            rows = await _deliveries(stack, sub["id"])
            return bool(rows) and rows[0]["status"] == "delivered"

        await _until(delivered)
        assert [r.status for r in receiver.requests] == [500, 500, 200]
        assert all(r.verified for r in receiver.requests)  # by standardwebhooks
        assert len({r.msg_id for r in receiver.requests}) == 1  # stable across retries
        assert list(receiver.accepted) == [receiver.requests[0].msg_id]
        payload = next(iter(receiver.accepted.values()))
        assert payload["type"] == "resolution.submitted"
        assert payload["data"]["data"] == {"version": 1, "title": "Leitlinien Vielfalt"}
        assert payload["data"]["actor"] == stack.admin.email  # the admin's view of the event

        rows = await _deliveries(stack, sub["id"])
        assert len(rows) == 1
        row = rows[0]
        assert row["webhook_id"] == receiver.requests[0].msg_id
        assert [a["status_code"] for a in row["attempts"]] == [500, 500, 200]
        assert [a["attempt"] for a in row["attempts"]] == [1, 2, 3]
        assert row["last_status_code"] == 200 and row["delivered_at"]
        if os.environ.get("RECORD_WEBHOOK_HISTORY"):
            await _record_histories(stack, row["id"])

        # A manual redelivery: the same webhook-id again, which the receiver drops as known.
        r = await stack.http.post(
            f"/api/v1/orgs/{stack.admin.org_slug}/webhooks/{sub['id']}/deliveries/"
            f"{row['id']}/redeliver", headers=stack.admin.headers)
        assert r.status_code == 202, r.text

        async def redelivered() -> bool:
            rows = await _deliveries(stack, sub["id"])
            return len(rows[0]["attempts"]) == 4 and rows[0]["status"] == "delivered"

        await _until(redelivered)
        assert receiver.requests[-1].msg_id == row["webhook_id"]
        assert len(receiver.accepted) == 1 and receiver.attempts_by_id[row["webhook_id"]] == 4


async def _record_histories(stack: Stack, delivery_id: str) -> None:
    """For tests/replay/test_webhook_replay.py: the retries of this delivery (completed) and
    the dispatcher so far (running)."""
    from contracts.webhooks import delivery_workflow_id

    for name, wf_id in [("webhook_delivery", delivery_workflow_id(uuid.UUID(delivery_id))),
                        ("webhook_dispatcher", DISPATCHER_WORKFLOW_ID)]:
        history = await stack.client.get_workflow_handle(wf_id).fetch_history()
        (HISTORIES / f"{name}.json").write_text(json.dumps(
            json.loads(history.to_json()), indent=1) + "\n")


async def test_rotation_signs_with_both_secrets(stack):  # type: ignore[no-untyped-def]
    receiver = WebhookReceiver()
    async with live_server(receiver) as base:
        sub = await _subscribe(stack, f"{base}/rat", ["process.*"])
        old = sub["secret"]
        r = await stack.http.post(
            f"/api/v1/orgs/{stack.admin.org_slug}/webhooks/{sub['id']}/rotate",
            headers=stack.admin.headers)
        new = r.json()["secret"]
        receiver.secrets = [old, new]
        await _event(stack, "process.advanced", phase="beteiligung")

        async def got() -> bool:
            return len(receiver.accepted) == 1

        await _until(got)
        assert sorted(receiver.verified_with) == sorted([old, new])


async def test_410_disables_the_subscription(stack):  # type: ignore[no-untyped-def]
    receiver = WebhookReceiver(script=[410])
    # A second subscription of the same types is the witness that the dispatcher planned an
    # event: it plans every subscription's deliveries of an event in one statement.
    witness = WebhookReceiver()
    async with live_server(receiver) as base, live_server(witness) as witness_base:
        sub = await _subscribe(stack, f"{base}/weg", ["process.*"])
        receiver.secrets = [sub["secret"]]
        witness.secrets = [(await _subscribe(stack, f"{witness_base}/da",
                                             ["process.*"]))["secret"]]
        await _event(stack, "process.advanced", phase="eins")

        async def disabled() -> bool:
            r = await stack.http.get(
                f"/api/v1/orgs/{stack.admin.org_slug}/webhooks/{sub['id']}",
                headers=stack.admin.headers)
            return not r.json()["active"]

        await _until(disabled)
        seq = await _event(stack, "process.advanced", phase="zwei")
        await eventually(lambda: any(p["data"]["seq"] == seq for p in witness.accepted.values()),
                         what="the witness has the second event")
        rows = await _deliveries(stack, sub["id"])
        assert [r["status"] for r in rows] == ["gone"]
        assert len(receiver.requests) == 1
