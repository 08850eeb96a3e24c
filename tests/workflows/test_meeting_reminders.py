"""The event workflow on Temporal's time-skipping server: the reminder goes out on the right
simulated hour, to the registered only (not to the cancelled), and after a reschedule never at
the old time; confirmations are delivered once."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from temporalio.worker import Worker

from activities.meetings import MEETING_ACTIVITIES
from api.meeting_control import wake
from infra import mail as infra_mail
from infra.mail import MailTransport
from services.meetings import service
from services.meetings.schemas import MeetingUpdate, RegistrationIn
from services.models.meeting import MeetingMail
from tests.support.meetings import make_event, make_links, registrations
from tests.support.polling import eventually, workflow_idle
from workflows.meeting import MeetingWorkflow

REPLAY_FILE = Path(__file__).parent.parent / "replay" / "histories" / "meeting_reschedule.json"


async def _mails(maker, meeting_id, kind):  # type: ignore[no-untyped-def]
    async with maker() as s:
        return list((await s.scalars(select(MeetingMail).where(
            MeetingMail.meeting_id == meeting_id, MeetingMail.kind == kind))).all())


async def _until(pred, timeout=15.0):  # type: ignore[no-untyped-def]
    await eventually(pred, timeout=timeout, interval=0.1)


async def test_reminder_on_time_not_to_cancelled_not_at_old_time(
        committed_maker, time_skipping_env, smtp_sink):
    env = time_skipping_env
    infra_mail.configure(MailTransport("127.0.0.1", smtp_sink.port))
    now = await env.get_current_time()
    setup = await make_event(committed_maker, capacity=10, starts_at=now + timedelta(days=3),
                             reminder_hours=24)
    a, b, c = await make_links(committed_maker, setup, 3)
    for token in (a, b, c):
        async with committed_maker() as s:
            await service.register_by_token(s, token, RegistrationIn(attending=True))
            await s.commit()
    async with committed_maker() as s:
        await service.register_by_token(s, c, RegistrationIn(attending=False))
        await s.commit()
    ra, rb, rc = await registrations(committed_maker, setup.meeting_id)
    queue = "meetings-test"
    async with Worker(env.client, task_queue=queue, workflows=[MeetingWorkflow],
                      activities=MEETING_ACTIVITIES):
        await wake(env.client, setup.meeting_id, task_queue=queue)

        async def confirmed() -> bool:
            # a's and b's confirmations, c's cancellation; c's confirmation was no longer
            # true when the workflow delivered it (c had cancelled): skipped, not sent.
            rows = await _mails(committed_maker, setup.meeting_id, "confirmation")
            return sorted(m.status for m in rows) == ["sent", "sent", "skipped"] and len(
                smtp_sink.messages) == 3
        await _until(confirmed)

        # Shortly before the reminder hour (start - 24 h): nothing yet.
        await env.sleep(timedelta(days=2) - timedelta(hours=1))
        assert await _mails(committed_maker, setup.meeting_id, "reminder") == []

        # Moved by a day: the old reminder hour passes without a reminder.
        async with committed_maker() as s:
            await service.update_meeting(s, setup.meeting_id, MeetingUpdate(
                starts_at=now + timedelta(days=4),
                ends_at=now + timedelta(days=4, hours=2)), actor="k@example.org")
            await s.commit()
        await wake(env.client, setup.meeting_id, task_queue=queue)

        async def updated() -> bool:
            rows = await _mails(committed_maker, setup.meeting_id, "update")
            return len(rows) == 2 and all(m.status == "sent" for m in rows)
        await _until(updated)
        await env.sleep(timedelta(hours=2))  # past the old hour (start - 24 h)
        # Once the workflow has nothing in flight, a reminder for the old hour would be
        # written by now.
        await workflow_idle(env.client.get_workflow_handle(f"meeting-{setup.meeting_id}"))
        assert await _mails(committed_maker, setup.meeting_id, "reminder") == []

        # At the new hour: a and b are reminded, c (cancelled) is not, each once.
        await env.sleep(timedelta(days=1))

        async def reminded() -> bool:
            rows = await _mails(committed_maker, setup.meeting_id, "reminder")
            return len(rows) == 2 and all(m.status == "sent" for m in rows)
        await _until(reminded)
        rows = await _mails(committed_maker, setup.meeting_id, "reminder")
        assert {m.registration_id for m in rows} == {ra.id, rb.id}
        assert rc.id not in {m.registration_id for m in rows}
        # The reminder names the new time (the payload froze the start it was for).
        new_start = (now + timedelta(days=4)).isoformat()
        assert {m.payload["starts_at"] for m in rows} == {new_start}
        reminder_mails = [m for m in smtp_sink.messages
                          if m.message["Subject"].startswith("Erinnerung")]
        assert sorted(m.envelope_to[0] for m in reminder_mails) == sorted([ra.email, rb.email])
        handle = env.client.get_workflow_handle(f"meeting-{setup.meeting_id}")
        await env.sleep(timedelta(days=2))
        assert await handle.result() == "over"
        if os.environ.get("RECORD_MEETING_HISTORY"):
            # Re-record the replay fixture (tests/replay/test_meeting_replay.py).
            REPLAY_FILE.write_text((await handle.fetch_history()).to_json())


async def test_registration_over_http_wakes_the_workflow_which_mails_once(
        settings, committed_maker, time_skipping_env, smtp_sink):
    """The whole path: POST registration → commit → background wake-up (signal-with-start)
    → the event workflow delivers the confirmation with its calendar invitation."""
    from httpx import ASGITransport, AsyncClient

    from api.app import create_app
    from api.meeting_control import waker
    from contracts.queues import TASK_QUEUE
    from tests.support.meetings import calendar_of

    infra_mail.configure(MailTransport("127.0.0.1", smtp_sink.port))
    app = create_app(settings, sessionmaker=committed_maker)
    app.state.temporal.client = time_skipping_env.client
    now = await time_skipping_env.get_current_time()
    setup = await make_event(committed_maker, capacity=2, starts_at=now + timedelta(days=10))
    tokens = await make_links(committed_maker, setup, 3)
    async with Worker(time_skipping_env.client, task_queue=TASK_QUEUE,
                      workflows=[MeetingWorkflow], activities=MEETING_ACTIVITIES):
        async with AsyncClient(transport=ASGITransport(app=app),
                               base_url="http://testserver") as web:
            statuses = []
            for token in tokens:
                r = await web.post(f"/api/v1/participation/{token}/registration",
                                   json={"attending": True})
                statuses.append(r.json()["status"])
        assert statuses == ["registered", "registered", "waitlisted"]

        async def delivered() -> bool:
            return len(smtp_sink.messages) == 3
        await _until(delivered)
        found = [calendar_of(m.raw) for m in smtp_sink.messages]
        assert sum(f is not None for f in found) == 2  # two invitations, one waitlist notice
        await waker(app).settle()
        # Every wake-up has reached the workflow; once it has nothing in flight, a mail sent
        # twice would be in the sink.
        await workflow_idle(time_skipping_env.client.get_workflow_handle(
            f"meeting-{setup.meeting_id}"))
        assert len(smtp_sink.messages) == 3  # nothing twice
