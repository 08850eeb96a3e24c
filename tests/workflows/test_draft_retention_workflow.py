"""DraftRetentionWorkflow on the time-skipping server, its activity mocked by name (no
database; the real activity: tests/activities/test_retention_activity.py): it sweeps at once
and then once a day, a failing sweep is retried rather than skipped, and after `rounds` sweeps
it continues as new. Re-record the replay fixture with `RECORD_DRAFT_RETENTION_HISTORY=1`."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from temporalio import activity
from temporalio.worker import Worker

from composition.worker import start_sweeps
from contracts.retention import (
    ACTIVITY_EXPIRE_DRAFTS,
    DRAFT_RETENTION_WORKFLOW_ID,
    DRAFT_RETENTION_WORKFLOW_TYPE,
    DraftRetentionInput,
)
from workflows.draft_retention import DraftRetentionWorkflow

REPLAY_FILE = Path(__file__).parent.parent / "replay" / "histories" / "draft_retention.json"
DAY = timedelta(days=1)


def _mock(sweeps: list[datetime], fail_on: int | None = None):  # type: ignore[no-untyped-def]
    @activity.defn(name=ACTIVITY_EXPIRE_DRAFTS)
    async def expire_survey_drafts() -> int:
        sweeps.append(datetime.now())
        if len(sweeps) == fail_on:
            raise RuntimeError("database restarting")
        return 3
    return expire_survey_drafts


async def test_sweeps_at_once_then_once_a_day(time_skipping_env):  # type: ignore[no-untyped-def]
    env = time_skipping_env
    sweeps: list[datetime] = []
    queue = f"drafts-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=queue, workflows=[DraftRetentionWorkflow],
                      activities=[_mock(sweeps, fail_on=2)]):
        handle = await env.client.start_workflow(
            DraftRetentionWorkflow.run, DraftRetentionInput(), id=f"draft-retention-{queue}",
            task_queue=queue)
        start = await env.get_current_time()
        await env.sleep(DAY - timedelta(minutes=1))
        assert len(sweeps) == 1  # at once, nothing more within the day
        # The day passes: the second sweep fails once (retried 30 s later) and then runs.
        await env.sleep(timedelta(minutes=2))
        assert len(sweeps) == 3, sweeps
        await env.sleep(DAY)
        assert len(sweeps) == 4
        assert (await env.get_current_time()) - start >= 2 * DAY
        history = await handle.fetch_history()
        await handle.terminate("test over")
    assert not any(e.HasField("workflow_execution_continued_as_new_event_attributes")
                   for e in history.events)
    assert sum(e.HasField("timer_fired_event_attributes") for e in history.events) == 2


async def test_continues_as_new_after_its_rounds(time_skipping_env):  # type: ignore[no-untyped-def]
    env = time_skipping_env
    sweeps: list[datetime] = []
    queue = f"drafts-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=queue, workflows=[DraftRetentionWorkflow],
                      activities=[_mock(sweeps)]):
        first = await env.client.start_workflow(
            DraftRetentionWorkflow.run, DraftRetentionInput(rounds=2),
            id=f"draft-retention-{queue}", task_queue=queue)
        await env.sleep(2 * DAY + timedelta(minutes=1))
        # Two sweeps and two days in the first run, then a new run that sweeps at once.
        assert len(sweeps) == 3, sweeps
        history = await env.client.get_workflow_handle(
            first.id, run_id=first.result_run_id).fetch_history()
        latest = env.client.get_workflow_handle(first.id)
        assert (await latest.describe()).run_id != first.result_run_id
        if os.environ.get("RECORD_DRAFT_RETENTION_HISTORY"):
            REPLAY_FILE.write_text(history.to_json())
        await latest.terminate("test over")
    assert history.events[-1].HasField("workflow_execution_continued_as_new_event_attributes")
    assert sum(e.HasField("timer_fired_event_attributes") for e in history.events) == 2


async def test_every_worker_start_joins_the_one_sweep(  # type: ignore[no-untyped-def]
        time_skipping_env, settings):
    """The worker's start-up (composition/worker.py start_sweeps) starts the sweep under its
    fixed id on the worker's queue; a second worker's start joins the same run; the worker
    registers the workflow type."""
    import workflows.all  # noqa: F401  (as build_workers does)
    from workflows.registry import WORKFLOWS

    env = time_skipping_env
    queue = f"drafts-{uuid.uuid4().hex[:8]}"
    await start_sweeps(env.client, settings, task_queue=queue)
    handle = env.client.get_workflow_handle(DRAFT_RETENTION_WORKFLOW_ID)
    first = await handle.describe()
    await start_sweeps(env.client, settings, task_queue=queue)
    again = await handle.describe()
    assert (first.workflow_type, first.task_queue) == (DRAFT_RETENTION_WORKFLOW_TYPE, queue)
    assert again.run_id == first.run_id
    assert DraftRetentionWorkflow in WORKFLOWS
