"""Delivering one batch of mails exactly once through the outbound mail ledger.

SMTP has no idempotency key, so "exactly once" comes down to leaving no window in which a
crash of the sending process makes the ledger and the SMTP server disagree. Per mail:

1. Lease (for the whole batch, before sending): the ledger rows go `queued → sending` in one
   committed statement that re-checks that the person has not answered, declined,
   unsubscribed or been erased meanwhile; the rest of the batch is cancelled.
2. MAIL FROM, RCPT TO, DATA. The server waits for the message; if the connection drops now,
   it stores nothing.
3. Write the UPDATE `sending → unconfirmed` to PostgreSQL and, in the same synchronous
   stretch of code (no await in between, so no other task can run), the message with its
   final "." to the SMTP server. Only then wait for both answers.
4. The relay's 250 moves the row on to `sent`; these confirmations are written in bulk, a
   few times a second. A row left `unconfirmed` (no answer, a dropped connection, a crash
   before the confirmation was written) is a mail whose delivery is uncertain: it is never
   sent again and the campaign counts it as such.

Once both writes of step 3 have left the process, the kernel delivers them even if the
process is killed the next instant: PostgreSQL executes and commits the UPDATE it received,
the SMTP server stores the terminated message. So after a crash:
- `sending`: the terminator was never written, the server discarded the message; the next
  attempt of the batch puts the row back to `queued` and sends it (nothing is skipped);
- `unconfirmed` or `sent`: both writes went out (nothing is sent twice).
A row stays `sending` - leased by this attempt - until its terminator is written: a
connection that fails before it (a pooled connection the relay closed while idle) is
replaced and the same leased row is tried on the new one; it goes back to `queued` only when
this attempt gives up on it and will not write its terminator. Should the `sending →
unconfirmed` UPDATE ever match nothing, the row is sealed after the terminator regardless.
The one remaining window lies between the two write calls: the first call's system call
plus a few microseconds of Python (a SIGKILL takes effect when a system call returns). A
crash exactly there loses that mail (at most once rather than twice: a duplicate reaches a
person, a loss does not), and the loss is visible: the row stays `unconfirmed`. On this
project's 2-core machine the window is roughly 10-30 µs per mail, so a kill at a random
moment hits it with a probability of about rate x window (0.5 % at the default 200
mails/s, a few per cent at 1,500 mails/s); the fault drill
(tests/e2e/test_campaign_fault_drill.py) kills the worker at the default rate.

A 4xx answer puts the row back to `queued` (retried, up to `max_attempts`), a 5xx marks it
`failed` with the reason; both end up on the invitation.
"""

from __future__ import annotations

import asyncio
import logging
import time
import types
import uuid
from collections import deque
from collections.abc import Callable, Generator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession

from infra.mail import MailTransport
from services.campaigns.mails import Rendered
from services.campaigns.repository import (
    CONFIRM_RAW,
    FAILURE_RAW,
    SEAL_RAW,
    SENT_RAW,
    UNCONFIRMED_RAW,
)

log = logging.getLogger(__name__)


@dataclass
class Outgoing:
    ledger_id: uuid.UUID
    attempts: int
    # Rendered just before sending (about 60 µs), so a batch never blocks the event loop
    # for the time it takes to render hundreds of mails.
    render: Callable[[], Rendered]


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
        self._last_beat = 0.0

    async def deliver(self, items: list[Outgoing]) -> DeliveryReport:
        queue: deque[Outgoing] = deque(items)
        workers = max(1, min(self.connections, len(items)))
        await asyncio.gather(*(self._worker(queue) for _ in range(workers)))
        if queue:
            # Every connection gave up: what was never tried goes back to the queue for the
            # activity's next attempt (still leased, it would look as if it were in flight).
            async with self.maker() as session:
                ledger = await _Ledger.open(session)
                while queue:
                    await ledger.failure(queue.popleft().ledger_id, "queued",
                                         "Verbindung zum Mailserver gestört")
                    self.report.temporary += 1
        return self.report

    async def _worker(self, queue: deque[Outgoing]) -> None:
        connection_failures = 0
        async with self.maker() as session:
            ledger = await _Ledger.open(session)
            try:
                while queue:
                    item: Outgoing | None = None
                    try:
                        async with self.transport.connection() as client:
                            connection_failures = 0
                            while queue:
                                item = queue.popleft()
                                await self.pacer.wait()
                                await self._send_one(client, ledger, item)
                                item = None
                                self._beat()
                                await ledger.confirm_due()
                    except _Drop:
                        continue  # the item was dealt with; open a fresh connection
                    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                        if item is None:
                            continue
                        # Connection trouble before the terminator: the mail never went out.
                        # The row stays `sending` - leased by this attempt - and is tried
                        # again on a fresh connection; only when we give up does it go back
                        # to `queued`. (Putting it back first and then sending it anyway made
                        # `sending → sent` match nothing, and the next attempt sent it again.)
                        connection_failures += 1
                        if connection_failures > 3:
                            await ledger.failure(item.ledger_id, "queued",
                                                 f"Verbindung: {exc}"[:500])
                            self.report.temporary += 1
                            return  # the activity fails and Temporal retries it with backoff
                        queue.appendleft(item)
                        await asyncio.sleep(0.1 * connection_failures)
            finally:
                try:
                    await ledger.confirm_all()
                except Exception:  # the database went away: those mails stay unconfirmed
                    log.exception("could not record the relay's confirmations")

    async def _send_one(self, client: aiosmtplib.SMTP, ledger: _Ledger, item: Outgoing) -> None:
        mail = item.render()
        try:
            await client.mail(mail.sender)
            await client.rcpt(mail.recipient)
        except (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPSenderRefused) as exc:
            await self._failure(ledger, item, f"{exc.code} {exc.message}", exc.code < 500)
            await self._reset(client)
            return
        response = await client.execute_command(b"DATA")
        if response.code != 354:
            await self._failure(ledger, item, f"{response.code} {response.message}",
                                response.code < 500)
            await self._reset(client)
            return
        protocol = client.protocol
        if protocol is None:
            raise aiosmtplib.SMTPServerDisconnected("Verbindung verloren")

        def terminate() -> None:
            # Body and end-of-data marker in one write: as many writes per mail as a plain
            # client needs, and the server has either all of it or an empty, open DATA phase.
            protocol.write(mail.data + b".\r\n")

        # aiosmtplib drops replies nobody waits for, and we first wait for PostgreSQL below:
        # say a reply is expected, as its own commands do before writing (aiosmtplib >= 4);
        # on other versions listen in a task from the start.
        reply: asyncio.Future[Any] | None = None
        if hasattr(protocol, "_response_pending"):
            protocol._response_pending = True
        else:
            reply = asyncio.ensure_future(protocol.read_response(timeout=self.timeout))
        try:
            # The UPDATE and the terminator leave the process back to back (module doc).
            marked = await ledger.mark_sent_then(item.ledger_id, mail.message_id, terminate)
        except BaseException:
            if reply is not None:
                reply.cancel()
            raise
        if not marked:
            # Not ours any more (which should not happen): the terminator is out, so seal the
            # row whatever its state - a mail whose terminator was written is never resent.
            log.error("ledger row %s was not 'sending' when its mail went out", item.ledger_id)
            await ledger.seal(item.ledger_id, mail.message_id)
        try:
            response = await (reply if reply is not None
                              else protocol.read_response(timeout=self.timeout))
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # The server may have stored it: it stays `unconfirmed` (at most once), counted
            # on the campaign as a mail whose delivery is uncertain.
            self.report.unconfirmed += 1
            log.warning("mail %s sent without confirmation: %s", item.ledger_id, exc)
            await ledger.unconfirmed(item.ledger_id, f"Keine Bestätigung: {exc}"[:500])
            raise _Drop from exc
        if response.code == 250:
            self.report.sent += 1
            ledger.confirmed(item.ledger_id)
            return
        await self._failure(ledger, item, f"{response.code} {response.message}",
                            response.code < 500)

    def _beat(self) -> None:
        # Temporal throttles heartbeats itself; calling it once a second saves the per-call
        # work on a path that runs for every mail.
        now = time.monotonic()
        if now - self._last_beat >= 1.0:
            self._last_beat = now
            self.heartbeat()

    async def _reset(self, client: aiosmtplib.SMTP) -> None:
        try:
            await client.rset()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise _Drop from exc

    async def _failure(self, ledger: _Ledger, item: Outgoing, error: str,
                       temporary: bool) -> None:
        item.attempts += 1
        retry = temporary and item.attempts < self.max_attempts
        await ledger.failure(item.ledger_id, "queued" if retry else "failed", error[:500])
        if retry:
            self.report.temporary += 1
        else:
            self.report.failed += 1


class _Ledger:
    """The ledger writes of one sending connection, each committed on its own.

    They go straight to the asyncpg connection under the session, outside any transaction,
    so each commits by itself in one round trip (no BEGIN/COMMIT, no ORM work on the hot
    path); the session only pins that connection for the batch.
    """

    # Confirmations are written in bulk: at most this many seconds or mails late. A crash
    # loses only the confirmations of that stretch (those mails then show as unconfirmed).
    CONFIRM_EVERY = 0.25
    CONFIRM_BATCH = 100

    def __init__(self, raw: Any, sent_stmt: Any) -> None:
        self.raw = raw
        self.sent_stmt = sent_stmt
        self._confirmed: list[uuid.UUID] = []
        self._last_confirm = time.monotonic()

    @classmethod
    async def open(cls, session: AsyncSession) -> _Ledger:
        connection = await session.connection()
        raw = (await connection.get_raw_connection()).driver_connection
        if raw is None or not hasattr(raw, "prepare") or raw.is_in_transaction():
            raise RuntimeError("the campaign sender needs an asyncpg connection in autocommit")
        # Prepared up front: executing it then writes to the socket before its first await,
        # which `mark_sent_then` relies on.
        return cls(raw, await raw.prepare(SENT_RAW))

    async def failure(self, ledger_id: uuid.UUID, status: str, error: str) -> None:
        await self.raw.execute(FAILURE_RAW, ledger_id, status, error)

    async def seal(self, ledger_id: uuid.UUID, message_id: str) -> None:
        await self.raw.execute(SEAL_RAW, ledger_id, message_id)

    async def unconfirmed(self, ledger_id: uuid.UUID, error: str) -> None:
        await self.raw.execute(UNCONFIRMED_RAW, ledger_id, error)

    def confirmed(self, ledger_id: uuid.UUID) -> None:
        self._confirmed.append(ledger_id)

    async def confirm_due(self) -> None:
        if len(self._confirmed) >= self.CONFIRM_BATCH or (
                self._confirmed and time.monotonic() - self._last_confirm >= self.CONFIRM_EVERY):
            await self.confirm_all()

    async def confirm_all(self) -> None:
        self._last_confirm = time.monotonic()
        if self._confirmed:
            ids, self._confirmed = self._confirmed, []
            await self.raw.execute(CONFIRM_RAW, ids)

    async def mark_sent_then(self, ledger_id: uuid.UUID, message_id: str,
                             then: Callable[[], None]) -> bool:
        """Send `sending → sent` to PostgreSQL, call `then()` at once, then await the answer.

        The coroutine is stepped by hand up to its first suspension: by then asyncpg has
        written Bind/Execute/Sync to its socket, and `then()` runs before anything else can.
        """
        coro = self.sent_stmt.fetchval(ledger_id, message_id)
        try:
            pending = coro.send(None)
        except StopIteration as stop:  # finished without waiting (not on a real socket)
            then()
            return stop.value is not None
        except BaseException:
            coro.close()
            raise
        then()
        return await _continue(coro, pending) is not None


@types.coroutine
def _continue(coro: Any, pending: Any) -> Generator[Any, Any, Any]:
    """Go on driving a coroutine that was stepped by hand (as `yield from` would)."""
    while True:
        try:
            value = yield pending
        except BaseException as exc:
            try:
                pending = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
            continue
        try:
            pending = coro.send(value)
        except StopIteration as stop:
            return stop.value
