"""CouncilResolutionWorkflow: one submitted version of a Beschlussvorlage at the clerk's office.

Started when the coordinator submits an approved version (id `resolution-{version id}`). It
records the delivery (inbox, timeline, events feed: `resolution.submitted`, which the webhook
engine delivers), mails the clerks with the PDF, and waits for the clerk's updates: `received`,
`scheduled` (body, meeting date), `outcome`. Reminders: no acknowledgement within
`ack_reminder_days` days, and a meeting date that passed without an outcome (the day after, at
09:00 local time; a deferral to a new date re-arms it). `adopted` and `amended` complete the
process (signal `council_decided`); `rejected` ends this version, the process stays in its last
phase and the draft goes back to drafting; `deferred` waits for the new date.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts import stubs
    from contracts.process import NotifyInput, local_datetime
    from contracts.resolution import (
        ALREADY_RECEIVED,
        COMPLETES_PROCESS,
        DECIDED,
        INVALID_DECISION,
        NOT_RECEIVED,
        NOT_SCHEDULED,
        REMINDER_TIME,
        RESOLUTION_DECIDED,
        SCHEDULE_ACTOR,
        CouncilDecided,
        OutcomeInput,
        ReceivedInput,
        ResolutionState,
        ResolutionStep,
        ResolutionStepResult,
        ResolutionWorkflowInput,
        ScheduledInput,
        outcome_problems,
        scheduled_problems,
    )
    from workflows.registry import WORKFLOWS

DB_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200),
                       maximum_interval=timedelta(seconds=30))
MAIL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2),
                         maximum_interval=timedelta(minutes=5))


def _error(code: str, message: str, **details: object) -> ApplicationError:
    return ApplicationError(message, details or {}, type=code, non_retryable=True)


@workflow.defn(name="CouncilResolutionWorkflow")
class CouncilResolutionWorkflow:
    @workflow.init
    def __init__(self, input: ResolutionWorkflowInput) -> None:
        self.input = input
        self.s = ResolutionState()
        self._delivered = False
        self._wake = False
        self._outcome_actor: str | None = None

    @workflow.run
    async def run(self, input: ResolutionWorkflowInput) -> ResolutionState:
        self.s.submitted_at = workflow.now()
        await self._step("submitted", "submitted", actor=input.submitted_by)
        self._delivered = True
        await self._notify("resolution_submitted", f"resolution:{input.resolution_id}:submitted")
        while self.s.status not in DECIDED:
            due = self._next_due()
            self._wake = False
            if due is None:
                await workflow.wait_condition(lambda: self._wake)
                continue
            at, key, kind = due
            delay = (at - workflow.now()).total_seconds()
            if delay > 0:
                try:
                    await workflow.wait_condition(lambda: self._wake,
                                                  timeout=timedelta(seconds=delay))
                    continue
                except TimeoutError:
                    pass
            self.s.sent_notices.append(key)
            await self._step("reminder", self.s.status, actor=SCHEDULE_ACTOR, key=key,
                             data={"reminder": kind})
            await self._notify(kind, key, due=at)
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self.s.outcome in COMPLETES_PROCESS:
            assert self.s.outcome is not None and self.s.decided_on is not None
            await workflow.get_external_workflow_handle(input.process_workflow_id).signal(
                "council_decided",
                CouncilDecided(resolution_id=input.resolution_id, outcome=self.s.outcome,
                               decided_on=self.s.decided_on, actor=self._outcome_actor))
        return self.s

    def _next_due(self) -> tuple[datetime, str, str] | None:
        """The next reminder: acknowledgement while only submitted; the outcome the day after
        the meeting while scheduled or deferred. Keys make each one fire once."""
        candidates = []
        if self.s.status == "submitted" and self.s.submitted_at is not None:
            at = self.s.submitted_at + timedelta(days=self.input.ack_reminder_days)
            candidates.append((at, "ack", "resolution_ack_reminder"))
        if self.s.status in ("scheduled", "deferred") and self.s.meeting_date is not None:
            at = local_datetime(self.s.meeting_date + timedelta(days=1), REMINDER_TIME,
                                self.input.time_zone)
            candidates.append((at, f"outcome:{self.s.meeting_date.isoformat()}",
                               "resolution_outcome_reminder"))
        rid = self.input.resolution_id
        pending = [(at, f"resolution:{rid}:reminder:{k}", kind) for at, k, kind in candidates
                   if f"resolution:{rid}:reminder:{k}" not in self.s.sent_notices]
        return min(pending, default=None)

    @workflow.query
    def state(self) -> ResolutionState:
        return self.s

    # --- the clerk's updates ----------------------------------------------------------------

    @workflow.update
    async def received(self, input: ReceivedInput) -> ResolutionStepResult:
        await workflow.wait_condition(lambda: self._delivered)
        self._check_received()
        self.s.status = "received"
        self.s.received_at = workflow.now()
        self._wake = True
        await self._step("received", "received", actor=input.actor)
        return ResolutionStepResult(status=self.s.status)

    @received.validator
    def _validate_received(self, input: ReceivedInput) -> None:
        self._check_received()

    def _check_received(self) -> None:
        self._check_open()
        if self.s.status != "submitted":
            raise _error(ALREADY_RECEIVED, "Der Eingang ist bereits bestätigt.")

    @workflow.update
    async def scheduled(self, input: ScheduledInput) -> ResolutionStepResult:
        await workflow.wait_condition(lambda: self._delivered)
        self._check_scheduled(input)
        self.s.status = "scheduled"
        self.s.body = input.body.strip()
        self.s.meeting_date = input.meeting_date
        self._wake = True
        await self._step("scheduled", "scheduled", actor=input.actor, body=self.s.body,
                         meeting_date=input.meeting_date)
        return ResolutionStepResult(status=self.s.status)

    @scheduled.validator
    def _validate_scheduled(self, input: ScheduledInput) -> None:
        self._check_scheduled(input)

    def _check_scheduled(self, input: ScheduledInput) -> None:
        self._check_open()
        if self.s.status == "submitted":
            raise _error(NOT_RECEIVED, "Bitte zuerst den Eingang bestätigen.")
        if self.s.status == "deferred":
            raise _error(NOT_SCHEDULED, "Die Vorlage ist vertagt; bitte das Ergebnis der "
                         "neuen Sitzung eintragen.")
        problems = scheduled_problems(input)
        if problems:
            raise _error(INVALID_DECISION, problems[0]["message"], problems=problems)

    @workflow.update
    async def outcome(self, input: OutcomeInput) -> ResolutionStepResult:
        await workflow.wait_condition(lambda: self._delivered)
        self._check_outcome(input)
        self._outcome_actor = input.actor
        status = "deferred" if input.outcome == "deferred" else input.outcome
        self.s.status = status
        if input.outcome == "deferred":
            self.s.meeting_date = input.meeting_date
        else:
            self.s.outcome = input.outcome
            self.s.decided_on = input.decided_on
        self._wake = True
        final = await self._step("outcome", status, actor=input.actor, outcome=input)
        return ResolutionStepResult(status=status, final_version=final)

    @outcome.validator
    def _validate_outcome(self, input: OutcomeInput) -> None:
        self._check_outcome(input)

    def _check_outcome(self, input: OutcomeInput) -> None:
        self._check_open()
        if self.s.status in ("submitted", "received"):
            raise _error(NOT_SCHEDULED, "Bitte zuerst die Sitzung eintragen, in der beraten "
                         "wird.")
        problems = outcome_problems(input)
        if problems:
            raise _error(INVALID_DECISION, problems[0]["message"], problems=problems)

    def _check_open(self) -> None:
        if self.s.status in DECIDED:
            raise _error(RESOLUTION_DECIDED, "Über diese Vorlage ist bereits entschieden.")

    # --- activities -------------------------------------------------------------------------

    async def _step(self, kind: str, status: str, *, actor: str | None, key: str | None = None,
                    body: str | None = None, meeting_date: date | None = None,
                    outcome: OutcomeInput | None = None,
                    data: dict[str, object] | None = None) -> int | None:
        self.s.seq += 1
        step = ResolutionStep(
            resolution_id=self.input.resolution_id, process_id=self.input.process_id,
            organisation_id=self.input.organisation_id,
            key=key or f"resolution:{self.input.resolution_id}:{self.s.seq}:{kind}",
            kind=kind, status=status, actor=actor,  # type: ignore[arg-type]
            occurred_at=workflow.now(), body=body, meeting_date=meeting_date,
            outcome=outcome, data=data or {})
        # A regular activity, not a local one: an amended outcome renders the final version.
        applied = await workflow.execute_activity(
            stubs.apply_resolution_step, step,
            start_to_close_timeout=timedelta(minutes=2), retry_policy=DB_RETRY)
        return applied.final_version

    async def _notify(self, kind: str, key: str, due: datetime | None = None) -> None:
        await workflow.execute_activity(
            stubs.notify_process,
            NotifyInput(process_id=self.input.process_id,
                        organisation_id=self.input.organisation_id, idempotency_key=key,
                        kind=kind,  # type: ignore[arg-type]
                        phase_key=self.input.phase_key, phase_title=self.input.phase_title,
                        planned_end=self.s.meeting_date, scheduled_for=due or workflow.now(),
                        recipient_role="clerk", resolution_id=self.input.resolution_id,
                        note=f"Fassung {self.input.number}"),
            start_to_close_timeout=timedelta(minutes=2), retry_policy=MAIL_RETRY)


# The sandbox re-imports this module per run; register only from the real import.
if not workflow.unsafe.in_sandbox():
    WORKFLOWS.append(CouncilResolutionWorkflow)
