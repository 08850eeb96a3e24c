"""Webhook retries survive the worker: on the real Temporal dev server, a worker process
delivers to a local receiver (signatures checked with `standardwebhooks`) that answers 500
twice; right after the second failed attempt the worker is killed with SIGKILL, the next retry
falls due while no worker runs, a new worker starts, and the receiver has the event exactly
once by `webhook-id`, with three attempts logged."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import delete

from api.webhook_control import ensure_dispatcher
from contracts.webhooks import delivery_workflow_id
from infra.outbound import LOOPBACK, parse_networks
from services.events.service import record_event
from services.models.organisation import Role
from services.models.webhook import WebhookSubscription
from services.webhooks import service
from services.webhooks.schemas import WebhookCreate
from tests.support.live_server import live_server
from tests.support.polling import workflow_idle
from tests.support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
RETRY_SECONDS = 2.0  # then 4 s: the kill lands inside that wait


def _start_worker(env_vars: dict[str, str], queue: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "tests/e2e/campaign_worker.py"), queue, queue + "-mail"],
        cwd=ROOT, env=env_vars, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def test_sigkill_between_attempts_loses_nothing(dev_server_env, committed_maker, pg_url,
                                                      settings, make_committed_staff):  # type: ignore[no-untyped-def]
    maker = committed_maker
    receiver = WebhookReceiver(script=[500, 500])
    admin = await make_committed_staff(role=Role.admin)
    queue = f"hooks-{uuid.uuid4().hex[:8]}"
    dispatcher_id = f"webhook-dispatcher-{queue}"
    client = dev_server_env.client
    env_vars = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MITWIRKEN_DATABASE_URL": pg_url,
        "MITWIRKEN_TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "MITWIRKEN_SECRET_KEY": settings.resolved_secret_key(),
        "MITWIRKEN_DATA_DIR": str(settings.data_dir),
        "MITWIRKEN_SMTP_HOST": "127.0.0.1", "MITWIRKEN_SMTP_PORT": "9",
        "MITWIRKEN_WEBHOOK_ALLOWED_NETWORKS": LOOPBACK,
    }
    worker = None

    async def delivery() -> dict:  # type: ignore[type-arg]
        async with maker() as s:
            page = await service.list_deliveries(s, admin.org_id, sub.id, before=None, limit=5)
        return page.deliveries[0].model_dump() if page.deliveries else {}

    async def wait_for(pred, timeout: float):  # type: ignore[no-untyped-def]
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            d = await delivery()
            if d and pred(d):
                return d
            assert worker is None or worker.poll() is None, worker.stderr.read().decode()[-3000:]
            assert loop.time() < end, f"timed out at {d}"
            await asyncio.sleep(0.05)

    try:
        async with live_server(receiver) as base:
            async with maker() as s:
                sub, secret = await service.create_subscription(
                    s, admin.org_id, WebhookCreate(url=f"{base}/rat",
                                                   types=["resolution.submitted"]),
                    app_secret_key=settings.resolved_secret_key(),
                    allowed=parse_networks(LOOPBACK), actor=admin.email)
                await s.commit()
            receiver.secrets = [secret]
            worker = _start_worker(env_vars, queue)
            await ensure_dispatcher(
                client, settings.model_copy(update={"webhook_retry_initial_seconds":
                                                    RETRY_SECONDS}),
                task_queue=queue, workflow_id=dispatcher_id)
            async with maker() as s:
                await record_event(s, organisation_id=admin.org_id, type="resolution.submitted",
                                   data={"version": 1}, actor=admin.email)
                await s.commit()

            await wait_for(lambda d: len(d["attempts"]) == 2, timeout=60)
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            assert [r.status for r in receiver.requests] == [500, 500]
            # The third attempt falls due (4 s after the second) while no worker runs: the
            # time passing without a worker is the condition under test, not a wait.
            await asyncio.sleep(2 * RETRY_SECONDS + 1)
            assert len(receiver.requests) == 2

            worker = _start_worker(env_vars, queue)
            done = await wait_for(lambda d: d["status"] == "delivered", timeout=60)
            # Once the delivery's workflow has closed no attempt can follow: anything sent
            # twice is in the receiver by then.
            await workflow_idle(client.get_workflow_handle(delivery_workflow_id(done["id"])),
                                timeout=60)

        assert [r.status for r in receiver.requests] == [500, 500, 200]
        assert all(r.verified for r in receiver.requests)
        assert len(receiver.accepted) == 1
        assert list(receiver.accepted) == [done["webhook_id"]]
        assert [a["status_code"] for a in done["attempts"]] == [500, 500, 200]
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        try:
            await client.get_workflow_handle(dispatcher_id).terminate("test done")
        except Exception:  # noqa: BLE001 - it may never have started
            pass
        async with maker() as s:
            await s.execute(delete(WebhookSubscription).where(
                WebhookSubscription.organisation_id == admin.org_id))
            await s.commit()
