"""Outgoing mail over SMTP (aiosmtplib), with pooled reusable connections.

The measured ceiling (DESIGN.md section 8) comes from reusing connections and sending on
several at once, so a transport keeps a small pool instead of connecting per message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage

import aiosmtplib

# Every mail names the organisation it is sent for (its id): the dev mail viewer shows a staff
# user only their organisations' mails (they carry personal links). Not secret, not personal.
ORGANISATION_HEADER = "X-Mitwirken-Organisation"

class MailTransport:
    """A small pool of SMTP connections.

    Relays close connections that sit idle (aiosmtpd after 300 s, real ones after a few
    minutes); a pooled connection that the relay has closed, or that has been idle for
    `max_idle` seconds, is discarded instead of handed out. This spares a failed first command,
    but it is no guarantee (the relay may close it the next moment): callers must cope with a
    connection that fails before their mail, as services/campaigns/sender.py does.
    """

    def __init__(self, host: str, port: int, *, pool_size: int = 4, timeout: float = 30,
                 max_idle: float = 30) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.max_idle = max_idle
        self._pool: asyncio.Queue[tuple[float, aiosmtplib.SMTP]] = asyncio.Queue()
        self._slots = asyncio.Semaphore(pool_size)

    async def _open(self) -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(
            hostname=self.host, port=self.port, timeout=self.timeout, start_tls=False
        )
        await client.connect()
        return client

    def _pooled(self) -> aiosmtplib.SMTP | None:
        while not self._pool.empty():
            idle_since, client = self._pool.get_nowait()
            if client.is_connected and time.monotonic() - idle_since < self.max_idle:
                return client
            client.close()
        return None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[aiosmtplib.SMTP]:
        async with self._slots:
            client = self._pooled() or await self._open()
            try:
                yield client
            except BaseException:
                # A connection that failed mid-conversation is not reused.
                client.close()
                raise
            self._pool.put_nowait((time.monotonic(), client))

    async def send(self, message: EmailMessage) -> None:
        try:
            async with self.connection() as client:
                await client.send_message(message)
        except aiosmtplib.SMTPServerDisconnected:
            # A pooled connection the server closed while idle: one fresh attempt.
            async with self.connection() as client:
                await client.send_message(message)

    async def close(self) -> None:
        while not self._pool.empty():
            _, client = self._pool.get_nowait()
            try:
                await client.quit()
            except aiosmtplib.SMTPException:
                client.close()


_transport: MailTransport | None = None


def configure(transport: MailTransport) -> None:
    """Install the process-wide transport used by mail activities (set once by the worker)."""
    global _transport
    _transport = transport


def get_transport() -> MailTransport:
    if _transport is None:
        raise RuntimeError("mail not configured: call infra.mail.configure() first")
    return _transport
