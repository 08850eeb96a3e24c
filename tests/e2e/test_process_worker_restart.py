"""On the real Temporal dev server: stop the worker in the middle of a process (a gate open,
one vote cast), start a new one, and the process continues where it was."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from contracts.process import AdvanceInput, ChecklistInput
from services.models.process import Process, Transition
from tests.support.process_harness import (
    make_org,
    phase,
    process_worker,
    start,
    today,
    vote,
    wait_state,
)
from workflows.process import ProcessWorkflow


@pytest.mark.e2e
async def test_worker_restart_mid_process(dev_server_env, committed_maker, make_committed_staff,
                                          smtp_sink):
    env = dev_server_env
    org = await make_org(make_committed_staff)
    queue = f"restart-{uuid.uuid4().hex[:8]}"
    async with process_worker(env.client, smtp_sink.port, task_queue=queue):
        pid, h = await start(committed_maker, env.client, org, "weiterstadt-vielfaltsstrategie",
                             await today(env), queue)
        await h.execute_update(ProcessWorkflow.set_checklist_item,
                               ChecklistInput(phase_key="planung", item_key="ausschreibung"))
        res = await h.execute_update(ProcessWorkflow.advance, AdvanceInput(
            expected_current="planung", override_reason="Rest folgt"))
        await vote(env.client, res.approval_id, org.steering[0], "approve")
        before = await h.query(ProcessWorkflow.state)
    # The worker is gone. A new one (a new process, a restarted machine) picks the work up.
    async with process_worker(env.client, smtp_sink.port, task_queue=queue):
        after = await wait_state(h, lambda s: s.seq == before.seq, timeout=30)
        assert after.current_phase == "planung"
        assert phase(after, "planung").approval_status == "pending"
        assert phase(after, "planung").checklist[0].done
        await vote(env.client, res.approval_id, org.steering[1], "approve")
        st = await wait_state(h, lambda s: s.current_phase == "kick-off", timeout=30)
        assert phase(st, "planung").status == "completed"
        res = await h.execute_update(ProcessWorkflow.advance, AdvanceInput(
            expected_current="kick-off", override_reason="weiter"))
        assert res.current_phase == "beteiligung-1"
    async with committed_maker() as s:
        process = await s.get(Process, pid)
        assert process.current_phase == "beteiligung-1"
        keys = (await s.scalars(select(Transition.key).where(Transition.process_id == pid))).all()
    assert len(keys) == len(set(keys)) and len(keys) >= 8
