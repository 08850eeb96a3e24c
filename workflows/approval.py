"""ApprovalWorkflow: the steering group decides a phase gate under a rule, with a deadline.

Started as a child of a ProcessWorkflow (id `approval-{approval_id}`). Each steering member
asked when the gate opened decides once through the `decide` update; when the rule is met (or
can no longer be met) the result is written to PostgreSQL and signalled to the process. At the
deadline the coordinators get an escalation mail; the gate stays open until decided.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.input_rules import CONTROL_CHAR_MESSAGE, has_control_chars
    from contracts.process import (
        ALREADY_DECIDED,
        APPROVAL_CLOSED,
        INVALID_DATA,
        INVALID_TEXT,
        NOT_A_VOTER,
        ApprovalDecided,
        ApprovalInput,
        ApprovalState,
        ApprovalStatus,
        CloseApprovalInput,
        DecideInput,
        GateRule,
        NotifyInput,
        OpenApprovalInput,
        OpenApprovalResult,
        RecordVoteInput,
        Vote,
    )
    from workflows.registry import WORKFLOWS

DB_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200),
                       maximum_interval=timedelta(seconds=30))
MAIL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2),
                         maximum_interval=timedelta(minutes=5))


def required_approvals(rule: GateRule, quorum: int | None, voters: int) -> int:
    if rule == "any":
        return 1
    if rule == "all":
        return max(voters, 1)
    if rule == "majority":
        return voters // 2 + 1
    return max(quorum or 1, 1)


def evaluate(rule: GateRule, quorum: int | None, voters: int, approvals: int,
             rejections: int) -> ApprovalStatus:
    """Approved once enough approve; rejected once a rejection makes that impossible.

    With too few voters for the rule nothing is decided by the missing votes alone: the gate
    waits and the deadline escalates to the coordinators.
    """
    need = required_approvals(rule, quorum, voters)
    if approvals >= need:
        return "approved"
    if rejections > 0 and voters - rejections < need:
        return "rejected"
    return "pending"


def _error(code: str, message: str) -> ApplicationError:
    return ApplicationError(message, type=code, non_retryable=True)


@workflow.defn(name="ApprovalWorkflow")
class ApprovalWorkflow:
    @workflow.init
    def __init__(self, input: ApprovalInput) -> None:
        self.input = input
        self.s = ApprovalState(approval_id=input.approval_id, phase_key=input.phase_key,
                               rule=input.rule, quorum=input.quorum)
        self._opened = False

    @workflow.run
    async def run(self, input: ApprovalInput) -> ApprovalState:
        deadline = input.deadline or workflow.now() + timedelta(days=input.deadline_days)
        self.s.deadline = deadline
        if input.voters is None:
            opened: OpenApprovalResult = await workflow.execute_local_activity(
                "open_approval", OpenApprovalInput(approval=input, deadline=deadline),
                result_type=OpenApprovalResult,
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
            "close_approval",
            CloseApprovalInput(approval_id=input.approval_id, process_id=input.process_id,
                               organisation_id=input.organisation_id, phase_key=input.phase_key,
                               status=self.s.status, reasons=reasons,
                               decided_at=workflow.now(),
                               escalated_at=deadline if self.s.escalated else None),
            start_to_close_timeout=timedelta(seconds=30), retry_policy=DB_RETRY)
        await workflow.get_external_workflow_handle(input.process_workflow_id).signal(
            "approval_decided",
            ApprovalDecided(approval_id=input.approval_id, phase_key=input.phase_key,
                            status=self.s.status, reasons=reasons))
        await self._notify("approval_result", f"{input.approval_id}:result",
                           note="freigegeben" if self.s.status == "approved" else "abgelehnt")
        return self.s

    @workflow.query
    def state(self) -> ApprovalState:
        return self.s

    @workflow.update
    async def decide(self, input: DecideInput) -> ApprovalState:
        # Votes may arrive before the voter list is loaded: wait for it, then check again.
        await workflow.wait_condition(lambda: self._opened)
        self._check(input)
        self.s.votes.append(Vote(user_id=input.user_id, email=input.email,
                                 decision=input.decision, comment=input.comment.strip(),
                                 decided_at=workflow.now()))
        approvals = sum(1 for v in self.s.votes if v.decision == "approve")
        rejections = len(self.s.votes) - approvals
        status = evaluate(self.s.rule, self.s.quorum, len(self.s.voters), approvals, rejections)
        vote = self.s.votes[-1]
        try:
            await workflow.execute_local_activity(
                "record_vote",
                RecordVoteInput(approval_id=self.input.approval_id,
                                process_id=self.input.process_id,
                                organisation_id=self.input.organisation_id,
                                phase_key=self.input.phase_key, vote=vote),
                start_to_close_timeout=timedelta(seconds=30), retry_policy=DB_RETRY)
        except (ActivityError, ApplicationError) as exc:
            # Only a refused write fails (connection errors retry): the vote was not stored,
            # so it does not count and the member may vote again.
            self.s.votes.remove(vote)
            raise _error(INVALID_DATA, "Die Stimme konnte nicht gespeichert werden.") from exc
        # Set after the vote is stored, so the closing write never precedes its last vote.
        # Counts only grow, so a later evaluation never contradicts an earlier decision.
        if self.s.status == "pending":
            self.s.status = status
        return self.s

    @decide.validator
    def _validate_decide(self, input: DecideInput) -> None:
        self._check(input)

    def _check(self, input: DecideInput) -> None:
        if has_control_chars(input.comment) or has_control_chars(input.email):
            raise _error(INVALID_TEXT, CONTROL_CHAR_MESSAGE)
        if self.s.status != "pending":
            raise _error(APPROVAL_CLOSED, "Über diese Freigabe ist bereits entschieden.")
        if self._opened and input.user_id not in self.s.voters:
            raise _error(NOT_A_VOTER, "Sie sind für diese Freigabe nicht stimmberechtigt.")
        if any(v.user_id == input.user_id for v in self.s.votes):
            raise _error(ALREADY_DECIDED, "Sie haben bereits abgestimmt.")

    async def _notify(self, kind: str, key: str, *, recipients: list | None = None,
                      note: str | None = None) -> None:
        await workflow.execute_activity(
            "notify_process",
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
