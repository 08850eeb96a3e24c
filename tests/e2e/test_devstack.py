"""The embedded stack end to end: `mitwirken dev` in a temporary data dir on free ports,
stopped with SIGTERM (nothing left behind) and started again on the same data."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import httpx
import psutil
import pytest

from composition.process_demo import DEMO_PROCESS_ID
from infra.devservices import free_port
from infra.mail import ORGANISATION_HEADER
from tests.support.forms import token_in

pytestmark = pytest.mark.e2e

COORDINATOR = {"email": "koordination@weiterstadt.example", "password": "demo-koordination"}


class Stack:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.api, self.temporal, self.ui, self.smtp = (free_port() for _ in range(4))
        self.proc: subprocess.Popen[str] | None = None
        self.output = data_dir.parent / "dev.out"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api}"

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MITWIRKEN_")}
        with self.output.open("a") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "composition.cli", "dev", "--data-dir", str(self.data_dir),
                 "--api-port", str(self.api), "--temporal-port", str(self.temporal),
                 "--temporal-ui-port", str(self.ui), "--smtp-port", str(self.smtp)],
                env=env, stdout=out, stderr=subprocess.STDOUT, text=True)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, self.output.read_text()
            try:
                if httpx.get(f"{self.url}/readyz", timeout=3).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError("not ready:\n" + self.output.read_text())

    def processes(self) -> list[psutil.Process]:
        """Every process of this stack: the children of `mitwirken dev`, and PostgreSQL and
        Temporal found by our data dir on their command line (PostgreSQL is not a child)."""
        assert self.proc is not None
        found = {p.pid: p for p in psutil.Process(self.proc.pid).children(recursive=True)}
        for p in psutil.process_iter(["cmdline"]):
            if any(str(self.data_dir) in part for part in p.info["cmdline"] or []):
                found[p.pid] = p
                # PostgreSQL's auxiliary processes ("postgres: walwriter") name no data dir.
                found.update({c.pid: c for c in p.children(recursive=True)})
        found.pop(self.proc.pid, None)
        return list(found.values())

    def terminate(self, timeout: float = 60) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def leftovers(self) -> list[str]:
        left = []
        for p in psutil.process_iter(["pid", "cmdline", "status"]):
            if any(str(self.data_dir) in part for part in p.info["cmdline"] or []) \
                    and p.info["status"] != psutil.STATUS_ZOMBIE:
                left.append(f"{p.info['pid']}: {' '.join(p.info['cmdline'])}")
        return left


@pytest.fixture
def stack(tmp_path):
    s = Stack(tmp_path / "data")
    yield s
    if s.proc is not None and s.proc.poll() is None:  # a failed test must not leak the stack
        s.proc.send_signal(signal.SIGTERM)
        try:
            s.proc.wait(60)
        except subprocess.TimeoutExpired:
            s.proc.kill()


def _cli_beside(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MITWIRKEN_")}
    env["MITWIRKEN_DATA_DIR"] = str(stack.data_dir)
    return subprocess.run([sys.executable, "-m", "composition.cli", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def _send_mail(port: int, subject: str, org_id: str) -> None:
    msg = EmailMessage()
    msg[ORGANISATION_HEADER] = org_id  # as every sender of the product does
    msg["From"] = "beteiligung@localhost"
    msg["To"] = "buergerin@example.org"
    msg["Subject"] = subject
    msg.set_content("Bitte nehmen Sie an der Umfrage teil.")
    asyncio.run(aiosmtplib.send(msg, hostname="127.0.0.1", port=port, timeout=10))


def test_dev_stack_starts_serves_stops_cleanly_and_keeps_its_data(stack):
    stack.start()
    stack.wait_ready()
    http = httpx.Client(base_url=stack.url, timeout=10)

    token = http.post("/api/v1/auth/token", json=COORDINATOR)
    assert token.status_code == 200, token.text
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    org = http.get("/api/v1/orgs/weiterstadt", headers=bearer)
    assert org.status_code == 200 and org.json()["name"] == "Stadt Weiterstadt"
    # The demo process runs on the stack's own Temporal (free ports, not the default 7233).
    process = http.get(f"/api/v1/processes/{DEMO_PROCESS_ID}", headers=bearer)
    assert process.status_code == 200, process.text
    assert process.json()["current_phase"] == "planung"
    assert http.get("/docs").status_code == 200
    assert httpx.get(f"http://127.0.0.1:{stack.ui}/", timeout=10).status_code == 200

    # A mail through the embedded sink shows up in the viewer (staff session via /login).
    _send_mail(stack.smtp, "Einladung zur Umfrage Vielfalt", org.json()["id"])
    assert http.get("/dev/mail").status_code == 303  # not signed in yet
    csrf = token_in(http.get("/login").text)  # the form's token (and its pre-session cookie)
    login = http.post("/login", data={**COORDINATOR, "next": "/dev/mail", "csrf_token": csrf})
    assert login.status_code == 303 and login.headers["location"] == "/dev/mail"
    listing = http.get("/dev/mail")
    assert listing.status_code == 200 and "Einladung zur Umfrage Vielfalt" in listing.text
    mail_id = re.search(r'href="/dev/mail/([0-9-]+)"', listing.text).group(1)
    assert "Bitte nehmen Sie" in http.get(f"/dev/mail/{mail_id}").text
    assert 'href="/dev/mail"' in http.get("/app").text  # linked from the staff overview

    # Beside the running stack the CLI finds its database with nothing but the data dir (the
    # stack writes stack.json once it is ready, a moment after /readyz first answers).
    state = stack.data_dir / "stack.json"
    deadline = time.monotonic() + 30
    while not state.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    made = _cli_beside(stack, "orgs", "create", "nebenan", "--name", "Stadt Nebenan")
    assert made.returncode == 0, made.stderr

    names = {p.name() for p in stack.processes()}
    assert "postgres" in names and "temporal" in names
    assert len([p for p in stack.processes() if "composition.cli" in " ".join(p.cmdline())]) == 2
    pids = [p.pid for p in stack.processes()]
    assert len(pids) >= 6  # worker, API, Temporal, postmaster and its auxiliary processes

    assert stack.terminate() == 0
    assert not [pid for pid in pids if psutil.pid_exists(pid)
                and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert stack.leftovers() == []
    assert not state.exists()
    stopped = _cli_beside(stack, "orgs", "create", "spaeter", "--name", "Stadt Später")
    assert stopped.returncode == 2 and "make run" in stopped.stderr
    output = stack.output.read_text()
    assert "Koordination" in output and "demo-koordination" in output
    assert f"http://localhost:{stack.ui}" in output and "/dev/mail" in output

    # Second start on the same data: the demo organisation, the mail and even the signing
    # key (so the earlier token) are still there.
    stack.start()
    stack.wait_ready()
    again = httpx.get(f"{stack.url}/api/v1/orgs/weiterstadt", headers=bearer, timeout=10)
    assert again.status_code == 200 and again.json()["id"] == org.json()["id"]
    assert stack.terminate() == 0
    assert stack.leftovers() == []
    assert (stack.data_dir / "mail" / f"{mail_id}.eml").exists()


async def test_services_given_by_environment_are_used_instead_of_embedded_ones(
        tmp_path, pg_url, dev_server_env, smtp_sink):
    import asyncpg

    # A database of its own on the test server, so the demo seed stays out of the shared one.
    name = f"devstack_{os.getpid()}_{int(time.time())}"
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    db_url = pg_url.replace("/postgres?", f"/{name}?", 1)
    assert db_url != pg_url
    temporal_address = dev_server_env.client.service_client.config.target_host

    stack = Stack(tmp_path / "data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MITWIRKEN_")}
    env.update(MITWIRKEN_DATABASE_URL=db_url, MITWIRKEN_TEMPORAL_ADDRESS=temporal_address,
               MITWIRKEN_SMTP_HOST=smtp_sink.host, MITWIRKEN_SMTP_PORT=str(smtp_sink.port))
    with stack.output.open("a") as out:
        stack.proc = subprocess.Popen(
            [sys.executable, "-m", "composition.cli", "dev", "--data-dir", str(stack.data_dir),
             "--api-port", str(stack.api)], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        await asyncio.to_thread(stack.wait_ready)
        async with httpx.AsyncClient(base_url=stack.url, timeout=10) as http:
            token = await http.post("/api/v1/auth/token", json=COORDINATOR)
            assert token.status_code == 200
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            # The mail viewer is only for the embedded sink.
            assert (await http.get("/dev/mail", headers=headers)).status_code == 404
        names = {p.name() for p in stack.processes()}
        assert "postgres" not in names and "temporal" not in names
        assert not (stack.data_dir / "pg").exists()
        assert not (stack.data_dir / "temporal.db").exists()
        # The stack prints its banner once its own readiness poll succeeds, which may be a
        # moment after ours did.
        deadline = time.monotonic() + 15
        while (f"extern ({temporal_address})" not in stack.output.read_text()
               and time.monotonic() < deadline):
            await asyncio.sleep(0.2)
        assert f"extern ({temporal_address})" in stack.output.read_text()
    finally:
        assert await asyncio.to_thread(stack.terminate) == 0
    assert stack.leftovers() == []
    # The external services are untouched by the stop.
    admin = await asyncpg.connect(db_url)
    try:
        assert await admin.fetchval("select name from organisations where slug='weiterstadt'") \
            == "Stadt Weiterstadt"
    finally:
        await admin.close()
    await dev_server_env.client.service_client.check_health()


def test_a_crashed_child_stops_the_whole_stack_visibly(stack):
    stack.start()
    stack.wait_ready()
    procs = stack.processes()
    api = next(p for p in procs if "composition.cli api" in " ".join(p.cmdline()))
    api.kill()
    assert stack.proc.wait(60) == 1
    alive = [p for p in procs if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert alive == []  # the worker, Temporal and PostgreSQL went down with it
    output = stack.output.read_text()
    assert f"api (pid {api.pid}) ist mit Code" in output
    assert stack.leftovers() == []
