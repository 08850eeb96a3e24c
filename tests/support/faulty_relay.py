"""A real SMTP relay (aiosmtpd) that drops connections the way flaky relays do.

At each stage it may close the connection without answering, with the given probability:
- `mail`: when MAIL FROM arrives (what an idle timeout looks like to the next mail);
- `rcpt`: right after accepting RCPT TO (the client's DATA then finds no server);
- `data`: after the terminated message arrived and was stored, before the 250 (the sender
  cannot know it was delivered: the mail must count as unconfirmed, never be sent again).
The random generator is seeded; the seed is printed so a failing run can be repeated.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

from aiosmtpd.controller import Controller

from infra.devservices import free_port

STAGES = ("mail", "rcpt", "data")


class FaultyRelay:
    def __init__(self, drop: dict[str, float], seed: int | None = None,
                 idle_timeout: float = 300) -> None:
        self.seed = random.randrange(2**32) if seed is None else seed
        print(f"faulty relay seed: {self.seed}")
        self.random = random.Random(self.seed)
        self.drop = drop
        self.delivered: Counter[str] = Counter()
        self.message_ids: Counter[str] = Counter()
        self.drops: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port("127.0.0.1"),
                                     timeout=idle_timeout)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return int(self.controller.port)

    @property
    def count(self) -> int:
        return sum(self.delivered.values())

    def start(self) -> FaultyRelay:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def _should_drop(self, stage: str) -> bool:
        with self._lock:
            if self.random.random() >= self.drop.get(stage, 0.0):
                return False
            self.drops[stage] += 1
            return True

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any,  # noqa: N802
                          address: str, options: Any) -> str:
        if self._should_drop("mail"):
            server.transport.abort()
            return "421 dropped"  # written to a closed transport: the client sees nothing
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any,  # noqa: N802
                          address: str, options: Any) -> str:
        envelope.rcpt_tos.append(address)
        if self._should_drop("rcpt"):
            # Accepted, then gone: the 250 goes out, the connection closes behind it.
            await server.push("250 OK")
            server.transport.close()
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content
        message_id = ""
        for line in content.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                message_id = line.split(b":", 1)[1].strip().decode()
                break
        with self._lock:
            for rcpt in envelope.rcpt_tos:
                self.delivered[rcpt] += 1
            self.message_ids[message_id] += 1
        if self._should_drop("data"):
            server.transport.abort()
        return "250 Message accepted"
