"""InvitationCampaignWorkflow's own logic on the time-skipping server, its activities mocked by
name (no database, no SMTP): every batch once on the mail queue (a temporary failure retried,
counted once), reminders at their offsets from the start with the batches the plan names, none
at or after the deadline, and the close at the deadline. The real activities are tested in
tests/activities, the whole chain in tests/workflows/test_campaign_workflow.py."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from contracts.campaign import (
    CampaignInput,
    CampaignProgress,
    CloseCampaignIn,
    PlanRemindersIn,
    PlanRemindersOut,
    SelectAudienceIn,
    SelectAudienceOut,
    SendBatchIn,
    SendBatchOut,
)
from workflows.campaign import InvitationCampaignWorkflow


class FakeCampaign:
    """7 people in 3 batches; each reminder goes to the batches 0 and 2 (1 responded)."""

    def __init__(self) -> None:
        self.selected = 0
        self.sends: list[tuple[str, int, int, datetime, str]] = []
        self.failed_once = False
        self.plans: list[tuple[int, datetime]] = []
        self.closed: list[datetime] = []

    def main(self) -> list:  # type: ignore[type-arg]
        @activity.defn(name="campaign_select_audience")
        async def select_audience(inp: SelectAudienceIn) -> SelectAudienceOut:
            self.selected += 1
            assert inp.batch_size == 3
            return SelectAudienceOut(total=7, batches=3)

        @activity.defn(name="campaign_plan_reminders")
        async def plan_reminders(inp: PlanRemindersIn) -> PlanRemindersOut:
            self.plans.append((inp.reminder_no, activity.info().current_attempt_scheduled_time))
            return PlanRemindersOut(batch_nos=[0, 2], recipients=5)

        @activity.defn(name="campaign_close")
        async def close_campaign(inp: CloseCampaignIn) -> None:
            self.closed.append(inp.closed_at)

        return [select_audience, plan_reminders, close_campaign]

    def mail(self) -> list:  # type: ignore[type-arg]
        @activity.defn(name="campaign_send_batch")
        async def send_batch(inp: SendBatchIn) -> SendBatchOut:
            if inp.kind == "invitation" and inp.batch_no == 1 and not self.failed_once:
                self.failed_once = True
                raise ApplicationError("relay busy", type="smtp_temporary")
            self.sends.append((inp.kind, inp.reminder_no, inp.batch_no, inp.planned_at,
                               activity.info().task_queue))
            size = 1 if inp.batch_no == 2 else 3
            return SendBatchOut(sent=size)

        return [send_batch]


async def test_batches_reminders_and_close_at_the_deadline(time_skipping_env) -> None:  # type: ignore[no-untyped-def]
    env = time_skipping_env
    fake = FakeCampaign()
    queue = f"camp-{uuid.uuid4().hex[:8]}"
    mail_queue = queue + "-mail"
    start = await env.get_current_time()
    deadline = start + timedelta(days=21)
    async with Worker(env.client, task_queue=queue, workflows=[InvitationCampaignWorkflow],
                      activities=fake.main()), \
            Worker(env.client, task_queue=mail_queue, activities=fake.mail()):
        result: CampaignProgress = await env.client.execute_workflow(
            InvitationCampaignWorkflow.run,
            CampaignInput(campaign_id=uuid.uuid4(), organisation_id=uuid.uuid4(),
                          deadline=deadline, reminders=["P7D", "P14D", "P21D", "P30D"],
                          batch_size=3, mail_task_queue=mail_queue),
            id=f"campaign-{uuid.uuid4()}", task_queue=queue)

    assert fake.selected == 1
    invitations = sorted(s[2] for s in fake.sends if s[0] == "invitation")
    assert invitations == [0, 1, 2]  # batch 1 failed once and was retried, sent once
    assert {s[4] for s in fake.sends} == {mail_queue}
    # The reminders on their days from the start, to the planned batches; P21D is the
    # deadline itself and P30D after it: neither is sent.
    assert [n for n, _ in fake.plans] == [1, 2]
    for number, planned in fake.plans:
        assert abs(planned - (start + timedelta(days=7 * number))) < timedelta(minutes=1)
    assert sorted((s[1], s[2]) for s in fake.sends if s[0] == "reminder") == [
        (1, 0), (1, 2), (2, 0), (2, 2)]
    assert len(fake.closed) == 1 and abs(fake.closed[0] - deadline) < timedelta(minutes=1)
    # The progress names the deadline it closed at (the one the workflow holds, movable).
    assert result.deadline is not None and abs(result.deadline - deadline) < timedelta(minutes=1)
    assert result == CampaignProgress(stage="closed", total=7, batches=3, next_batch=0,
                                      sent=7, failed=0, reminded=8, reminders_done=2,
                                      deadline=result.deadline)
