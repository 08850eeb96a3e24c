"""MeetingOutboxWorkflow's own logic on the time-skipping server, its activity mocked by name
(no database): it sweeps at once, then every `interval_seconds`, and a failing sweep is
retried rather than ending the workflow. The sweep's real activity and the whole chain (mails
queued while Temporal was down go out when it is back): tests/services/meetings/
test_outbox_sweep.py. Re-record the replay fixture with `RECORD_OUTBOX_HISTORY=1`."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from temporalio import activity
from temporalio.worker import Worker

from contracts.meetings import ACTIVITY_SWEEP, OutboxSweepInput
from workflows.meeting_outbox import MeetingOutboxWorkflow

REPLAY_FILE = Path(__file__).parent.parent / "replay" / "histories" / "meeting_outbox.json"


async def test_sweeps_now_then_on_its_interval_past_a_failure(time_skipping_env):  # type: ignore[no-untyped-def]
    env = time_skipping_env
    sweeps: list[datetime] = []

    @activity.defn(name=ACTIVITY_SWEEP)
    async def sweep(data: OutboxSweepInput) -> int:
        sweeps.append(datetime.now())
        if len(sweeps) == 2:  # the second look fails once (the database restarting)
            raise RuntimeError("database restarting")
        return 1

    queue = f"outbox-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=queue, workflows=[MeetingOutboxWorkflow],
                      activities=[sweep]):
        handle = await env.client.start_workflow(
            MeetingOutboxWorkflow.run, OutboxSweepInput(interval_seconds=60, min_age_seconds=60),
            id=f"meeting-outbox-{uuid.uuid4()}", task_queue=queue)
        start = await env.get_current_time()
        await env.sleep(timedelta(seconds=150))
        # at once, at 60 s (failed, retried 5 s later), at about 125 s
        assert len(sweeps) == 4, sweeps
        assert (await env.get_current_time()) - start >= timedelta(seconds=150)
        history = await handle.fetch_history()
        if os.environ.get("RECORD_OUTBOX_HISTORY"):
            REPLAY_FILE.write_text(history.to_json())
        await handle.terminate("test over")
    # One run throughout: the failed sweep was retried inside it, not a new start.
    assert not any(e.HasField("workflow_execution_continued_as_new_event_attributes")
                   for e in history.events)
    assert sum(e.HasField("timer_fired_event_attributes") for e in history.events) == 2
