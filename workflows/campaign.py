"""InvitationCampaignWorkflow: one per campaign (id `campaign-{id}`).

select the audience → send invitations in batches → remind non-respondents at the configured
offsets → close at the deadline.

The history stays small for any audience: recipients never pass through it. An activity
creates the invitations in the database and deals them into numbered batches; the workflow
only counts batch numbers (one activity per batch of ~250 mails, a few running at once), and
continues as new when Temporal suggests it, carrying a small state.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from contracts import stubs
    from contracts.campaign import (
        CampaignInput,
        CampaignProgress,
        CampaignState,
        CloseCampaignIn,
        PlanRemindersIn,
        PlanRemindersOut,
        SelectAudienceIn,
        SelectAudienceOut,
        SendBatchIn,
        SendBatchOut,
        parse_offset,
    )
    from workflows.registry import WORKFLOWS

DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1),
                       non_retryable_error_types=["campaign_not_found"])
# A batch whose SMTP server is down keeps being retried (with backoff up to 5 minutes):
# the ledger makes each retry send only what is still missing.
MAIL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), backoff_coefficient=2.0,
                         maximum_interval=timedelta(minutes=5),
                         non_retryable_error_types=["campaign_not_found"])


@workflow.defn(name="InvitationCampaignWorkflow")
class InvitationCampaignWorkflow:
    def __init__(self) -> None:
        self.state = CampaignState()

    @workflow.query
    def progress(self) -> CampaignProgress:
        s = self.state
        return CampaignProgress(stage=s.stage, total=s.total, batches=s.batches,
                                next_batch=s.next_batch, sent=s.sent, failed=s.failed,
                                reminded=s.reminded, reminders_done=s.reminders_done)

    @workflow.run
    async def run(self, inp: CampaignInput) -> CampaignProgress:
        self.state = inp.state or CampaignState()
        s = self.state
        if s.started_at is None:
            s.started_at = workflow.now()

        if s.stage == "select":
            selected: SelectAudienceOut = await workflow.execute_activity(
                stubs.select_audience,
                SelectAudienceIn(campaign_id=inp.campaign_id, batch_size=inp.batch_size,
                                 started_at=s.started_at),
                start_to_close_timeout=timedelta(minutes=10), retry_policy=DB_RETRY)
            s.total, s.batches, s.stage, s.next_batch = (
                selected.total, selected.batches, "invite", 0)

        if s.stage == "invite":
            await self._send(inp, "invitation", 0, list(range(s.batches)))
            s.stage, s.next_batch = "remind", 0

        offsets = [parse_offset(r) for r in inp.reminders]
        while s.stage == "remind" and s.reminders_done < len(offsets):
            number = s.reminders_done + 1
            due = s.started_at + offsets[number - 1]
            if due >= inp.deadline:
                break  # reminders stop at the deadline
            if s.reminder_plan is None:
                wait = (due - workflow.now()).total_seconds()
                if wait > 0:
                    await workflow.sleep(wait)
                plan: PlanRemindersOut = await workflow.execute_activity(
                    stubs.plan_reminders,
                    PlanRemindersIn(campaign_id=inp.campaign_id, reminder_no=number),
                    start_to_close_timeout=timedelta(minutes=5), retry_policy=DB_RETRY)
                s.reminder_plan, s.next_batch = plan.batch_nos, 0
            await self._send(inp, "reminder", number, s.reminder_plan)
            s.reminders_done, s.reminder_plan, s.next_batch = number, None, 0

        s.stage = "wait"
        wait = (inp.deadline - workflow.now()).total_seconds()
        if wait > 0:
            await workflow.sleep(wait)
        await workflow.execute_activity(
            stubs.close_campaign,
            CloseCampaignIn(campaign_id=inp.campaign_id, closed_at=workflow.now(),
                            reminders_done=s.reminders_done),
            start_to_close_timeout=timedelta(minutes=2), retry_policy=DB_RETRY)
        s.stage = "closed"
        return self.progress()

    async def _send(self, inp: CampaignInput, kind: str, reminder_no: int,
                    batch_nos: list[int]) -> None:
        """Send the given batches, resuming at `state.next_batch`.

        A sliding window: as soon as one batch finishes the next starts, so the mail queue
        never idles while the workflow waits for the slowest batch of a group.
        """
        s = self.state
        parallel = max(1, inp.parallel_batches)
        rate = inp.rate_per_second / parallel if inp.rate_per_second > 0 else 0.0
        planned_at = workflow.now()
        running: dict[asyncio.Task[SendBatchOut], int] = {}
        dispatched = s.next_batch
        while dispatched < len(batch_nos) or running:
            while dispatched < len(batch_nos) and len(running) < parallel:
                task = asyncio.ensure_future(workflow.execute_activity(
                    stubs.send_batch,
                    SendBatchIn(campaign_id=inp.campaign_id, kind=kind, reminder_no=reminder_no,
                                batch_no=batch_nos[dispatched], planned_at=planned_at,
                                rate_per_second=rate),
                    task_queue=inp.mail_task_queue,
                    start_to_close_timeout=timedelta(minutes=15),
                    heartbeat_timeout=timedelta(seconds=10), retry_policy=MAIL_RETRY))
                running[task] = dispatched
                dispatched += 1
            finished, _ = await workflow.wait(list(running), return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                running.pop(task)
                self._count(kind, task.result())
            # Resume point for continue-as-new: everything before it has finished.
            if not running:
                s.next_batch = dispatched
            if dispatched < len(batch_nos) and self._history_is_long(inp.history_limit):
                # Drain the window, then continue as new with a small state.
                if running:
                    await workflow.wait(list(running))
                    for task in list(running):
                        running.pop(task)
                        self._count(kind, task.result())
                s.next_batch = dispatched
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(inp.model_copy(update={"state": s}))
        s.next_batch = len(batch_nos)

    def _count(self, kind: str, result: SendBatchOut) -> None:
        if kind == "invitation":
            self.state.sent += result.sent
            self.state.failed += result.failed
        else:
            self.state.reminded += result.sent

    @staticmethod
    def _history_is_long(limit: int) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > limit


# The sandbox re-imports this module per run; register only from the real import.
if not workflow.unsafe.in_sandbox():
    WORKFLOWS.append(InvitationCampaignWorkflow)
