"""How long the embedded stack (`mitwirken dev`, what `make run` calls) takes to answer
/readyz with 200, cold (fresh data dir: initdb, migrations, seed) and warm (second start on the
same data), and how much memory all its processes hold once ready.

Usage: .venv/bin/python bench/devstack_startup.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from infra.devservices import free_port  # noqa: E402

MITWIRKEN = Path(sys.executable).parent / "mitwirken"


def stack_processes(dev: psutil.Process, data_dir: Path) -> list[psutil.Process]:
    procs = {p.pid: p for p in [dev, *dev.children(recursive=True)]}
    for p in psutil.process_iter(["cmdline"]):  # PostgreSQL is detached, found by its data dir
        if any(str(data_dir) in part for part in p.info["cmdline"] or []):
            procs[p.pid] = p
            # PostgreSQL's auxiliary processes ("postgres: checkpointer") name no data dir.
            procs.update({c.pid: c for c in p.children(recursive=True)})
    return list(procs.values())


def component(p: psutil.Process) -> str:
    cmd = " ".join(p.cmdline())
    for name in ("worker", "api", "dev"):
        if f"composition.cli {name}" in cmd or f"mitwirken {name}" in cmd:
            return name
    return p.name()


BREAKDOWN: dict[str, list[float]] = {}


def memory_mib(procs: list[psutil.Process]) -> tuple[float, float]:
    rss = pss = 0
    parts: dict[str, float] = {}
    for p in procs:
        try:
            info = p.memory_full_info()
            name = component(p)
        except psutil.Error:
            continue
        rss += info.rss
        pss += getattr(info, "pss", info.rss)
        parts[name] = parts.get(name, 0) + info.rss / 2**20
    for name, mib in parts.items():
        BREAKDOWN.setdefault(name, []).append(mib)
    return rss / 2**20, pss / 2**20


def start_once(data_dir: Path) -> tuple[float, float, float, int]:
    ports = [free_port() for _ in range(4)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MITWIRKEN_")}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [str(MITWIRKEN), "dev", "--data-dir", str(data_dir), "--api-port", str(ports[0]),
         "--temporal-port", str(ports[1]), "--temporal-ui-port", str(ports[2]),
         "--smtp-port", str(ports[3])],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"mitwirken dev exited with {proc.returncode}")
            try:
                if httpx.get(f"http://127.0.0.1:{ports[0]}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        ready = time.perf_counter() - t0
        time.sleep(3)  # let the worker and API settle before measuring memory
        procs = stack_processes(psutil.Process(proc.pid), data_dir.resolve())
        rss, pss = memory_mib(procs)
    finally:
        t1 = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        stop = time.perf_counter() - t1
    return ready, rss, pss, len(procs), stop  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cold, warm, rss, pss, stops, counts = [], [], [], [], [], []
    for _ in range(args.runs):
        root = Path(tempfile.mkdtemp(prefix="mitwirken-bench-"))
        try:
            r, m, p, n, s = start_once(root / "data")
            cold.append(r)
            r, m, p, n, s = start_once(root / "data")
            warm.append(r)
            rss.append(m)
            pss.append(p)
            stops.append(s)
            counts.append(n)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    med = statistics.median
    print(f"machine: {os.cpu_count()} CPUs, "
          f"{psutil.virtual_memory().total / 2**30:.1f} GiB RAM; runs: {args.runs}")
    print(f"cold start to /readyz 200: median {med(cold):.1f} s  (all: "
          + ", ".join(f"{x:.1f}" for x in cold) + ")")
    print(f"warm start to /readyz 200: median {med(warm):.1f} s  (all: "
          + ", ".join(f"{x:.1f}" for x in warm) + ")")
    print(f"resident memory once ready: RSS sum {med(rss):.0f} MiB, PSS sum {med(pss):.0f} MiB "
          f"over {counts[0]} processes")
    ranked = sorted(BREAKDOWN.items(), key=lambda kv: -med(kv[1]))
    print("RSS by component (median MiB): "
          + ", ".join(f"{name} {med(v):.0f}" for name, v in ranked))
    print(f"SIGTERM to all stopped: median {med(stops):.1f} s")


if __name__ == "__main__":
    main()
