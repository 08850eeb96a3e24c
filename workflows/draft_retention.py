"""DraftRetentionWorkflow: deletes expired survey drafts once a day.

Saved, unsubmitted answers are kept only while they can still become an answer (the rule:
services/surveys/retention.py). This one workflow (id `draft-retention`, started by every
worker at start-up with USE_EXISTING) sweeps at once and then every `interval_seconds`.
Durable: the timer lives in Temporal, so a sweep missed during an outage runs when Temporal and
a worker are back; idempotent: a second sweep finds nothing to delete. After `rounds` sweeps
it continues as new, so its history stays bounded however long the installation runs.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from contracts import stubs
    from contracts.retention import DRAFT_RETENTION_WORKFLOW_TYPE, DraftRetentionInput
    from workflows.registry import WORKFLOWS

# A failed sweep (the database restarting) is retried within the day, not left to tomorrow.
RETRY = RetryPolicy(initial_interval=timedelta(seconds=30), backoff_coefficient=2.0,
                    maximum_interval=timedelta(minutes=30))


@workflow.defn(name=DRAFT_RETENTION_WORKFLOW_TYPE)
class DraftRetentionWorkflow:
    @workflow.run
    async def run(self, data: DraftRetentionInput) -> None:
        for _ in range(data.rounds):
            await workflow.execute_activity(
                stubs.expire_survey_drafts, start_to_close_timeout=timedelta(minutes=10),
                retry_policy=RETRY)
            await workflow.sleep(timedelta(seconds=data.interval_seconds))
        workflow.continue_as_new(data)


# The sandbox re-imports this module per run; register only from the real import.
if not workflow.unsafe.in_sandbox():
    WORKFLOWS.append(DraftRetentionWorkflow)
