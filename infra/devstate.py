"""Where a running `mitwirken dev` stack can be reached, for the CLI beside it.

The dev stack starts its PostgreSQL on a port only it knows. While it runs it writes the
addresses into `<data dir>/stack.json` and removes the file when it stops, so that
`mitwirken orgs create …` in a second terminal finds the same database and Temporal without
anyone copying a URL. A file left behind by a killed stack is recognised by its dead pid or
closed database port and never used.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from infra.devservices import port_open

STATE_FILE = "stack.json"


class StackNotRunning(RuntimeError):
    """No live dev stack in the data dir; the message says what to do (German, for the CLI)."""


@dataclass(frozen=True)
class StackState:
    pid: int
    database_url: str
    temporal_address: str
    smtp_host: str | None = None
    smtp_port: int | None = None

    def env(self) -> dict[str, str]:
        """The MITWIRKEN_* variables a command run beside the stack would have been given."""
        env = {"MITWIRKEN_DATABASE_URL": self.database_url,
               "MITWIRKEN_TEMPORAL_ADDRESS": self.temporal_address}
        if self.smtp_host is not None and self.smtp_port is not None:
            env["MITWIRKEN_SMTP_HOST"] = self.smtp_host
            env["MITWIRKEN_SMTP_PORT"] = str(self.smtp_port)
        return env


def state_path(data_dir: Path) -> Path:
    return data_dir / STATE_FILE


def write_state(data_dir: Path, state: StackState) -> None:
    path = state_path(data_dir)
    tmp = path.with_suffix(".tmp")
    # The URL may carry a password; written atomically so a reader never sees half a file.
    tmp.write_text(json.dumps(asdict(state), indent=2))
    tmp.chmod(0o600)
    tmp.replace(path)


def remove_state(data_dir: Path, pid: int) -> None:
    """Remove the file if it is ours (a second stack on the same dir must not lose its own)."""
    path = state_path(data_dir)
    try:
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _socket_open(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(0.5)
        try:
            s.connect(str(path))
        except OSError:
            return False
        return True


def _database_reachable(url: str) -> bool:
    """Something accepts connections where the URL points: a TCP port, or (the embedded
    server's form, `postgresql://u:@/db?host=/socket/dir`) a socket in that directory."""
    parts = urlsplit(url)
    socket_dir = parse_qs(parts.query).get("host", [""])[0]
    if socket_dir.startswith("/"):
        port = parts.port
        names = [f".s.PGSQL.{port}"] if port else [
            p.name for p in Path(socket_dir).glob(".s.PGSQL.*") if not p.name.endswith(".lock")]
        return any(_socket_open(Path(socket_dir) / name) for name in names)
    return port_open(parts.hostname or "localhost", parts.port or 5432)


def running_stack(data_dir: Path) -> StackState:
    """The live stack of `data_dir`, or StackNotRunning naming the dir and `make run`."""
    where = data_dir.resolve()
    hint = (f"MITWIRKEN_DATABASE_URL ist nicht gesetzt, und im Datenverzeichnis {where} läuft "
            "kein Mitwirken-Stack. Starten Sie ihn mit `make run` (oder `mitwirken dev`) in einem "
            "anderen Terminal, setzen Sie MITWIRKEN_DATA_DIR auf dessen Datenverzeichnis, "
            "oder setzen Sie MITWIRKEN_DATABASE_URL.")
    path = state_path(where)
    try:
        raw = json.loads(path.read_text())
        state = StackState(**raw)
    except FileNotFoundError:
        raise StackNotRunning(hint) from None
    except (OSError, ValueError, TypeError) as exc:
        raise StackNotRunning(f"{path} ist nicht lesbar ({exc}). {hint}") from None
    if not _pid_alive(state.pid) or not _database_reachable(state.database_url):
        raise StackNotRunning(f"Der Stack aus {path} (pid {state.pid}) läuft nicht mehr. {hint}")
    return state
