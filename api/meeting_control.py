"""Waking an event's workflow after a change (signal-with-start), shared by routes and pages.

The change and its queued mails are committed first, so the workflow's activities see them.
The wake-up itself runs in the background, one at a time per event: while one is in flight,
further changes only mark that another is needed, so a rush of registrations for one event
costs a handful of signals (the workflow delivers everything queued whenever it wakes), and a
registration never waits for Temporal. If Temporal is unreachable, or the API process stops
before the signal, the change still stands and its mails stay queued in the ledger: the next
wake-up of that event, or the worker's outbox sweep (workflows/meeting_outbox.py) once Temporal
is back, delivers them. After a failed wake-up the waker does not try again for
RETRY_AFTER_SECONDS: during an outage every registration would otherwise pay a Temporal
connection attempt (and a log line), the sweep catches up on what was skipped.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from api import process_control
from api.deps import TemporalHolder
from infra.meeting_wake import wake
from services.errors import DomainError
from services.models.meeting import Meeting

__all__ = ["Waker", "commit_and_wake", "tick_diversity_item", "wake", "waker"]

log = logging.getLogger(__name__)


RETRY_AFTER_SECONDS = 5.0


class Waker:
    """At most one wake-up in flight per event, and one more after it if asked meanwhile."""

    def __init__(self, holder: TemporalHolder, *,
                 retry_after: float = RETRY_AFTER_SECONDS) -> None:
        self.holder = holder
        self.running: dict[uuid.UUID, asyncio.Task[None]] = {}
        self.again: set[uuid.UUID] = set()
        self.retry_after = retry_after
        # Monotonic time before which no wake-up is tried (Temporal was unreachable).
        self.down_until = 0.0

    def wake_soon(self, meeting_id: uuid.UUID) -> None:
        if time.monotonic() < self.down_until:
            return  # Temporal is down: the mails wait in the ledger for the sweep
        if meeting_id in self.running:
            self.again.add(meeting_id)
            return
        self.running[meeting_id] = asyncio.create_task(self._run(meeting_id))

    async def _run(self, meeting_id: uuid.UUID) -> None:
        try:
            while True:
                self.again.discard(meeting_id)
                try:
                    await wake(await self.holder.get(), meeting_id)
                except Exception as exc:  # any Temporal failure: the mails wait in the ledger
                    if time.monotonic() >= self.down_until:  # once per outage, not per event
                        log.warning("event %s: workflow not woken (%s); mails stay queued "
                                    "for the outbox sweep", meeting_id, exc)
                    self.down_until = time.monotonic() + self.retry_after
                    return
                if meeting_id not in self.again:
                    return
        finally:
            self.running.pop(meeting_id, None)

    async def settle(self) -> None:
        """Wait for the wake-ups in flight (tests, shutdown)."""
        while self.running:
            await asyncio.gather(*list(self.running.values()), return_exceptions=True)


def waker(app: Any) -> Waker:
    """The app's waker (one per API process, created on first use)."""
    state = app.state
    found = getattr(state, "meeting_waker", None)
    if found is None:
        found = state.meeting_waker = Waker(state.temporal)
    return found  # type: ignore[no-any-return]


async def commit_and_wake(request: Request, session: AsyncSession,
                          meeting_id: uuid.UUID) -> None:
    await session.commit()
    waker(request.app).wake_soon(meeting_id)


async def tick_diversity_item(request: Request, session: AsyncSession, meeting: Meeting,
                              actor: str | None) -> bool:
    """After the event took place its self-descriptions are final: when they meet the
    checklist's diversity criterion, its item in the event's phase is ticked through the
    process workflow's checklist update (what the coordinator's click does), with the
    coordinator as its actor. True when it was ticked now. Temporal unreachable or the phase
    closed: the item stays open and the event's page shows it met with the tick to do."""
    from contracts.process import ChecklistInput
    from services.meetings import service as meetings

    item = await meetings.diversity_item(session, meeting)
    if item is None or not item.met or item.done:
        return False
    try:
        client = await request.app.state.temporal.get()
        await process_control.check_item(client, item.process_id, ChecklistInput(
            phase_key=item.phase_key, item_key=item.key, done=True, actor=actor))
    except DomainError as exc:
        log.warning("event %s: diversity item %s/%s not ticked (%s)", meeting.id,
                    item.phase_key, item.key, exc.message)
        return False
    return True
