"""`mitwirken dev`: the whole stack on one machine, no Docker, data under one directory.

Start order: Temporal dev server (in the background, it takes longest), mail sink, PostgreSQL,
migrations and demo seed, then the worker and the API as child processes. A service given by
an environment variable (MITWIRKEN_DATABASE_URL, MITWIRKEN_TEMPORAL_ADDRESS, MITWIRKEN_SMTP_HOST)
is used instead of the embedded one. SIGINT/SIGTERM, or any child dying, stops everything in
reverse order; nothing is left running.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx

from composition.seed import DemoLogins
from infra.config import Settings
from infra.devservices import (
    EmbeddedPostgres,
    ManagedProcess,
    StartupFailed,
    port_open,
    temporal_dev_server,
    wait_for_temporal,
)
from infra.devstate import StackState, remove_state, write_state
from infra.mailsink import MailSink
from infra.outbound import LOOPBACK

Echo = Callable[[str], None]


@dataclass
class DevPorts:
    api: int = 8000
    temporal: int = 7233
    temporal_ui: int = 8233
    smtp: int = 1025


class StopRequested(Exception):
    """Raised from the signal handler so that any phase (also start-up) unwinds to cleanup."""


class ChildDied(Exception):
    pass


@dataclass
class DevStack:
    settings: Settings
    ports: DevPorts
    host: str = "127.0.0.1"
    echo: Echo = lambda _: None  # noqa: E731
    ready_timeout: float = 120.0
    data_dir: Path = field(init=False)
    postgres: EmbeddedPostgres | None = None
    temporal: ManagedProcess | None = None
    sink: MailSink | None = None
    children: list[ManagedProcess] = field(default_factory=list)
    _stopping: bool = False
    _deferring: bool = False
    _pending: bool = False

    def __post_init__(self) -> None:
        self.data_dir = self.settings.data_dir.resolve()

    # --- lifecycle ---------------------------------------------------------------------

    def run(self) -> int:
        """Start, wait for a signal or a crash, stop. Returns the process exit code."""
        previous = {sig: signal.signal(sig, self._on_signal)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            logins = self.start()
            self.echo(self.banner(logins))
            self.supervise()
            return 0
        except StopRequested:
            return 0
        except (ChildDied, StartupFailed) as exc:
            self.echo(f"Fehler: {exc}")
            return 1
        finally:
            # A second Ctrl-C must not interrupt the cleanup half-way.
            self._stopping = True
            self.echo("Mitwirken wird beendet …")
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.echo("Alle Dienste sind beendet.")

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._stopping:
            return
        if self._deferring:
            self._pending = True
            return
        self._stopping = True
        raise StopRequested(signal.Signals(signum).name)

    @contextmanager
    def _uninterrupted(self) -> Iterator[None]:
        """Hold a stop request back until this step is done: pg_ctl launches PostgreSQL
        detached, and interrupting it half-way could leave a server nobody knows about."""
        self._deferring = True
        try:
            yield
        finally:
            self._deferring = False
        if self._pending and not self._stopping:
            self._stopping = True
            raise StopRequested("deferred")

    def check_ports(self) -> None:
        """Fail early and clearly when a port is taken (often: another stack still running)."""
        wanted = {"API (--api-port)": self.ports.api}
        if self.settings.temporal_address is None:
            wanted["Temporal (--temporal-port)"] = self.ports.temporal
            wanted["Temporal UI (--temporal-ui-port)"] = self.ports.temporal_ui
        if self.settings.smtp_host is None:
            wanted["Mail-Sink (--smtp-port)"] = self.ports.smtp
        busy = [f"{name}: {port}" for name, port in wanted.items() if port_open(self.host, port)]
        if busy:
            raise StartupFailed("Port belegt – " + ", ".join(busy))

    def start(self) -> DemoLogins:
        self.check_ports()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.settings.resolved_secret_key()  # create it once, before two children race for it
        env = self.child_env()
        temporal_address = env["MITWIRKEN_TEMPORAL_ADDRESS"]
        if self.settings.temporal_address is None:
            self.echo(f"Starte Temporal-Dev-Server auf {temporal_address} …")
            self.temporal = temporal_dev_server(
                self.data_dir / "temporal.db", port=self.ports.temporal,
                ui_port=self.ports.temporal_ui, ip=self.host,
                log=self.data_dir / "logs" / "temporal.log",
            ).start()
        if self.settings.smtp_host is None:
            self.sink = MailSink(self.host, self.ports.smtp, directory=self.data_dir / "mail",
                                 keep_in_memory=False).start()
        database_url = self.settings.database_url
        if database_url is None:
            self.echo("Starte PostgreSQL …")
            self.postgres = EmbeddedPostgres(self.data_dir / "pg")
            with self._uninterrupted():
                database_url = self.postgres.start()
        env["MITWIRKEN_DATABASE_URL"] = database_url
        self.echo("Migriere die Datenbank …")
        from infra.migrate import upgrade

        upgrade(database_url)
        wait_for_temporal(temporal_address, self.temporal,
                          namespace=self.settings.temporal_namespace)
        # Seeded after Temporal answers, on its actual address: the demo process is a workflow.
        logins = asyncio.run(_seed(database_url, temporal_address, self.settings))
        self.echo("Starte Worker und API …")
        python = [sys.executable, "-m", "composition.cli"]
        self.children = [
            ManagedProcess("worker", [*python, "worker"], env=env).start(),
            ManagedProcess("api", [*python, "api", "--host", self.host,
                                   "--port", str(self.ports.api)], env=env).start(),
        ]
        self.wait_until_ready()
        # Only now: a CLI command beside us may rely on migrations, seed and worker being there.
        smtp_port = env.get("MITWIRKEN_SMTP_PORT")
        write_state(self.data_dir, StackState(
            pid=os.getpid(), database_url=database_url, temporal_address=temporal_address,
            smtp_host=env.get("MITWIRKEN_SMTP_HOST"),
            smtp_port=int(smtp_port) if smtp_port else None))
        return logins

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["MITWIRKEN_DATA_DIR"] = str(self.data_dir)
        env["MITWIRKEN_API_PORT"] = str(self.ports.api)
        if self.settings.temporal_address is None:
            env["MITWIRKEN_TEMPORAL_ADDRESS"] = f"{self.host}:{self.ports.temporal}"
        else:
            env["MITWIRKEN_TEMPORAL_ADDRESS"] = self.settings.temporal_address
        if self.settings.smtp_host is None:
            env["MITWIRKEN_SMTP_HOST"] = self.host
            env["MITWIRKEN_SMTP_PORT"] = str(self.ports.smtp)
            env["MITWIRKEN_DEV_MAIL_VIEWER"] = "1"
        # The embedded stack's webhook receivers run on this machine (API.md: the embedded
        # default allows loopback); an operator's deployment allows public addresses only.
        env.setdefault("MITWIRKEN_WEBHOOK_ALLOWED_NETWORKS", LOOPBACK)
        if "MITWIRKEN_PUBLIC_URL" not in os.environ:
            env["MITWIRKEN_PUBLIC_URL"] = f"http://localhost:{self.ports.api}"
        return env

    def wait_until_ready(self) -> None:
        url = f"http://{self.host}:{self.ports.api}/readyz"
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            self.check_children()
            try:
                if httpx.get(url, timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise StartupFailed(f"{url} nicht bereit nach {self.ready_timeout:.0f} s")

    def check_children(self) -> None:
        for proc in [*self.children, *([self.temporal] if self.temporal else [])]:
            code = proc.exit_code()
            if code is not None:
                raise ChildDied(f"{proc.name} (pid {proc.pid}) ist mit Code {code} beendet")

    def supervise(self) -> None:
        while True:
            self.check_children()
            time.sleep(0.5)

    def stop(self) -> None:
        remove_state(self.data_dir, os.getpid())
        # API and worker first (they hold connections), then the services they depend on.
        for child in self.children:
            child.signal(signal.SIGTERM)
        for child in reversed(self.children):
            child.stop(timeout=15)
        if self.temporal is not None:
            self.temporal.stop(timeout=15)
        if self.sink is not None:
            self.sink.stop()
        if self.postgres is not None:
            self.postgres.stop()

    # --- output ------------------------------------------------------------------------

    def banner(self, logins: DemoLogins) -> str:
        api = f"http://localhost:{self.ports.api}"
        ui = (f"http://localhost:{self.ports.temporal_ui}" if self.temporal is not None
              else f"extern ({self.settings.temporal_address})")
        mail = (f"{api}/dev/mail" if self.sink is not None
                else f"extern ({self.settings.smtp_host}:{self.settings.smtp_port})")
        width = max(len(login.email) for login in logins.logins)
        lines = [
            "", "Mitwirken läuft.",
            f"  API:            {api}",
            f"  API-Doku:       {api}/docs",
            f"  Anmeldung:      {api}/login",
            f"  Temporal UI:    {ui}",
            f"  Mail-Ansicht:   {mail}",
            f"  Daten:          {self.data_dir}",
            "", f"Demo-Zugänge ({logins.org_name}, Organisation '{logins.org_slug}'):",
        ]
        lines += [f"  {login.label:<26} {login.email:<{width}}  Passwort: {login.password}"
                  for login in logins.logins]
        lines += ["", "Beenden mit Strg-C.", ""]
        return "\n".join(lines)


async def _seed(database_url: str, temporal_address: str, settings: Settings) -> DemoLogins:
    from composition.seed import seed_demo
    from infra.db import create_engine, create_sessionmaker, session_scope
    from infra.temporal import connect

    engine = create_engine(database_url, pool_size=1)
    try:
        client = await connect(settings, address=temporal_address)
        async with session_scope(create_sessionmaker(engine)) as session:
            return await seed_demo(session, temporal=client)
    finally:
        await engine.dispose()
