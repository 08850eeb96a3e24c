"""The process mail activity as Temporal runs it (`ActivityEnvironment`) against the real
database and SMTP sink: one mail per coordinator under the notice's idempotency key, and a
second run (Temporal retries at least once) sends nothing again."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from activities.process import notify_process
from contracts.process import NotifyInput
from services.models.organisation import Role
from services.models.process import ProcessNotification
from tests.support.surveys import make_process


async def test_notify_process_twice_mails_each_coordinator_once(  # type: ignore[no-untyped-def]
        committed_maker, worker_env, make_committed_staff):
    sink = worker_env
    first = await make_committed_staff(role=Role.coordinator)
    second = await make_committed_staff(role=Role.coordinator, org_slug=first.org_slug)
    await make_committed_staff(role=Role.steering, org_slug=first.org_slug)  # not mailed
    async with committed_maker() as s:
        process = await make_process(s, first.org_id)
        await s.commit()
    key = f"reminder:{process.id}:kickoff:{uuid.uuid4().hex[:6]}"
    inp = NotifyInput(process_id=process.id, organisation_id=first.org_id,
                      idempotency_key=key, kind="reminder", phase_key="kickoff",
                      phase_title="Kick-off", planned_end=date(2026, 3, 1),
                      scheduled_for=datetime.now(UTC))
    env = ActivityEnvironment()

    assert await env.run(notify_process, inp) == 2
    assert sorted(m.envelope_to[0] for m in sink.messages) == sorted(
        [first.email, second.email])
    assert await env.run(notify_process, inp) == 0  # the retry: nothing left to send
    assert len(sink.messages) == 2

    async with committed_maker() as s:
        rows = (await s.scalars(select(ProcessNotification).where(
            ProcessNotification.process_id == process.id))).all()
    assert sorted((r.idempotency_key, r.status) for r in rows) == sorted(
        [(f"{key}:{first.email}", "sent"), (f"{key}:{second.email}", "sent")])
