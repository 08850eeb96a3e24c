"""Mails queued while Temporal was unreachable go out when it is back, without a new change
of their event: the worker's outbox sweep (workflows/meeting_outbox.py) wakes the event's
workflow, which delivers them once (time-skipping server, real PostgreSQL and SMTP sink)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from httpx import ASGITransport, AsyncClient
from sqlalchemy import select
from temporalio.worker import Worker

from activities.meetings import MEETING_ACTIVITIES
from api.app import create_app
from api.meeting_control import waker
from contracts.meetings import OutboxSweepInput
from infra import mail as infra_mail
from infra.mail import MailTransport
from infra.meeting_wake import start_outbox_sweep
from services.models.meeting import MeetingMail
from tests.support.meetings import make_event, make_links, registrations
from workflows.meeting import MeetingWorkflow
from workflows.meeting_outbox import MeetingOutboxWorkflow


async def _ledger(maker, meeting_id):  # type: ignore[no-untyped-def]
    async with maker() as s:
        return sorted((m.kind, m.status) for m in (await s.scalars(select(MeetingMail).where(
            MeetingMail.meeting_id == meeting_id))).all())


async def _until(pred, timeout=20.0):  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not await pred():
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.1)


async def test_mails_queued_while_temporal_was_down_go_out_when_it_is_back(  # type: ignore[no-untyped-def]
        settings, committed_maker, time_skipping_env, smtp_sink):
    env = time_skipping_env
    infra_mail.configure(MailTransport("127.0.0.1", smtp_sink.port))
    # The test settings point Temporal at 127.0.0.1:1: the wake-up's start fails.
    app = create_app(settings, sessionmaker=committed_maker)
    now = await env.get_current_time()
    setup = await make_event(committed_maker, capacity=1, starts_at=now + timedelta(days=10))
    first, second = await make_links(committed_maker, setup, 2)
    async with AsyncClient(transport=ASGITransport(app=app),
                           base_url="http://testserver") as web:
        for token in (first, second):
            r = await web.post(f"/api/v1/participation/{token}/registration",
                               json={"attending": True})
            assert r.status_code == 200, r.text
    await waker(app).settle()
    # The registrations stand; their mails wait in the ledger.
    assert await _ledger(committed_maker, setup.meeting_id) == [
        ("confirmation", "pending"), ("waitlisted", "pending")]
    assert smtp_sink.messages == []

    # Temporal is back and a worker starts, which starts the sweep (as run_worker does). No
    # change of the event happens.
    queue = f"outbox-{uuid.uuid4().hex[:8]}"
    sweep = OutboxSweepInput(interval_seconds=60, min_age_seconds=0)
    async with Worker(env.client, task_queue=queue,
                      workflows=[MeetingWorkflow, MeetingOutboxWorkflow],
                      activities=MEETING_ACTIVITIES):
        await start_outbox_sweep(env.client, task_queue=queue, workflow_id=f"{queue}-sweep",
                                 sweep=sweep)

        people = sorted(r.email for r in await registrations(committed_maker,
                                                             setup.meeting_id))

        def ours() -> list[str]:
            # The sweep also delivers what other tests left queued in the shared database.
            return sorted(to for m in smtp_sink.messages for to in m.envelope_to
                          if to in people)

        async def delivered() -> bool:
            return await _ledger(committed_maker, setup.meeting_id) == [
                ("confirmation", "sent"), ("waitlisted", "sent")] and ours() == people
        await _until(delivered, timeout=60)

        # Later sweeps, and a second worker start (USE_EXISTING), send nothing twice.
        await start_outbox_sweep(env.client, task_queue=queue, workflow_id=f"{queue}-sweep",
                                 sweep=sweep)
        await env.sleep(timedelta(minutes=3))
        handle = env.client.get_workflow_handle(f"{queue}-sweep")
        history = [e async for e in handle.fetch_history_events()]
        assert sum(e.HasField("activity_task_completed_event_attributes")
                   for e in history) >= 2  # it swept again after its timer
        await asyncio.sleep(0.5)
        assert ours() == people
        assert await _ledger(committed_maker, setup.meeting_id) == [
            ("confirmation", "sent"), ("waitlisted", "sent")]
        await handle.terminate()


async def test_the_waker_does_not_retry_temporal_per_registration_during_an_outage(settings):  # type: ignore[no-untyped-def]
    """While Temporal is down, a rush of registrations costs one connection attempt per
    RETRY_AFTER_SECONDS, not one each (the sweep catches up on the skipped wake-ups)."""
    from api.deps import TemporalHolder
    from api.meeting_control import Waker

    class Counting(TemporalHolder):
        attempts = 0

        async def get(self):  # type: ignore[no-untyped-def]
            Counting.attempts += 1
            return await super().get()

    w = Waker(Counting(settings), retry_after=60)
    w.wake_soon(uuid.uuid4())
    await w.settle()
    assert Counting.attempts == 1
    for _ in range(20):
        w.wake_soon(uuid.uuid4())
    await w.settle()
    assert Counting.attempts == 1
    w.down_until = 0.0  # the window has passed: the next change tries again
    w.wake_soon(uuid.uuid4())
    await w.settle()
    assert Counting.attempts == 2
