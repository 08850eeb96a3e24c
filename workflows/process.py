"""ProcessWorkflow: one participation process, phase by phase, as its template snapshot says.

Control flow only: every change is written to PostgreSQL by an idempotent local activity
(`persist_process_state`, keyed by the transition counter) before the caller gets an answer,
so what people read in lists and the timeline is the state the workflow acted on. The rules
(may this phase close, be skipped, ...) are contracts.process_rules'; activities are called
through the typed stubs of contracts.stubs.

Concurrency rule. Every step that changes the state (each update handler, the approval signal,
a timer firing) runs inside `async with self._one_step():` (the workflow's lock) from its
check until its write is answered, and checks its rule again inside (validators run before
any handler, against a state that may have changed). So no step sees, or writes to
PostgreSQL, another step's change that may still be refused and rolled back. Runs started
before SERIAL_STEPS_PATCH keep their old interleaving. Proved by
tests/workflows/test_process_boundary.py::
test_a_second_update_waits_for_the_first_and_a_refused_change_stays_out. A new handler that
changes the state takes `self._one_step()` the same way.

History size. Update results are small (StepResult, AdvanceResult); the state travels only
into the local activity (whose input is not stored in the history) and over continue-as-new.
The run continues as new after MAX_HISTORY_EVENTS events or MAX_HISTORY_BYTES bytes, whichever
comes first, or when the server suggests it.

Changing this code. Running processes replay their history on the new code, so a change to
the sequence of commands (timers, activities, child workflows, continue-as-new) goes behind
`workflow.patched("<id>")`, then `workflow.deprecate_patch("<id>")` once no run from before
remains, then the old branch is removed: docs/changing-workflows.md, with BOUNDED_HISTORY_PATCH
below as the worked example and tests/replay/ proving old and new histories replay.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import date, datetime, time, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ParentClosePolicy

from workflows.approval import DB_RETRY, MAIL_RETRY, ApprovalWorkflow

with workflow.unsafe.imports_passed_through():
    from contracts import process_rules as rules
    from contracts import stubs
    from contracts.ids import approval_workflow_id
    from contracts.process import (
        INVALID_DATA,
        AdvanceInput,
        AdvanceResult,
        ApprovalDecided,
        ApprovalInput,
        ChecklistInput,
        NotifyInput,
        OpenApprovalInput,
        PersistProcessInput,
        PhaseState,
        ProcessState,
        ProcessWorkflowInput,
        RescheduleInput,
        SkipInput,
        StepResult,
        TransitionRecord,
        local_datetime,
    )
    from contracts.process_rules import RuleViolation
    from contracts.resolution import CouncilDecided
    from workflows.registry import WORKFLOWS

# Reminders go out at this local time, so nobody gets a mail at midnight.
REMINDER_TIME = time(9, 0)
STEERING_ACTOR = "Steuerungsgruppe"
COUNCIL_ACTOR = "Sitzungsdienst"
SCHEDULE_ACTOR = "Zeitplan"


# The history bound this code chooses (the server suggests continuing as new only at 4 MB and
# fails a workflow at 50 MB): a process continues as new, carrying only its ProcessState (a
# few KB), well before either, at a size the replay of one run keeps cheap.
MAX_HISTORY_EVENTS = 5_000
MAX_HISTORY_BYTES = 1_000_000
# workflow.patched() id of that bound: runs recorded before it continue as new only when the
# server suggests it (docs/changing-workflows.md, the worked example).
BOUNDED_HISTORY_PATCH = "bounded-history"
# workflow.patched() id of the concurrency rule's lock: a run recorded before it may hold two
# steps' writes scheduled in one workflow task, which the lock would now order one by one.
SERIAL_STEPS_PATCH = "serialized-steps"


def _error(code: str, message: str, **details: object) -> ApplicationError:
    return ApplicationError(message, details or {}, type=code, non_retryable=True)


def _refused(exc: RuleViolation) -> ApplicationError:
    """A rule of contracts.process_rules refused the step: the caller gets its code."""
    return _error(exc.code, exc.message, **exc.details)


def check_text(field: str, *values: str | None) -> None:
    """Refuse text the database cannot store (or nobody means), before the state takes it."""
    try:
        rules.check_text(field, *values)
    except RuleViolation as exc:
        raise _refused(exc) from None


@workflow.defn(name="ProcessWorkflow")
class ProcessWorkflow:
    @workflow.init
    def __init__(self, input: ProcessWorkflowInput) -> None:
        self.s = input.state
        self.continue_as_new_after = input.continue_as_new_after_events
        # Set by every handler so the timer loop recomputes its next deadline.
        self._wake = False
        # The state last written to PostgreSQL: what the workflow falls back to when a write
        # is refused for good, so it never acts on a state the database does not hold.
        self._persisted = self.s.model_copy(deep=True)
        # The first phase opens here, not in run(): an update delivered in the very first
        # activation must already find a current phase.
        self._record_start = not self.s.started
        # Set in run(): whether this run bounds its history itself (BOUNDED_HISTORY_PATCH).
        self._bounded = False
        # Held by every step that changes the state, from its check until its write is
        # answered (the concurrency rule in the module docstring).
        self._lock = asyncio.Lock()
        self._serial = False  # set in run(): SERIAL_STEPS_PATCH
        if not self.s.started:
            self.s.started = True
            self._activate(self.s.phases[0])

    # --- run loop -------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: ProcessWorkflowInput) -> ProcessState:
        # Asked once, first thing, so the marker sits at the same place in every new run.
        self._bounded = workflow.patched(BOUNDED_HISTORY_PATCH)
        self._serial = workflow.patched(SERIAL_STEPS_PATCH)
        if self._record_start:
            first = self.s.phases[0]
            await self._record("started", phase_key=first.key, to_phase=first.key,
                               touched=[first.key])
        while self.s.status == "running":
            if self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(ProcessWorkflowInput(
                    state=self.s, continue_as_new_after_events=self.continue_as_new_after))
            due = self._next_due()
            self._wake = False
            if due is None:
                await workflow.wait_condition(
                    lambda: self._wake or self.s.status != "running"
                    or self._should_continue_as_new())
                continue
            at, key, action = due
            delay = (at - workflow.now()).total_seconds()
            if delay > 0:
                try:
                    await workflow.wait_condition(
                        lambda: self._wake or self.s.status != "running"
                        or self._should_continue_as_new(),
                        timeout=timedelta(seconds=delay))
                    continue
                except TimeoutError:
                    pass
            async with self._one_step():
                await self._fire(at, key, action)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.s

    def _one_step(self) -> AbstractAsyncContextManager[object]:
        """The concurrency rule's lock (for runs recorded after SERIAL_STEPS_PATCH)."""
        return self._lock if self._serial else nullcontext()

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        if info.is_continue_as_new_suggested():
            return True
        limit = self.continue_as_new_after
        if not self._bounded:
            # Runs recorded before the bound: exactly the old decision, so they replay.
            return limit is not None and info.get_current_history_length() > limit
        events = limit if limit is not None else MAX_HISTORY_EVENTS
        return (info.get_current_history_length() > events
                or info.get_current_history_size() > MAX_HISTORY_BYTES)

    # --- queries ---------------------------------------------------------------------------

    @workflow.query
    def state(self) -> ProcessState:
        return self.s

    # --- advance ---------------------------------------------------------------------------

    @workflow.update
    async def advance(self, input: AdvanceInput) -> AdvanceResult:
        async with self._one_step():
            # Checked again here: two updates in one activation both pass their validators
            # before either handler runs, and only the first may move the phase.
            self._check_advance(input)
            cur = self._current()
            if input.override_reason:
                cur.override_reason = input.override_reason
            return await self._advance(cur, input.actor)

    @advance.validator
    def _validate_advance(self, input: AdvanceInput) -> None:
        self._check_advance(input)

    def _check_advance(self, input: AdvanceInput) -> None:
        try:
            rules.check_advance(self.s, input.expected_current, input.override_reason,
                                input.actor)
        except RuleViolation as exc:
            raise _refused(exc) from None

    async def _advance(self, cur: PhaseState, actor: str | None) -> AdvanceResult:
        if cur.gate is not None and cur.approval_status != "approved":
            return await self._request_approval(cur, actor)
        return await self._close_current("completed", actor)

    async def _request_approval(self, cur: PhaseState, actor: str | None) -> AdvanceResult:
        assert cur.gate is not None
        approval_id = workflow.uuid4()
        cur.status = "awaiting_approval"
        cur.approval_id = approval_id
        cur.approval_status = "pending"
        cur.approval_reasons = []
        self._wake = True
        await self._record("approval_requested", phase_key=cur.key, actor=actor,
                           reason=cur.override_reason, touched=[cur.key],
                           data={"approval_id": str(approval_id), "rule": cur.gate.rule})
        deadline = workflow.now() + timedelta(days=cur.gate.deadline_days)
        approval = ApprovalInput(
            approval_id=approval_id, process_id=self.s.process_id,
            organisation_id=self.s.organisation_id,
            process_workflow_id=workflow.info().workflow_id, phase_key=cur.key,
            title=cur.gate.title or f"Freigabe: {cur.title}", rule=cur.gate.rule,
            quorum=cur.gate.quorum, deadline_days=cur.gate.deadline_days, requested_by=actor,
            deadline=deadline)
        # The approval row (with its voters) exists before the caller gets the approval id,
        # so a steering member can open and decide it right away.
        opened = await workflow.execute_local_activity(
            stubs.open_approval, OpenApprovalInput(approval=approval, deadline=deadline),
            start_to_close_timeout=timedelta(seconds=30), retry_policy=DB_RETRY)
        approval.voters = opened.voters
        await workflow.start_child_workflow(
            ApprovalWorkflow.run, approval,
            id=approval_workflow_id(approval_id),
            # The child reports back by signal to the process's workflow id, so it survives
            # this run continuing as new.
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        return AdvanceResult(status="awaiting_approval", current_phase=cur.key,
                             approval_id=approval_id)

    async def _close_current(self, how: str, actor: str | None,
                             reason: str | None = None) -> AdvanceResult:
        cur = self._current()
        cur.status = "skipped" if how == "skipped" else "completed"
        cur.actual_end = workflow.now()
        if how == "skipped":
            cur.skip_reason = reason
        nxt = rules.next_pending(self.s, cur)
        if nxt is not None:
            self._activate(nxt)
        else:
            self.s.current_phase = None
            self.s.status = "completed"
        self._wake = True
        await self._record("skipped" if how == "skipped" else "advanced", phase_key=cur.key,
                           from_phase=cur.key, to_phase=nxt.key if nxt else None, actor=actor,
                           reason=reason if how == "skipped" else cur.override_reason,
                           touched=[cur.key] + ([nxt.key] if nxt else []))
        if nxt is None:
            await self._record("completed", actor=actor, touched=[])
            return AdvanceResult(status="completed", current_phase=None)
        return AdvanceResult(status="advanced", current_phase=nxt.key)

    # --- skip, reschedule, checklist -------------------------------------------------------

    @workflow.update
    async def skip(self, input: SkipInput) -> StepResult:
        async with self._one_step():
            self._check_skip(input)
            phase = self._phase(input.phase_key)
            if phase.key == self.s.current_phase:
                await self._close_current("skipped", input.actor, input.reason.strip())
            else:
                phase.status = "skipped"
                phase.skip_reason = input.reason.strip()
                await self._record("skipped", phase_key=phase.key, actor=input.actor,
                                   reason=phase.skip_reason, touched=[phase.key])
            return self._step_result()

    @skip.validator
    def _validate_skip(self, input: SkipInput) -> None:
        self._check_skip(input)

    def _check_skip(self, input: SkipInput) -> None:
        try:
            rules.check_skip(self.s, input.phase_key, input.reason, input.actor)
        except RuleViolation as exc:
            raise _refused(exc) from None

    @workflow.update
    async def reschedule(self, input: RescheduleInput) -> StepResult:
        async with self._one_step():
            self._check_reschedule(input)
            phase = self._phase(input.phase_key)
            old = (phase.planned_start, phase.planned_end)
            phase.planned_start, phase.planned_end = input.planned_start, input.planned_end
            self._wake = True
            await self._record("rescheduled", phase_key=phase.key, actor=input.actor,
                               touched=[phase.key], data={
                "old_start": old[0].isoformat(), "old_end": old[1].isoformat(),
                "planned_start": input.planned_start.isoformat(),
                "planned_end": input.planned_end.isoformat()})
            return self._step_result()

    @reschedule.validator
    def _validate_reschedule(self, input: RescheduleInput) -> None:
        self._check_reschedule(input)

    def _check_reschedule(self, input: RescheduleInput) -> None:
        try:
            rules.check_reschedule(self.s, input.phase_key, input.planned_start,
                                   input.planned_end)
        except RuleViolation as exc:
            raise _refused(exc) from None

    @workflow.update
    async def set_checklist_item(self, input: ChecklistInput) -> StepResult:
        async with self._one_step():
            self._check_checklist(input)
            phase = self._phase(input.phase_key)
            item = next(i for i in phase.checklist if i.key == input.item_key)
            if item.done == input.done:
                return self._step_result()  # already so: nothing to record
            item.done = input.done
            item.done_by = input.actor if input.done else None
            item.done_at = workflow.now() if input.done else None
            await self._record("checklist", phase_key=phase.key, actor=input.actor,
                               touched=[phase.key],
                               data={"item": item.key, "title": item.title, "done": item.done})
            return self._step_result()

    @set_checklist_item.validator
    def _validate_checklist(self, input: ChecklistInput) -> None:
        self._check_checklist(input)

    def _check_checklist(self, input: ChecklistInput) -> None:
        try:
            rules.check_checklist(self.s, input.phase_key, input.item_key, input.actor)
        except RuleViolation as exc:
            raise _refused(exc) from None

    def _step_result(self) -> StepResult:
        return StepResult(status=self.s.status, current_phase=self.s.current_phase,
                          seq=self.s.seq)

    # --- approvals -------------------------------------------------------------------------

    # The name is the one contracts.stubs.ProcessSignals gives the child to signal.
    @workflow.signal(name="approval_decided")
    async def approval_decided(self, input: ApprovalDecided) -> None:
        async with self._one_step():
            phase = next((p for p in self.s.phases if p.approval_id == input.approval_id), None)
            if phase is None or phase.approval_status != "pending":
                return  # a stale or repeated signal
            phase.approval_status = input.status
            phase.approval_reasons = input.reasons
            self._wake = True
            if input.status == "rejected":
                # The phase stays open; the coordinator may ask again after changes.
                phase.status = "active"
            await self._record("approval_decided", phase_key=phase.key, actor=STEERING_ACTOR,
                               reason="; ".join(input.reasons) or None, touched=[phase.key],
                               data={"approval_id": str(input.approval_id), "status": input.status})
            if input.status == "approved" and phase.key == self.s.current_phase:
                await self._close_current("completed", STEERING_ACTOR)

    # --- the council's decision --------------------------------------------------------------

    @workflow.signal
    async def council_decided(self, input: CouncilDecided) -> None:
        """From a CouncilResolutionWorkflow: the council adopted the draft (as submitted or
        amended), which completes the process from its last phase.

        A new handler: histories recorded before it never carry this signal, so they replay
        unchanged and no `workflow.patched()` guard is needed (tests/replay). It changes the
        state, so it takes the step lock like every other handler (module docstring)."""
        async with self._one_step():
            if self.s.status != "running" or self.s.current_phase is None:
                return  # repeated signal, or the process was closed otherwise
            cur = self._current()
            if rules.next_pending(self.s, cur) is not None:
                # Only the last phase ends in the council's decision; an earlier current
                # phase means the process was moved back or skipped around: nothing to do.
                return
            cur.override_reason = cur.override_reason or (
                f"Beschluss des Rates vom {input.decided_on.strftime('%d.%m.%Y')}")
            actor = input.actor or COUNCIL_ACTOR
            await self._record("council_decided", phase_key=cur.key, actor=actor,
                               touched=[cur.key],
                               data={"resolution_id": str(input.resolution_id),
                                     "outcome": input.outcome,
                                     "decided_on": input.decided_on.isoformat()})
            await self._close_current("completed", actor)

    # --- timers ----------------------------------------------------------------------------

    def _local(self, day: date, at: time) -> datetime:
        return local_datetime(day, at, self.s.time_zone)

    def _next_due(self) -> tuple[datetime, str, str] | None:
        cur = self._current_or_none()
        if cur is None:
            return None
        start = cur.actual_start or workflow.now()
        end = cur.planned_end
        candidates: list[tuple[datetime, str, str]] = []
        for days in cur.reminders.before_end_days:
            at = self._local(end - timedelta(days=days), REMINDER_TIME)
            candidates.append((at, f"reminder:{cur.key}:{end.isoformat()}:{days}", "reminder"))
        for days in cur.reminders.overdue_after_days:
            at = self._local(end + timedelta(days=days), REMINDER_TIME)
            candidates.append((at, f"overdue:{cur.key}:{end.isoformat()}:{days}", "overdue"))
        if cur.auto_advance and cur.status == "active":
            at = self._local(end + timedelta(days=1), time(0, 0))
            candidates.append((at, f"auto:{cur.key}:{end.isoformat()}", "auto_advance"))
        # Moments before the phase began are not owed: a phase started late does not get a
        # burst of old reminders, nor advance the moment it opens.
        pending = [c for c in candidates if c[0] >= start and c[1] not in self.s.sent_notices]
        return min(pending, default=None)

    async def _fire(self, at: datetime, key: str, action: str) -> None:
        cur = self._current()
        self.s.sent_notices.append(key)
        if action == "auto_advance":
            if cur.approval_status == "pending" or cur.status != "active":
                return
            if rules.open_items(cur) and not cur.override_reason:
                cur.override_reason = "Automatischer Phasenwechsel zum geplanten Ende"
            await self._advance(cur, SCHEDULE_ACTOR)
            return
        await self._record(action, phase_key=cur.key, actor=SCHEDULE_ACTOR, touched=[],
                           data={"planned_end": cur.planned_end.isoformat()})
        await workflow.execute_activity(
            stubs.notify_process,
            NotifyInput(process_id=self.s.process_id, organisation_id=self.s.organisation_id,
                        idempotency_key=f"{self.s.process_id}:{key}",
                        kind="reminder" if action == "reminder" else "overdue",
                        phase_key=cur.key, phase_title=cur.title, planned_end=cur.planned_end,
                        scheduled_for=at),
            start_to_close_timeout=timedelta(minutes=2), retry_policy=MAIL_RETRY)

    # --- helpers ---------------------------------------------------------------------------

    def _activate(self, phase: PhaseState) -> None:
        phase.status = "active"
        phase.actual_start = workflow.now()
        self.s.current_phase = phase.key

    def _phase(self, key: str) -> PhaseState:
        try:
            return rules.phase(self.s, key)
        except RuleViolation as exc:
            raise _refused(exc) from None

    def _current_or_none(self) -> PhaseState | None:
        if self.s.current_phase is None:
            return None
        return self._phase(self.s.current_phase)

    def _current(self) -> PhaseState:
        try:
            return rules.current(self.s)
        except RuleViolation as exc:
            raise _refused(exc) from None

    async def _record(self, kind: str, *, phase_key: str | None = None,
                      from_phase: str | None = None, to_phase: str | None = None,
                      actor: str | None = None, reason: str | None = None,
                      data: dict[str, str | int | bool | None | list[str]] | None = None,
                      touched: list[str] | None = None) -> None:
        self.s.seq += 1
        record = TransitionRecord(key=f"t:{self.s.seq}", kind=kind, phase_key=phase_key,
                                  from_phase=from_phase, to_phase=to_phase, actor=actor,
                                  reason=reason, data=data or {}, occurred_at=workflow.now())
        # A copy: handlers may change the state again before the activity input is encoded.
        snapshot = self.s.model_copy(deep=True)
        try:
            await workflow.execute_local_activity(
                stubs.persist_process_state,
                PersistProcessInput(state=snapshot, transition=record, touched=touched),
                start_to_close_timeout=timedelta(seconds=30), retry_policy=DB_RETRY)
        except (ActivityError, ApplicationError) as exc:
            # Only a refused write fails (connection errors retry; a local activity's failure
            # arrives as its ApplicationError): forget the change, so the state stays what
            # PostgreSQL holds and the caller gets the error.
            self.s = self._persisted.model_copy(deep=True)
            self._wake = True
            raise _error(INVALID_DATA, "Die Änderung konnte nicht gespeichert werden.") from exc
        self._persisted = snapshot


# The sandbox re-imports this module per run; register only from the real import.
if not workflow.unsafe.in_sandbox():
    WORKFLOWS.append(ProcessWorkflow)
