"""Record histories of CouncilResolutionWorkflow (and of a ProcessWorkflow it completes) for the
replay tests.

    .venv/bin/python -m tests.replay.record_resolution

A process in its Beschlussphase; version 1 submitted, its acknowledgement reminder, received,
scheduled, the outcome reminder after the meeting, rejected; version 2 submitted, received,
scheduled, deferred (reminder after the new date), adopted, which completes the process by the
`council_decided` signal. Activities are stand-ins registered under the real names (replay
never runs them). Re-record only on purpose: a change needing `workflow.patched()` must keep
replaying the old files.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from contracts.process import ProcessState, ProcessWorkflowInput
from contracts.resolution import (
    OutcomeInput,
    ReceivedInput,
    ResolutionStep,
    ResolutionStepResult,
    ResolutionWorkflowInput,
    ScheduledInput,
)
from services.processes.templates import build_phases, builtin_templates
from tests.replay.record_process import STAND_INS as PROCESS_STAND_INS
from workflows.approval import ApprovalWorkflow
from workflows.process import ProcessWorkflow
from workflows.resolution import CouncilResolutionWorkflow

HISTORIES = Path(__file__).parent / "histories"
BERLIN = ZoneInfo("Europe/Berlin")


@activity.defn(name="apply_resolution_step")
async def apply_resolution_step(step: ResolutionStep) -> ResolutionStepResult:
    return ResolutionStepResult(status=step.status)


async def _until(handle: WorkflowHandle, pred) -> object:  # type: ignore[no-untyped-def]
    for _ in range(400):
        state = await handle.query("state")
        if pred(state):
            return state
        await asyncio.sleep(0.025)
    raise AssertionError("state not reached")


async def _sleep_to(env: WorkflowEnvironment, day: date, at: time) -> None:
    now = await env.get_current_time()
    await env.sleep(datetime.combine(day, at, tzinfo=BERLIN) - now)


async def _start(client: Client, pid: uuid.UUID, rid: uuid.UUID, number: int) -> WorkflowHandle:
    return await client.start_workflow(
        CouncilResolutionWorkflow.run,
        ResolutionWorkflowInput(resolution_id=rid, process_id=pid, organisation_id=uuid.UUID(int=9),
                                process_workflow_id=f"process-{pid}", number=number,
                                title="Weiterstadt WIRkt!", phase_key="beschluss",
                                phase_title="Beschlussphase", ack_reminder_days=5),
        id=f"resolution-{rid}", task_queue="record")


async def record(out: Path = HISTORIES) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"))
    written: list[Path] = []
    try:
        client = env.client
        async with Worker(client, task_queue="record",
                          workflows=[ProcessWorkflow, ApprovalWorkflow,
                                     CouncilResolutionWorkflow],
                          activities=[*PROCESS_STAND_INS, apply_resolution_step]):
            start = (await env.get_current_time()).astimezone(BERLIN).date()
            template = builtin_templates()["weiterstadt-vielfaltsstrategie"]
            pid = uuid.UUID("00000000-0000-4000-8000-00000000beef")
            phases = build_phases(template, start - timedelta(days=300))
            for p in phases[:-1]:
                p.status = "completed"
            state = ProcessState(process_id=pid, organisation_id=uuid.UUID(int=9),
                                 title="Weiterstadt WIRkt!", phases=phases[:-1] + [phases[-1]],
                                 started=True, current_phase=None)
            state.phases[-1].status = "active"
            state.current_phase = state.phases[-1].key
            ph = await client.start_workflow(ProcessWorkflow.run,
                                             ProcessWorkflowInput(state=state),
                                             id=f"process-{pid}", task_queue="record")
            # Version 1: reminders, then rejected.
            r1 = uuid.UUID(int=101)
            h1 = await _start(client, pid, r1, 1)
            await env.sleep(timedelta(days=6))
            await h1.execute_update(CouncilResolutionWorkflow.received,
                                    ReceivedInput(actor="clerk@example.org"))
            today = (await env.get_current_time()).astimezone(BERLIN).date()
            meeting = today + timedelta(days=3)
            await h1.execute_update(CouncilResolutionWorkflow.scheduled, ScheduledInput(
                body="Stadtverordnetenversammlung", meeting_date=meeting))
            await _sleep_to(env, meeting + timedelta(days=1), time(10))
            await h1.execute_update(CouncilResolutionWorkflow.outcome, OutcomeInput(
                outcome="rejected", decided_on=meeting, note="Finanzierung ungeklärt"))
            await h1.result()
            # Version 2: deferred, then adopted (completes the process).
            r2 = uuid.UUID(int=102)
            h2 = await _start(client, pid, r2, 2)
            await h2.execute_update(CouncilResolutionWorkflow.received, ReceivedInput())
            today = (await env.get_current_time()).astimezone(BERLIN).date()
            meeting = today + timedelta(days=2)
            await h2.execute_update(CouncilResolutionWorkflow.scheduled, ScheduledInput(
                body="Stadtverordnetenversammlung", meeting_date=meeting))
            new_date = meeting + timedelta(days=14)
            await h2.execute_update(CouncilResolutionWorkflow.outcome, OutcomeInput(
                outcome="deferred", decided_on=meeting, meeting_date=new_date))
            await _sleep_to(env, new_date + timedelta(days=1), time(10))
            await h2.execute_update(CouncilResolutionWorkflow.outcome, OutcomeInput(
                outcome="adopted", decided_on=new_date, minutes_ref="SVV 2027/14"))
            await h2.result()
            final = await ph.result()
            assert final.status == "completed", final
            runs = [(f"resolution-{r1}", "resolution_rejected.json"),
                    (f"resolution-{r2}", "resolution_deferred_adopted.json"),
                    (f"process-{pid}", "process_council_adopted.json")]
            for workflow_id, name in runs:
                history = await client.get_workflow_handle(workflow_id).fetch_history()
                path = out / name
                path.write_text(history.to_json())
                written.append(path)
    finally:
        await env.shutdown()
    return written


if __name__ == "__main__":
    for p in asyncio.run(record()):
        print(p)  # noqa: T201
