"""Delivering one batch of mails exactly once through the outbound mail ledger.

SMTP has no idempotency key, so "exactly once" comes down to how small the window is in which
a crash leaves us not knowing whether the server took a mail. The protocol per mail:

1. MAIL FROM, RCPT TO, DATA, then the whole message body — but not the final ".".
   The server holds an unterminated message; if we die now it discards it.
2. Commit the ledger row `queued → sent` (a conditional UPDATE that also re-checks that the
   person has not answered, declined, unsubscribed or been erased meanwhile).
3. Write the final "." and read the server's answer.

A crash before (2) leaves the row `queued`: the retry sends it, and the server never stored the
first copy. A crash after (2) leaves it `sent`: the terminator is a single small write issued
right after the commit returns (even a killed process's kernel still flushes it), so the
server has the mail. The only window in which a mail could be lost is the few microseconds
between the commit's reply and that write — we choose at-most-once there, because a duplicate
reaches a person while a loss is visible in the ledger (`sent` without `250` is logged).
A 4xx answer after the terminator puts the row back to `queued` (retried), a 5xx marks it
`failed` with the reason; both are recorded per invitation.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession

from infra.mail import MailTransport
from services.campaigns.mails import Rendered
from services.campaigns.repository import CANCEL_INELIGIBLE, CLAIM, RECORD_FAILURE

log = logging.getLogger(__name__)


@dataclass
class Outgoing:
    ledger_id: object
    attempts: int
    mail: Rendered


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    temporary: int = 0
    cancelled: int = 0
    unconfirmed: int = 0


class Pacer:
    """Spaces sends evenly to honour a rate limit (mails per second; 0 = none)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next = time.monotonic()

    async def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        slot = max(self.next, now)
        self.next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class _Drop(Exception):
    """Abandon the connection (the server then discards an unterminated message)."""


class BatchSender:
    def __init__(self, transport: MailTransport,
                 maker: Callable[[], AbstractAsyncContextManager[AsyncSession]], *,
                 connections: int, rate: float, max_attempts: int,
                 heartbeat: Callable[[], None] | None = None, timeout: float = 30.0) -> None:
        self.transport = transport
        self.maker = maker
        self.connections = connections
        self.pacer = Pacer(rate)
        self.max_attempts = max_attempts
        self.heartbeat = heartbeat or (lambda: None)
        self.timeout = timeout
        self.report = DeliveryReport()

    async def deliver(self, items: list[Outgoing]) -> DeliveryReport:
        queue: deque[Outgoing] = deque(items)
        workers = max(1, min(self.connections, len(items)))
        await asyncio.gather(*(self._worker(queue) for _ in range(workers)))
        return self.report

    async def _worker(self, queue: deque[Outgoing]) -> None:
        connection_failures = 0
        async with self.maker() as session:
            while queue:
                item: Outgoing | None = None
                try:
                    async with self.transport.connection() as client:
                        connection_failures = 0
                        while queue:
                            item = queue.popleft()
                            await self.pacer.wait()
                            await self._send_one(client, session, item)
                            item = None
                            self.heartbeat()
                except _Drop:
                    continue  # the item was dealt with; open a fresh connection
                except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                    if item is None:
                        continue
                    # Connection-level trouble before the claim: the mail never went out.
                    connection_failures += 1
                    if connection_failures > 3:
                        await self._failure(session, item, f"Verbindung: {exc}", True)
                        return  # the activity fails and Temporal retries it with backoff
                    queue.appendleft(item)
                    await asyncio.sleep(0.1 * connection_failures)

    async def _send_one(self, client: aiosmtplib.SMTP, session: AsyncSession,
                        item: Outgoing) -> None:
        mail = item.mail
        try:
            await client.mail(mail.sender)
            await client.rcpt(mail.recipient)
        except (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPSenderRefused) as exc:
            await self._failure(session, item, f"{exc.code} {exc.message}", exc.code < 500)
            await self._reset(client)
            return
        response = await client.execute_command(b"DATA")
        if response.code != 354:
            await self._failure(session, item, f"{response.code} {response.message}",
                                response.code < 500)
            await self._reset(client)
            return
        protocol = client.protocol
        assert protocol is not None
        protocol.write(mail.data)
        result = await session.execute(CLAIM, {"ledger_id": item.ledger_id,
                                               "message_id": mail.message_id})
        claimed = result.first() is not None
        if not claimed:
            await session.execute(CANCEL_INELIGIBLE, {"ledger_id": item.ledger_id})
        await session.commit()
        if not claimed:
            self.report.cancelled += 1
            raise _Drop
        # From here on the ledger says "sent": write the terminator at once (see module doc).
        try:
            protocol.write(b".\r\n")
        except aiosmtplib.SMTPServerDisconnected as exc:
            # Nothing was terminated, so nothing was stored: back to the queue.
            await self._failure(session, item, "Verbindung vor dem Abschluss verloren", True,
                                undo_claim=True)
            raise _Drop from exc
        try:
            response = await protocol.read_response(timeout=self.timeout)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # The server may have stored it: keep "sent" (at most once) and say so.
            self.report.unconfirmed += 1
            self.report.sent += 1
            log.warning("mail %s sent without confirmation: %s", item.ledger_id, exc)
            raise _Drop from exc
        if response.code == 250:
            self.report.sent += 1
            return
        await self._failure(session, item, f"{response.code} {response.message}",
                            response.code < 500, undo_claim=True)

    async def _reset(self, client: aiosmtplib.SMTP) -> None:
        try:
            await client.rset()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise _Drop from exc

    async def _failure(self, session: AsyncSession, item: Outgoing, error: str, temporary: bool,
                       *, undo_claim: bool = False) -> None:
        attempts = item.attempts + 1
        item.attempts = attempts
        retry = temporary and attempts < self.max_attempts
        await session.execute(RECORD_FAILURE, {
            "ledger_id": item.ledger_id, "status": "queued" if retry else "failed",
            "error": error[:500], "inc": 0 if undo_claim else 1,
        })
        await session.commit()
        if retry:
            self.report.temporary += 1
        else:
            self.report.failed += 1
