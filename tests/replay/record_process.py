"""Record histories of ProcessWorkflow and ApprovalWorkflow for the replay tests.

    .venv/bin/python -m tests.replay.record_process

Runs the Weiterstadt process on Temporal's time-skipping server through every kind of step
(checklist, gate rejected and approved, racing advance, reminders, auto-advance, reschedule,
skip, completion) and writes the histories to tests/replay/histories/. Activities are stand-ins
registered under the real names: replay never runs activities, it checks that the workflow
code still makes the same decisions from the recorded events. Re-record only on purpose (a
change that needs `workflow.patched()` must keep replaying the old files).
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from contracts.process import (
    AdvanceInput,
    ChecklistInput,
    CloseApprovalInput,
    DecideInput,
    NotifyInput,
    OpenApprovalInput,
    OpenApprovalResult,
    PersistProcessInput,
    ProcessState,
    ProcessWorkflowInput,
    RecordVoteInput,
    RescheduleInput,
    SkipInput,
)
from services.processes.templates import build_phases, builtin_templates
from tests.support.polling import eventually
from workflows.approval import ApprovalWorkflow
from workflows.process import ProcessWorkflow

HISTORIES = Path(__file__).parent / "histories"
BERLIN = ZoneInfo("Europe/Berlin")
VOTERS = [uuid.UUID(int=i) for i in (1, 2, 3)]


@activity.defn(name="persist_process_state")
async def persist_process_state(data: PersistProcessInput) -> bool:
    return True


@activity.defn(name="open_approval")
async def open_approval(data: OpenApprovalInput) -> OpenApprovalResult:
    return OpenApprovalResult(voters=VOTERS)


@activity.defn(name="record_vote")
async def record_vote(data: RecordVoteInput) -> None:
    return None


@activity.defn(name="close_approval")
async def close_approval(data: CloseApprovalInput) -> None:
    return None


@activity.defn(name="notify_process")
async def notify_process(data: NotifyInput) -> int:
    return 1


STAND_INS = [persist_process_state, open_approval, record_vote, close_approval, notify_process]


async def _until(handle: WorkflowHandle, pred) -> ProcessState:  # type: ignore[no-untyped-def]
    for _ in range(400):
        state = await handle.query(ProcessWorkflow.state)
        if pred(state):
            return state
        await asyncio.sleep(0.025)
    raise AssertionError("state not reached")


async def _vote(client: Client, approval_id: uuid.UUID, voter: int, decision: str) -> None:
    await client.get_workflow_handle(f"approval-{approval_id}").execute_update(
        ApprovalWorkflow.decide,
        DecideInput(user_id=VOTERS[voter], email=f"s{voter}@example.org", decision=decision,
                    comment="Begründung" if decision == "reject" else ""))


async def _sleep_past(env: WorkflowEnvironment, day: date) -> None:
    now = await env.get_current_time()
    await env.sleep(datetime.combine(day, time(1), tzinfo=BERLIN) - now)


@asynccontextmanager
async def _recording() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping server with a worker running both workflows on stand-ins."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"))
    try:
        async with Worker(env.client, task_queue="record",
                          workflows=[ProcessWorkflow, ApprovalWorkflow], activities=STAND_INS):
            yield env
    finally:
        await env.shutdown()


async def record(out: Path = HISTORIES) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    async with _recording() as env:
        client = env.client
        start = (await env.get_current_time()).astimezone(BERLIN).date()
        template = builtin_templates()["weiterstadt-vielfaltsstrategie"]
        pid = uuid.UUID("00000000-0000-4000-8000-00000000cafe")
        state = ProcessState(process_id=pid, organisation_id=uuid.UUID(int=9),
                             title="Weiterstadt WIRkt!", phases=build_phases(template, start))
        h = await client.start_workflow(ProcessWorkflow.run,
                                        ProcessWorkflowInput(state=state),
                                        id=f"process-{pid}", task_queue="record")
        for item in ("ausschreibung", "prozessablauf", "steuerungsgruppe",
                     "beteiligungsformate"):
            await h.execute_update(ProcessWorkflow.set_checklist_item,
                                   ChecklistInput(phase_key="planung", item_key=item))
        rejected = await h.execute_update(ProcessWorkflow.advance,
                                          AdvanceInput(expected_current="planung"))
        for voter in (0, 1):
            await _vote(client, rejected.approval_id, voter, "reject")
        await _until(h, lambda s: s.phases[0].approval_status == "rejected")
        approved = await h.execute_update(ProcessWorkflow.advance,
                                          AdvanceInput(expected_current="planung"))
        for voter in (0, 1):
            await _vote(client, approved.approval_id, voter, "approve")
        await _until(h, lambda s: s.current_phase == "kick-off")
        await asyncio.gather(*(h.execute_update(
            ProcessWorkflow.advance,
            AdvanceInput(expected_current="kick-off", override_reason="Termin"))
            for _ in range(2)), return_exceptions=True)
        st = await _until(h, lambda s: s.current_phase == "beteiligung-1")
        await _sleep_past(env, st.phases[2].planned_end + timedelta(days=1))
        st = await _until(h, lambda s: s.current_phase == "bergfest")
        today = (await env.get_current_time()).astimezone(BERLIN).date()
        await h.execute_update(ProcessWorkflow.reschedule, RescheduleInput(
            phase_key="bergfest", planned_start=today, planned_end=today + timedelta(days=5)))
        await _sleep_past(env, today + timedelta(days=7))
        await h.execute_update(ProcessWorkflow.skip,
                               SkipInput(phase_key="abschluss", reason="zusammengelegt"))
        res = await h.execute_update(ProcessWorkflow.advance, AdvanceInput(
            expected_current="bergfest", override_reason="Workshop"))
        for voter in (0, 2):
            await _vote(client, res.approval_id, voter, "approve")
        st = await _until(h, lambda s: s.current_phase == "beteiligung-2")
        await _sleep_past(env, st.phases[4].planned_end + timedelta(days=1))
        await _until(h, lambda s: s.current_phase == "beschluss")
        res = await h.execute_update(ProcessWorkflow.advance, AdvanceInput(
            expected_current="beschluss", override_reason="fertig"))
        for voter in (0, 1, 2):
            await _vote(client, res.approval_id, voter, "approve")
        await h.result()
        runs = [(f"process-{pid}", "process_weiterstadt.json"),
                (f"approval-{rejected.approval_id}", "approval_rejected.json"),
                (f"approval-{approved.approval_id}", "approval_approved.json")]
        for workflow_id, name in runs:
            history = await client.get_workflow_handle(workflow_id).fetch_history()
            path = out / name
            path.write_text(history.to_json())
            written.append(path)
    return written


async def _runs_of(client: Client, workflow_id: str, first_run: str, n: int) -> list[str]:
    """The run ids of a workflow that continued as new, once it has `n` runs."""
    for _ in range(400):
        runs = [first_run]
        while True:
            events = [e async for e in client.get_workflow_handle(
                workflow_id, run_id=runs[-1]).fetch_history_events()]
            last = events[-1]
            if not last.HasField("workflow_execution_continued_as_new_event_attributes"):
                break
            runs.append(last.workflow_execution_continued_as_new_event_attributes
                        .new_execution_run_id)
        if len(runs) >= n:
            return runs[:n]
        await asyncio.sleep(0.025)
    raise AssertionError("runs not reached")


async def record_long_running(out: Path = HISTORIES) -> list[Path]:
    """A process (recorded after the `bounded-history` patch) that continues as new while its
    gate's approval is pending, whose approval escalates at its deadline (the timer fires)
    and then is approved into the next run:

    - process_can_approval_pending.json: run 1, the gate opened, the process continued as new
      with the approval pending (carries the `bounded-history` patch marker);
    - process_can_after_approval.json: run 2, took the approval's signal, moved on, continued
      as new again;
    - approval_escalated.json: the approval, its deadline timer fired (escalation mail), then
      decided.
    """
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    async with _recording() as env:
        client = env.client
        start = (await env.get_current_time()).astimezone(BERLIN).date()
        template = builtin_templates()["weiterstadt-vielfaltsstrategie"]
        pid = uuid.UUID("00000000-0000-4000-8000-0000000ca11e")
        state = ProcessState(process_id=pid, organisation_id=uuid.UUID(int=9),
                             title="Weiterstadt, lange", phases=build_phases(template, start))
        wid = f"process-{pid}"
        h = await client.start_workflow(
            ProcessWorkflow.run,
            ProcessWorkflowInput(state=state, continue_as_new_after_events=60),
            id=wid, task_queue="record")
        first_run = h.first_execution_run_id or h.result_run_id or ""
        res = await h.execute_update(ProcessWorkflow.advance, AdvanceInput(
            expected_current="planung", override_reason="Zeitplan"))
        assert res.approval_id is not None
        approval = client.get_workflow_handle(f"approval-{res.approval_id}")
        # Past the gate's deadline (14 days): the escalation timer fires.
        await _sleep_past(env, start + timedelta(days=16))
        async def escalated() -> bool:
            return (await approval.query(ApprovalWorkflow.state)).escalated
        await eventually(escalated, interval=0.025, what="the escalation")
        items = ("ausschreibung", "prozessablauf", "steuerungsgruppe")
        done = False
        latest = client.get_workflow_handle(wid)
        for _ in range(20):  # until the bound makes the process continue as new
            done = not done
            for item in items:
                await latest.execute_update(ProcessWorkflow.set_checklist_item, ChecklistInput(
                    phase_key="planung", item_key=item, done=done))
            if (await latest.describe()).run_id != first_run:
                break
        await _runs_of(client, wid, first_run, 2)
        for voter in (0, 1):
            await _vote(client, res.approval_id, voter, "approve")
        await approval.result()
        await _until(latest, lambda s: s.current_phase == "kick-off")
        second = (await _runs_of(client, wid, first_run, 2))[1]
        for _ in range(20):
            done = not done
            await latest.execute_update(ProcessWorkflow.set_checklist_item, ChecklistInput(
                phase_key="kick-off", item_key=template.phases[1].checklist[0].key,
                done=done))
            if (await latest.describe()).run_id not in (first_run, second):
                break
        runs = await _runs_of(client, wid, first_run, 3)
        for workflow_id, run_id, name in [
                (wid, runs[0], "process_can_approval_pending.json"),
                (wid, runs[1], "process_can_after_approval.json"),
                (f"approval-{res.approval_id}", None, "approval_escalated.json")]:
            history = await client.get_workflow_handle(
                workflow_id, run_id=run_id).fetch_history()
            path = out / name
            path.write_text(history.to_json())
            written.append(path)
        await h.terminate()
    return written


if __name__ == "__main__":
    # Re-record only on purpose: `long` writes only the continue-as-new and escalation files.
    todo = record_long_running if sys.argv[1:] == ["long"] else record
    for p in asyncio.run(todo()):
        print(p)
