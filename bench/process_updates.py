"""Benchmark: a coordinator's and the steering group's clicks (advance, approval decisions)
through the HTTP API, against the raw Temporal round trip; and 1,000 processes at once.

    .venv/bin/python bench/process_updates.py [--processes 120] [--concurrency 8] [--many 1000]

Everything real: embedded PostgreSQL, the Temporal dev server (SQLite WAL, as `mitwirken dev`
runs it), the worker and the API (uvicorn, one worker) as child processes, an SMTP sink.

1. raw bare: a no-op workflow update (`execute_update` from a client, an echo handler) — the
   Temporal round trip with nothing behind it.
2. raw process: the same steps as 3, sent straight to the workflows with the Temporal client
   (the update handlers persist through their local activity before answering).
3. http: per process, POST advance (Planung → awaiting approval), two POST decisions (the
   majority approves, the process moves on), POST advance (Kick-off), POST advance
   (Beteiligungsphase I). Each request returns after the change is in PostgreSQL.
   Closed loop, `concurrency` processes at a time; updates/s and p50/p99 per request.
4. many: `many` processes started through the API (16 at a time): time until every POST
   answered, time until every workflow wrote its first transition, the worker's RSS before
   and after (every process keeps a workflow with its reminder timers).
5. history: `history` checklist updates (toggling the items of the first phase) on one
   process, sent one after another with the Temporal client; then every run of that workflow
   (it may continue as new) is read back: events, bytes (protobuf, as the server counts the
   history size), bytes per update, runs, the largest run. `--only-history` runs just this.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402
from temporalio import workflow  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from contracts.process import AdvanceInput, DecideInput  # noqa: E402
from infra.devservices import (  # noqa: E402
    EmbeddedPostgres,
    ManagedProcess,
    free_port,
    temporal_dev_server,
    wait_for_temporal,
)
from infra.mailsink import MailSink  # noqa: E402
from infra.migrate import upgrade  # noqa: E402
from workflows.approval import ApprovalWorkflow  # noqa: E402
from workflows.process import ProcessWorkflow  # noqa: E402

PASSWORD = "bench-geheim-123"
TEMPLATE = "weiterstadt-vielfaltsstrategie"


@workflow.defn(name="BenchEcho", sandboxed=False)
class BenchEcho:
    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.update
    async def echo(self, value: int) -> int:
        return value

    @workflow.signal
    def stop(self) -> None:
        self.done = True


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(name: str, latencies: list[float], seconds: float) -> dict:
    return {"name": name, "n": len(latencies), "rate": len(latencies) / seconds,
            "p50": statistics.median(latencies) * 1000, "p99": pct(latencies, 0.99) * 1000}


async def closed_loop(items: list, concurrency: int,
                      flow: Callable[[object, list[float]], Awaitable[None]]) -> tuple[list, float]:
    latencies: list[float] = []
    queue: asyncio.Queue = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def runner() -> None:
        while not queue.empty():
            await flow(queue.get_nowait(), latencies)

    t0 = time.perf_counter()
    await asyncio.gather(*(runner() for _ in range(concurrency)))
    return latencies, time.perf_counter() - t0


BY_KIND: dict[str, list[float]] = {}


async def timed(latencies: list[float], coro: Awaitable, kind: str | None = None) -> object:
    t = time.perf_counter()
    result = await coro
    latencies.append(time.perf_counter() - t)
    if kind:
        BY_KIND.setdefault(kind, []).append(latencies[-1])
    return result


async def seed(database_url: str) -> tuple[str, list[str]]:
    from infra.db import create_engine, create_sessionmaker, session_scope
    from services.identity.service import create_organisation, ensure_user
    from services.models.organisation import Role

    engine = create_engine(database_url, pool_size=1)
    emails = ["koordination@bench.example"] + [f"steuerung{i}@bench.example" for i in (1, 2, 3)]
    async with session_scope(create_sessionmaker(engine)) as s:
        await create_organisation(s, "bench", "Stadt Bench")
        for i, email in enumerate(emails):
            await ensure_user(s, org_slug="bench", email=email, password=PASSWORD,
                              role=Role.coordinator if i == 0 else Role.steering)
    await engine.dispose()
    return "bench", emails


async def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as c:
        while time.monotonic() < deadline:
            try:
                if (await c.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} not ready")


async def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-process-"))
    children: list[ManagedProcess] = []
    pg = EmbeddedPostgres(tmp / "pg")
    database_url = await asyncio.to_thread(pg.start)
    await asyncio.to_thread(upgrade, database_url)
    tport = free_port()
    temporal = temporal_dev_server(tmp / "temporal.db", port=tport, ui_port=None).start()
    children.append(temporal)
    address = f"127.0.0.1:{tport}"
    await asyncio.to_thread(wait_for_temporal, address, temporal)
    sink = MailSink().start()
    api_port = free_port()
    env = dict(os.environ, MITWIRKEN_DATABASE_URL=database_url,
               MITWIRKEN_TEMPORAL_ADDRESS=address, MITWIRKEN_SMTP_HOST="127.0.0.1",
               MITWIRKEN_SMTP_PORT=str(sink.port), MITWIRKEN_DATA_DIR=str(tmp / "data"),
               MITWIRKEN_SECRET_KEY="bench-" + "x" * 40, MITWIRKEN_API_PORT=str(api_port))
    python = [sys.executable, "-m", "composition.cli"]
    worker = ManagedProcess("worker", [*python, "worker"], env=env,
                            log=tmp / "worker.log").start()
    api = ManagedProcess("api", [*python, "api", "--host", "127.0.0.1", "--port",
                                 str(api_port)], env=env, log=tmp / "api.log").start()
    children += [worker, api]
    base = f"http://127.0.0.1:{api_port}"
    try:
        slug, emails = await seed(database_url)
        await wait_http(f"{base}/readyz")
        http = httpx.AsyncClient(base_url=base, timeout=60,
                                 limits=httpx.Limits(max_connections=64,
                                                     max_keepalive_connections=64))
        tokens = []
        for email in emails:
            r = await http.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
            r.raise_for_status()
            tokens.append({"Authorization": f"Bearer {r.json()['access_token']}"})
        coord, steering = tokens[0], tokens[1:]
        client = await Client.connect(address, data_converter=pydantic_data_converter)
        wproc = psutil.Process(worker.pid)
        if args.only_history:
            await history_size(http, client, slug, coord, args.history)
            return

        async def start_process(i: int) -> str:
            r = await http.post(f"/api/v1/orgs/{slug}/processes", headers=coord, json={
                "template": TEMPLATE, "title": f"Prozess {i}", "starts_on": "2027-02-01"})
            r.raise_for_status()
            return r.json()["id"]

        async def starts(n: int, concurrency: int = 16) -> tuple[list[str], list[float], float]:
            ids: list[str] = []
            lat: list[float] = []

            async def one(i: object, latencies: list[float]) -> None:
                ids.append(await timed(latencies, start_process(int(i))))  # type: ignore[arg-type]

            lat, secs = await closed_loop(list(range(n)), concurrency, one)
            return ids, lat, secs

        # --- 1. raw bare update ---
        results = []
        async with Worker(client, task_queue="bench-echo", workflows=[BenchEcho]):
            handles = [await client.start_workflow(BenchEcho.run, id=f"echo-{uuid.uuid4()}",
                                                   task_queue="bench-echo")
                       for _ in range(args.concurrency)]
            ops = list(range(args.processes * 5))
            counter = iter(range(10**9))

            async def echo(i: object, latencies: list[float]) -> None:
                h = handles[next(counter) % len(handles)]
                await timed(latencies, h.execute_update(BenchEcho.echo, int(i)))  # type: ignore[arg-type]

            lat, secs = await closed_loop(ops, args.concurrency, echo)
            results.append(summary("raw bare update (echo)", lat, secs))
            for h in handles:
                await h.signal(BenchEcho.stop)

        ids, start_lat, start_secs = await starts(args.processes * 2)
        results.append(summary("POST process (start, for reference)", start_lat, start_secs))
        raw_ids, http_ids = ids[: args.processes], ids[args.processes:]
        await asyncio.sleep(2)

        # --- 2. raw process updates ---
        async def raw_flow(pid: object, latencies: list[float]) -> None:
            h = client.get_workflow_handle(f"process-{pid}")
            res = await timed(latencies, h.execute_update(
                ProcessWorkflow.advance, AdvanceInput(expected_current="planung",
                                                      override_reason="bench")),
                "raw: advance into a gate (opens approval, starts child)")
            approval = client.get_workflow_handle(f"approval-{res.approval_id}")  # type: ignore[attr-defined]
            for i in (0, 1):
                await timed(latencies, approval.execute_update(ApprovalWorkflow.decide, DecideInput(
                    user_id=ids_by_email[emails[i + 1]], email=emails[i + 1],
                    decision="approve")), "raw: decision")
            while (await h.query(ProcessWorkflow.state)).current_phase != "kick-off":
                await asyncio.sleep(0.02)
            for phase_key in ("kick-off", "beteiligung-1"):
                await timed(latencies, h.execute_update(ProcessWorkflow.advance, AdvanceInput(
                    expected_current=phase_key, override_reason="bench")), "raw: advance")

        from sqlalchemy import text

        from infra.db import create_engine as _ce
        eng = _ce(database_url, pool_size=1)
        async with eng.connect() as conn:
            rows = (await conn.execute(text("SELECT email, id FROM users"))).all()
        ids_by_email = {e: i for e, i in rows}
        lat, secs = await closed_loop(raw_ids, args.concurrency, raw_flow)
        results.append(summary("raw process updates (client → workflow)", lat, secs))

        # --- 3. through the HTTP API ---
        async def http_flow(pid: object, latencies: list[float]) -> None:
            r = await timed(latencies, http.post(f"/api/v1/processes/{pid}/advance", headers=coord,
                                                 json={"expected_current": "planung",
                                                       "override_reason": "bench"}),
                      "http: advance into a gate (opens approval, starts child)")
            approval_id = r.json()["approval_id"]  # type: ignore[attr-defined]
            for headers in steering[:2]:
                r = await timed(latencies, http.post(
                    f"/api/v1/approvals/{approval_id}/decision", headers=headers,
                    json={"decision": "approve", "comment": "ok"}), "http: decision")
                assert r.status_code == 200, r.text  # type: ignore[attr-defined]
            while True:
                body = (await http.get(f"/api/v1/processes/{pid}", headers=coord)).json()
                if body["current_phase"] == "kick-off":
                    break
                await asyncio.sleep(0.02)
            for phase_key in ("kick-off", "beteiligung-1"):
                r = await timed(latencies, http.post(
                    f"/api/v1/processes/{pid}/advance", headers=coord,
                    json={"expected_current": phase_key, "override_reason": "bench"}),
                    "http: advance")
                assert r.status_code == 200, r.text  # type: ignore[attr-defined]

        lat, secs = await closed_loop(http_ids, args.concurrency, http_flow)
        results.append(summary("HTTP API (advance + decisions)", lat, secs))

        # --- 4. many processes at once ---
        rss_before = wproc.memory_info().rss
        t0 = time.perf_counter()
        many_ids, many_lat, many_secs = await starts(args.many)
        all_answered = time.perf_counter() - t0
        async with eng.connect() as conn:
            while True:
                n = (await conn.execute(text(
                    "SELECT count(*) FROM processes WHERE state_seq >= 1 "
                    "AND title LIKE 'Prozess %'"))).scalar_one()
                if n >= args.many + 2 * args.processes:
                    break
                await asyncio.sleep(0.2)
        all_started = time.perf_counter() - t0
        await asyncio.sleep(3)
        rss_after = wproc.memory_info().rss
        temporal_rss = psutil.Process(temporal.pid).memory_info().rss
        await eng.dispose()
        if args.history:
            await history_size(http, client, slug, coord, args.history)
        await http.aclose()

        print("\n| measurement | ops | ops/s | p50 ms | p99 ms |\n|---|---|---|---|---|")
        for r in results:
            print(f"| {r['name']} | {r['n']} | {r['rate']:.0f} | {r['p50']:.1f} | "
                  f"{r['p99']:.1f} |")
        for kind, values in BY_KIND.items():
            print(f"| {kind} | {len(values)} | | {statistics.median(values) * 1000:.1f} | "
                  f"{pct(values, 0.99) * 1000:.1f} |")
        http_rate = results[-1]["rate"]
        print(f"\nHTTP / raw process updates: {http_rate / results[2]['rate']:.0%}; "
              f"HTTP / raw bare update: {http_rate / results[0]['rate']:.0%}")
        print(f"\n{args.many} processes: all POSTs answered in {all_answered:.1f} s "
              f"({args.many / many_secs:.0f}/s, p50 {statistics.median(many_lat) * 1000:.0f} ms, "
              f"p99 {pct(many_lat, 0.99) * 1000:.0f} ms); every workflow running and persisted "
              f"after {all_started:.1f} s")
        print(f"worker RSS {rss_before / 2**20:.0f} MiB before, {rss_after / 2**20:.0f} MiB with "
              f"{args.many + 2 * args.processes} processes running; Temporal dev server RSS "
              f"{temporal_rss / 2**20:.0f} MiB")
    finally:
        for child in reversed(children):
            child.stop()
        sink.stop()
        pg.stop()


async def history_size(http: httpx.AsyncClient, client: Client, slug: str, coord: dict,
                       updates: int) -> None:
    from contracts.process import ChecklistInput

    r = await http.post(f"/api/v1/orgs/{slug}/processes", headers=coord, json={
        "template": TEMPLATE, "title": "Verlauf", "starts_on": "2027-02-01"})
    r.raise_for_status()
    wid = f"process-{r.json()['id']}"
    h = client.get_workflow_handle(wid)
    first_run = (await h.describe()).run_id
    items = ["ausschreibung", "prozessablauf", "steuerungsgruppe", "beteiligungsformate"]
    t0 = time.perf_counter()
    for i in range(updates):
        done = (i // len(items)) % 2 == 0
        await h.execute_update(ProcessWorkflow.set_checklist_item, ChecklistInput(
            phase_key="planung", item_key=items[i % len(items)], done=done))
    secs = time.perf_counter() - t0
    runs, run_id, events, size, largest = 0, first_run, 0, 0, 0
    while run_id:
        evs = [e async for e in client.get_workflow_handle(wid, run_id=run_id)
               .fetch_history_events()]
        runs += 1
        run_bytes = sum(e.ByteSize() for e in evs)
        events += len(evs)
        size += run_bytes
        largest = max(largest, run_bytes)
        last = evs[-1]
        run_id = (last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
                  if last.HasField("workflow_execution_continued_as_new_event_attributes")
                  else "")
    print(f"\nhistory: {updates} checklist updates in {secs:.1f} s: {events} events, "
          f"{size / 1e6:.2f} MB in {runs} run(s) (largest run {largest / 1e6:.2f} MB), "
          f"{size / updates / 1000:.2f} KB per update")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=120)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--many", type=int, default=1000)
    parser.add_argument("--history", type=int, default=1500)
    parser.add_argument("--only-history", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
