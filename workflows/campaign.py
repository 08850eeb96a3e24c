"""InvitationCampaignWorkflow: one per campaign (id `campaign-{id}`).

select the audience → send invitations in batches → remind non-respondents at the configured
offsets → close at the deadline.

The history stays small for any audience: recipients never pass through it. An activity
creates the invitations in the database and deals them into numbered batches; the workflow
only counts batch numbers (one activity per batch of ~250 mails, a few running at once), and
continues as new when Temporal suggests it, carrying a small state.

Coordinators steer a running campaign (patch `campaign-control`, see
docs/changing-workflows.md): the `cancel` signal stops further batches and reminders — the
API has already marked the campaign and its unsent invitations cancelled in PostgreSQL
(services/campaigns/service.py cancel_campaign), so a send step that starts anyway sends
nothing — and the `move_deadline` update moves the deadline (its validator refuses a past
date, or one after the event an event campaign invites to); reminders due after the new
deadline are not sent. The cancel is a signal, not an update: the run ends right after it,
and an update's answer must not race the end of its workflow.
Runs recorded before the patch keep their old, uninterruptible timers.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts import stubs
    from contracts.campaign import (
        CAMPAIGN_NOT_RUNNING,
        DEADLINE_REFUSED,
        CampaignInput,
        CampaignProgress,
        CampaignState,
        CloseCampaignIn,
        MoveDeadlineRequest,
        PlanRemindersIn,
        PlanRemindersOut,
        SelectAudienceIn,
        SelectAudienceOut,
        SendBatchIn,
        SendBatchOut,
        SetDeadlineIn,
        deadline_problem,
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

# Cancel and move the deadline while running (workflow.patched: runs recorded before it keep
# their plain timers and replay unchanged).
CONTROL_PATCH = "campaign-control"


@workflow.defn(name="InvitationCampaignWorkflow")
class InvitationCampaignWorkflow:
    @workflow.init
    def __init__(self, inp: CampaignInput) -> None:
        # From the input at once: an update may arrive before `run` has taken its first step.
        self.inp = inp
        self.state = inp.state or CampaignState()
        if self.state.deadline is None:
            self.state.deadline = inp.deadline
        self._control = False
        self._started = False
        # Set by the updates so an interruptible wait re-plans (workflow-local, not state).
        self._woken = False
        self._closing = False
        self._steering = asyncio.Lock()

    @workflow.query
    def progress(self) -> CampaignProgress:
        s = self.state
        return CampaignProgress(stage=s.stage, total=s.total, batches=s.batches,
                                next_batch=s.next_batch, sent=s.sent, failed=s.failed,
                                reminded=s.reminded, reminders_done=s.reminders_done,
                                deadline=s.deadline)

    # --- steering (patch campaign-control) ---------------------------------------------------

    def _refuse_unless_running(self) -> None:
        if self.state.cancelled or self._closing or self.state.stage in ("closed", "cancelled"):
            raise ApplicationError("Die Kampagne ist bereits beendet.",
                                   type=CAMPAIGN_NOT_RUNNING, non_retryable=True)

    @workflow.signal
    def cancel(self) -> None:
        """Stop sending: no batch starts after this; running batches finish (what they
        handed to the relay is sent once); no reminder, no close at the deadline."""
        self.state.cancelled = True
        self._woken = True

    @workflow.update
    async def move_deadline(self, request: MoveDeadlineRequest) -> CampaignProgress:
        async with self._steering:
            await workflow.execute_activity(
                stubs.set_campaign_deadline,
                SetDeadlineIn(campaign_id=self.inp.campaign_id, deadline=request.deadline,
                              actor=request.actor),
                start_to_close_timeout=timedelta(minutes=2), retry_policy=DB_RETRY)
            self.state.deadline = request.deadline
            self._woken = True
        return self.progress()

    @move_deadline.validator
    def _check_deadline(self, request: MoveDeadlineRequest) -> None:
        self._refuse_unless_running()
        if self._started and not self._control:
            # A run from before the patch sleeps until its original deadline whatever the
            # database says (cancel still works there: its send steps find it cancelled).
            raise ApplicationError(
                "Diese Kampagne wurde vor der Aktualisierung gestartet; ihre Frist lässt sich "
                "nicht verschieben.", type=CAMPAIGN_NOT_RUNNING, non_retryable=True)
        problem = deadline_problem(request.deadline, workflow.now(), self.inp.latest_deadline)
        if problem:
            raise ApplicationError(problem, [{"field": "deadline", "message": problem}],
                                   type=DEADLINE_REFUSED, non_retryable=True)

    async def _wait_until(self, when: datetime) -> bool:
        """Sleep until `when`; False if an update woke the workflow first (re-plan)."""
        wait = (when - workflow.now()).total_seconds()
        if wait <= 0:
            return True
        self._woken = False
        try:
            await workflow.wait_condition(lambda: self._woken, timeout=wait)
        except TimeoutError:
            return True
        return False

    # --- the run ------------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: CampaignInput) -> CampaignProgress:
        self._control = workflow.patched(CONTROL_PATCH)
        self._started = True
        if self._control:
            return await self._run_controlled(inp)
        s = self.state
        if s.started_at is None:
            s.started_at = workflow.now()

        if s.stage == "select":
            await self._select(inp)

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
                s.reminder_plan, s.next_batch = await self._plan_reminder(inp, number), 0
            await self._send(inp, "reminder", number, s.reminder_plan)
            s.reminders_done, s.reminder_plan, s.next_batch = number, None, 0

        s.stage = "wait"
        wait = (inp.deadline - workflow.now()).total_seconds()
        if wait > 0:
            await workflow.sleep(wait)
        await self._close(inp)
        return self.progress()

    async def _run_controlled(self, inp: CampaignInput) -> CampaignProgress:
        """The run with `cancel` and `move_deadline`: every wait can be interrupted, and the
        next step is planned again from the (possibly moved) deadline after each."""
        s = self.state
        if s.started_at is None:
            s.started_at = workflow.now()

        if s.stage == "select" and not s.cancelled:
            await self._select(inp)

        if s.stage == "invite" and not s.cancelled:
            await self._send(inp, "invitation", 0, list(range(s.batches)))
            if not s.cancelled:
                s.stage, s.next_batch = "remind", 0

        offsets = [parse_offset(r) for r in inp.reminders]
        while not s.cancelled:
            await self._remind_until_deadline(inp, offsets)
            if s.cancelled:
                break
            self._closing = True
            await workflow.wait_condition(workflow.all_handlers_finished)
            if (s.deadline or inp.deadline) <= workflow.now():
                break
            # A deadline update accepted just before the old deadline moved it on.
            self._closing = False

        if s.cancelled:
            # The API wrote the cancellation before it signalled; a deadline update still
            # running finishes first.
            await workflow.wait_condition(workflow.all_handlers_finished)
            s.stage = "cancelled"
            return self.progress()
        await self._close(inp)
        return self.progress()

    # The steps both run paths take, as the same activity calls (so either path replays).
    async def _select(self, inp: CampaignInput) -> None:
        s = self.state
        selected: SelectAudienceOut = await workflow.execute_activity(
            stubs.select_audience,
            SelectAudienceIn(campaign_id=inp.campaign_id, batch_size=inp.batch_size,
                             started_at=s.started_at),
            start_to_close_timeout=timedelta(minutes=10), retry_policy=DB_RETRY)
        s.total, s.batches, s.stage, s.next_batch = (
            selected.total, selected.batches, "invite", 0)

    async def _plan_reminder(self, inp: CampaignInput, number: int) -> list[int]:
        plan: PlanRemindersOut = await workflow.execute_activity(
            stubs.plan_reminders,
            PlanRemindersIn(campaign_id=inp.campaign_id, reminder_no=number),
            start_to_close_timeout=timedelta(minutes=5), retry_policy=DB_RETRY)
        return plan.batch_nos

    async def _close(self, inp: CampaignInput) -> None:
        s = self.state
        await workflow.execute_activity(
            stubs.close_campaign,
            CloseCampaignIn(campaign_id=inp.campaign_id, closed_at=workflow.now(),
                            reminders_done=s.reminders_done),
            start_to_close_timeout=timedelta(minutes=2), retry_policy=DB_RETRY)
        s.stage = "closed"

    async def _remind_until_deadline(self, inp: CampaignInput, offsets: list[timedelta]) -> None:
        """Send the reminders due before the (current) deadline, then wait for it; returns at
        the deadline or on a cancel."""
        s = self.state
        assert s.started_at is not None
        while not s.cancelled:
            deadline = s.deadline or inp.deadline
            number = s.reminders_done + 1
            due = s.started_at + offsets[number - 1] if number <= len(offsets) else None
            if due is not None and (due < deadline or s.reminder_plan is not None):
                # A reminder is due before the deadline (or already being sent).
                s.stage = "remind"
                if s.reminder_plan is None:
                    if not await self._wait_until(due) or due >= (s.deadline or deadline):
                        continue  # cancelled or the deadline moved: plan again
                    s.reminder_plan, s.next_batch = await self._plan_reminder(inp, number), 0
                await self._send(inp, "reminder", number, s.reminder_plan)
                if s.cancelled:
                    return
                s.reminders_done, s.reminder_plan, s.next_batch = number, None, 0
                continue
            s.stage = "wait"  # reminders stop at the deadline
            if await self._wait_until(deadline):
                return

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
            if self._control and s.cancelled and not running:
                return  # cancelled: the batches not yet started stay unsent
            while (dispatched < len(batch_nos) and len(running) < parallel
                   and not (self._control and s.cancelled)):
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
