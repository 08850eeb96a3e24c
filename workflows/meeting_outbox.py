"""MeetingOutboxWorkflow: the sweep that sends mails whose event's workflow was never woken.

A change queues its mails in the ledger and commits, then the API wakes the event's workflow.
If Temporal is unreachable at that moment (or the API stops before the signal), the mails
would wait for the next change of that event. This one workflow (id `meeting-outbox`, started
by every worker at start-up with USE_EXISTING) looks at once and then every
`interval_seconds` for mails pending longer than `min_age_seconds` and wakes their events'
workflows, which deliver them. Durable: the timer lives in Temporal, so a sweep interrupted
by an outage resumes when Temporal and a worker are back; idempotent: delivery claims every
mail before sending it, so a wake-up too many sends nothing twice.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from contracts import stubs
    from contracts.meetings import OUTBOX_WORKFLOW_TYPE, OutboxSweepInput
    from workflows.registry import WORKFLOWS

RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), backoff_coefficient=2.0,
                    maximum_interval=timedelta(minutes=5))
HISTORY_LIMIT = 2000


@workflow.defn(name=OUTBOX_WORKFLOW_TYPE)
class MeetingOutboxWorkflow:
    @workflow.run
    async def run(self, data: OutboxSweepInput) -> None:
        while True:
            await workflow.execute_activity(
                stubs.sweep_meeting_outbox, data,
                start_to_close_timeout=timedelta(minutes=5), retry_policy=RETRY)
            info = workflow.info()
            if (info.is_continue_as_new_suggested()
                    or info.get_current_history_length() > HISTORY_LIMIT):
                workflow.continue_as_new(data)
            await workflow.sleep(timedelta(seconds=data.interval_seconds))


# The sandbox re-imports this module per run; register only from the real import.
if not workflow.unsafe.in_sandbox():
    WORKFLOWS.append(MeetingOutboxWorkflow)
