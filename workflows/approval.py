"""ApprovalWorkflow: the steering group decides a phase gate under a rule, with a deadline.

Started as a child of a ProcessWorkflow (id `approval-{approval_id}`). Each steering member
asked when the gate opened decides once through the `decide` update; when the rule is met (or
can no longer be met) the result is written to PostgreSQL and signalled to the process. At the
deadline the coordinators get an escalation mail; the gate stays open until decided.

Concurrency rule: `decide` holds `self._lock` from its check until its vote's write is
answered, so a vote is counted only with votes that are stored
(tests/workflows/test_process_boundary.py::test_a_vote_is_evaluated_only_with_stored_votes).
The rules themselves are contracts.process_rules'.
"""

from __future__ import annotations

import asyncio
from contextlib import nullcontext
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts import stubs
    from contracts.process import (
        INVALID_DATA,
        ApprovalDecided,
        ApprovalInput,
        ApprovalResult,
        ApprovalState,
        CloseApprovalInput,
        DecideInput,
        DecideResult,
        NotifyInput,
        OpenApprovalInput,
        RecordVoteInput,
        Vote,
    )
    from contracts.process_rules import (
        RuleViolation,
        check_comment,
        check_decision,
        evaluate,
        required_approvals,
    )
    from workflows.registry import WORKFLOWS

# workflow.patched() id of decide's lock (docs/changing-workflows.md): a run recorded before
# it may hold two votes' writes scheduled in one workflow task.
SERIAL_VOTES_PATCH = "serialized-votes"

DB_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200),
                       maximum_interval=timedelta(seconds=30))
MAIL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2),
                         maximum_interval=timedelta(minutes=5))


# Re-exported for callers that knew them here; the rules live in contracts.process_rules.
__all__ = ["ApprovalWorkflow", "evaluate", "required_approvals"]


def _error(code: str, message: str) -> ApplicationError:
    return ApplicationError(message, type=code, non_retryable=True)


def _refused(exc: RuleViolation) -> ApplicationError:
    return ApplicationError(exc.message, exc.details or {}, type=exc.code, non_retryable=True)


@workflow.defn(name="ApprovalWorkflow")
class ApprovalWorkflow:
    @workflow.init
    def __init__(self, input: ApprovalInput) -> None:
        self.input = input
        self.s = ApprovalState(approval_id=input.approval_id, phase_key=input.phase_key,
                               rule=input.rule, quorum=input.quorum)
        self._opened = False
        self._lock = asyncio.Lock()
        # Set in run(): runs recorded before SERIAL_VOTES_PATCH take votes without the lock.
        self._serial = False

    @workflow.run
    async def run(self, input: ApprovalInput) -> ApprovalResult:
        self._serial = workflow.patched(SERIAL_VOTES_PATCH)
        deadline = input.deadline or workflow.now() + timedelta(days=input.deadline_days)
        self.s.deadline = deadline
        if input.voters is None:
            opened = await workflow.execute_local_activity(
                stubs.open_approval, OpenApprovalInput(approval=input, deadline=deadline),
                start_to_close_timeout=timedelta(seconds=30), retry_policy=DB_RETRY)
            self.s.voters = opened.voters
        else:
            self.s.voters = input.voters
        self._opened = True
        if self.s.voters:
            await self._notify("approval_request", f"{input.approval_id}:request",
                               recipients=self.s.voters)
        try:
            await workflow.wait_condition(lambda: self.s.status != "pending",
                                          timeout=deadline - workflow.now())
        except TimeoutError:
            self.s.escalated = True
            await self._notify("escalation", f"{input.approval_id}:escalation")
            await workflow.wait_condition(lambda: self.s.status != "pending")
        await workflow.wait_condition(workflow.all_handlers_finished)
        assert self.s.status != "pending"
        reasons = [f"{v.email}: {v.comment}" if v.comment else v.email
                   for v in self.s.votes if v.decision == "reject"]
        await workflow.execute_local_activity(
            stubs.close_approval,
            CloseApprovalInput(approval_id=input.approval_id, process_id=input.process_id,
                               organisation_id=input.organisation_id, phase_key=input.phase_key,
                               status=self.s.status, reasons=reasons,
                               decided_at=workflow.now(),
                               escalated_at=deadline if self.s.escalated else None),
            start_to_close_timeout=timedelta(seconds=30), retry_policy=DB_RETRY)
        await workflow.get_external_workflow_handle(input.process_workflow_id).signal(
            stubs.ProcessSignals.approval_decided,
            ApprovalDecided(approval_id=input.approval_id, phase_key=input.phase_key,
                            status=self.s.status, reasons=reasons))
        await self._notify("approval_result", f"{input.approval_id}:result",
                           note="freigegeben" if self.s.status == "approved" else "abgelehnt")
        # Small: the parent learnt the result by signal and never reads this.
        return ApprovalResult(approval_id=input.approval_id, status=self.s.status,
                              escalated=self.s.escalated)

    @workflow.query
    def state(self) -> ApprovalState:
        return self.s

    @workflow.update
    async def decide(self, input: DecideInput) -> DecideResult:
        # Votes may arrive before the voter list is loaded: wait for it, then check again.
        await workflow.wait_condition(lambda: self._opened)
        # One vote at a time, from its check until its write is answered: a vote counted
        # while another is still being stored could decide on a vote that is then refused.
        async with self._lock if self._serial else nullcontext():
            self._check(input)
            self.s.votes.append(Vote(user_id=input.user_id, email=input.email,
                                     decision=input.decision, comment=input.comment.strip(),
                                     decided_at=workflow.now()))
            approvals = sum(1 for v in self.s.votes if v.decision == "approve")
            rejections = len(self.s.votes) - approvals
            status = evaluate(self.s.rule, self.s.quorum, len(self.s.voters), approvals,
                              rejections)
            vote = self.s.votes[-1]
            try:
                await workflow.execute_local_activity(
                    stubs.record_vote,
                    RecordVoteInput(approval_id=self.input.approval_id,
                                    process_id=self.input.process_id,
                                    organisation_id=self.input.organisation_id,
                                    phase_key=self.input.phase_key, vote=vote),
                    start_to_close_timeout=timedelta(seconds=30), retry_policy=DB_RETRY)
            except (ActivityError, ApplicationError) as exc:
                # Only a refused write fails (connection errors retry): the vote was not
                # stored, so it does not count and the member may vote again.
                self.s.votes.remove(vote)
                raise _error(INVALID_DATA,
                             "Die Stimme konnte nicht gespeichert werden.") from exc
            # Set after the vote is stored, so the closing write never precedes its last vote.
            # Counts only grow, so a later evaluation never contradicts an earlier decision.
            if self.s.status == "pending":
                self.s.status = status
            return DecideResult(status=self.s.status, votes=len(self.s.votes))

    @decide.validator
    def _validate_decide(self, input: DecideInput) -> None:
        try:
            check_comment(input.decision, input.comment)
        except RuleViolation as exc:
            raise _refused(exc) from None
        self._check(input)

    def _check(self, input: DecideInput) -> None:
        try:
            check_decision(self.s, voters_known=self._opened, user_id=input.user_id,
                           email=input.email, comment=input.comment)
        except RuleViolation as exc:
            raise _refused(exc) from None

    async def _notify(self, kind: str, key: str, *, recipients: list | None = None,
                      note: str | None = None) -> None:
        await workflow.execute_activity(
            stubs.notify_process,
            NotifyInput(process_id=self.input.process_id,
                        organisation_id=self.input.organisation_id,
                        idempotency_key=key, kind=kind,  # type: ignore[arg-type]
                        phase_key=self.input.phase_key, phase_title=self.input.title,
                        scheduled_for=workflow.now(), approval_id=self.input.approval_id,
                        recipients=recipients, note=note),
            start_to_close_timeout=timedelta(minutes=2), retry_policy=MAIL_RETRY)


# The sandbox re-imports this module per run; register only from the real import.
if not workflow.unsafe.in_sandbox():
    WORKFLOWS.append(ApprovalWorkflow)
