"""An SMTP sink (aiosmtpd) that keeps every mail: in memory and, for the dev stack, as .eml
files under a directory so the mail viewer lists them across restarts."""

from __future__ import annotations

import email
import email.policy
import itertools
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class StoredMail:
    id: str
    envelope_from: str
    envelope_to: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]


class _Handler:
    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.sink.store(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content
                        or envelope.content)
        return "250 Message accepted"


class MailSink:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, directory: Path | None = None,
                 keep_in_memory: bool = True, idle_timeout: float = 300) -> None:
        self.directory = directory
        self.keep_in_memory = keep_in_memory
        self.messages: list[StoredMail] = []
        self.count = 0
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.controller = Controller(_Handler(self), hostname=host, port=port or _free_port(host),
                                     data_size_limit=10_000_000, timeout=idle_timeout)
        if directory:
            directory.mkdir(parents=True, exist_ok=True)

    @property
    def host(self) -> str:
        return str(self.controller.hostname)

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def store(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> None:
        with self._lock:
            self.count += 1
            mail_id = f"{time.time_ns()}-{next(self._ids)}"
            if self.keep_in_memory:
                self.messages.append(StoredMail(mail_id, mail_from, rcpt_tos, raw))
        if self.directory:
            (self.directory / f"{mail_id}.eml").write_bytes(raw)

    def start(self) -> MailSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.count = 0

    def to(self, address: str) -> list[StoredMail]:
        return [m for m in list(self.messages) if address in m.envelope_to]


def stored_mails(directory: Path) -> list[tuple[str, EmailMessage]]:
    """Mails the dev sink wrote, newest first (for the mail viewer)."""
    if not directory.exists():
        return []
    files = sorted(directory.glob("*.eml"), key=lambda p: p.name, reverse=True)
    return [(p.stem, email.message_from_bytes(p.read_bytes(), policy=email.policy.default))  # type: ignore[misc]
            for p in files]


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
