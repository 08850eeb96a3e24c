"""CouncilResolutionWorkflow's own logic on the time-skipping server, its activities mocked by
name (no database, no SMTP, no PDF): the acknowledgement reminder after the configured days and
the outcome reminder the day after the meeting at 09:00 local time, each once; a step out of
order refused by the validator with its code and nothing written; the adoption reported to the
process. The real activities and the whole chain through the API:
tests/workflows/test_resolution_workflow.py."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from temporalio import activity, workflow
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from contracts.process import NotifyInput
    from contracts.resolution import (
        NOT_RECEIVED,
        CouncilDecided,
        OutcomeInput,
        ReceivedInput,
        ResolutionStep,
        ResolutionStepResult,
        ResolutionWorkflowInput,
        ScheduledInput,
    )
    from tests.support.polling import eventually
    from workflows.resolution import CouncilResolutionWorkflow

BERLIN = ZoneInfo("Europe/Berlin")


@workflow.defn(name="FakeProcessForResolution")
class FakeProcess:
    """Stands in for ProcessWorkflow: waits for the council's decision."""

    def __init__(self) -> None:
        self.decided: CouncilDecided | None = None

    @workflow.signal(name="council_decided")
    def council_decided(self, data: CouncilDecided) -> None:
        self.decided = data

    @workflow.run
    async def run(self) -> CouncilDecided:
        await workflow.wait_condition(lambda: self.decided is not None)
        assert self.decided is not None
        return self.decided


class FakeStore:
    def __init__(self) -> None:
        self.steps: list[ResolutionStep] = []
        self.notices: list[NotifyInput] = []

    def activities(self) -> list:  # type: ignore[type-arg]
        @activity.defn(name="apply_resolution_step")
        async def apply_resolution_step(step: ResolutionStep) -> ResolutionStepResult:
            self.steps.append(step)
            return ResolutionStepResult(status=step.status)

        @activity.defn(name="notify_process")
        async def notify_process(data: NotifyInput) -> int:
            self.notices.append(data)
            return 1

        return [apply_resolution_step, notify_process]


def _local(moment: datetime) -> datetime:
    return moment.astimezone(BERLIN)


async def test_reminders_refusal_and_adoption(time_skipping_env) -> None:  # type: ignore[no-untyped-def]
    env = time_skipping_env
    store = FakeStore()
    queue = f"res-{uuid.uuid4().hex[:8]}"
    rid = uuid.uuid4()
    async with Worker(env.client, task_queue=queue,
                      workflows=[CouncilResolutionWorkflow, FakeProcess],
                      activities=store.activities()):
        parent = await env.client.start_workflow(FakeProcess.run, id=f"process-{uuid.uuid4()}",
                                                 task_queue=queue)
        submitted_at = await env.get_current_time()
        handle = await env.client.start_workflow(
            CouncilResolutionWorkflow.run,
            ResolutionWorkflowInput(resolution_id=rid, process_id=uuid.uuid4(),
                                    organisation_id=uuid.uuid4(), process_workflow_id=parent.id,
                                    number=1, title="Strategie", phase_key="beschluss",
                                    phase_title="Beschluss", ack_reminder_days=5,
                                    submitted_by="k@example.org"),
            id=f"resolution-{rid}", task_queue=queue)

        await eventually(lambda: store.notices, what="the submission mail")
        # Scheduling before the receipt is confirmed: refused, and nothing is written.
        try:
            await handle.execute_update(CouncilResolutionWorkflow.scheduled, ScheduledInput(
                body="Stadtverordnetenversammlung", meeting_date=date(2030, 1, 1)))
            raise AssertionError("scheduled before received was accepted")
        except WorkflowUpdateFailedError as exc:
            assert isinstance(exc.cause, ApplicationError) and exc.cause.type == NOT_RECEIVED
        assert [s.kind for s in store.steps] == ["submitted"]

        await env.sleep(timedelta(days=5, hours=1))  # no acknowledgement for five days
        await handle.execute_update(CouncilResolutionWorkflow.received,
                                    ReceivedInput(actor="clerk@example.org"))
        meeting = _local(await env.get_current_time()).date() + timedelta(days=7)
        await handle.execute_update(CouncilResolutionWorkflow.scheduled, ScheduledInput(
            body="Stadtverordnetenversammlung", meeting_date=meeting, actor="clerk@example.org"))
        now = await env.get_current_time()
        await env.sleep(datetime.combine(meeting + timedelta(days=2), datetime.min.time(),
                                         tzinfo=BERLIN) - now)
        await handle.execute_update(CouncilResolutionWorkflow.outcome, OutcomeInput(
            outcome="adopted", decided_on=meeting + timedelta(days=1),
            actor="clerk@example.org"))
        state = await handle.result()
        decided = await parent.result()

    assert [n.kind for n in store.notices] == [
        "resolution_submitted", "resolution_ack_reminder", "resolution_outcome_reminder"]
    ack, outcome_reminder = store.notices[1], store.notices[2]
    assert abs(ack.scheduled_for - (submitted_at + timedelta(days=5))) < timedelta(seconds=5)
    assert _local(outcome_reminder.scheduled_for) == datetime.combine(
        meeting + timedelta(days=1), datetime.min.time().replace(hour=9), tzinfo=BERLIN)
    assert {n.recipient_role for n in store.notices} == {"clerk"}
    assert [s.kind for s in store.steps] == [
        "submitted", "reminder", "received", "scheduled", "reminder", "outcome"]
    assert len({s.key for s in store.steps}) == len(store.steps)  # each written once
    assert state.status == "adopted" and state.outcome == "adopted"
    assert decided == CouncilDecided(resolution_id=rid, outcome="adopted",
                                     decided_on=meeting + timedelta(days=1),
                                     actor="clerk@example.org")
