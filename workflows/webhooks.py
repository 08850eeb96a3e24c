"""Webhook delivery, driven durably by Temporal.

`WebhookDispatcherWorkflow` (one, id `webhook-dispatcher`): plan a page of deliveries from the
event log after its cursor (one activity, which waits for new events when there are none),
make their first attempts in one batch activity, and start a `WebhookDeliveryWorkflow` child
for each one that failed. It keeps only the cursor and continues as new when its history grows.

`WebhookDeliveryWorkflow` (id `webhook-delivery-{delivery id}`): the retries of one delivery,
by Temporal's retry policy on its activity (10 s, doubling, at most 6 h apart, for 3 days);
then the delivery is marked failed. The children are abandoned by the dispatcher (they outlive
its runs) and each survives a worker crash: Temporal holds the retry timer, not the worker.

Why a batch for the first attempt: most deliveries succeed at once, and one activity for a page
keeps the throughput close to a bare HTTP client's (bench/webhook_deliveries.py); a workflow
per delivery would cost several history writes for every event.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from contracts import stubs
    from contracts.webhooks import (
        DELIVERY_WORKFLOW_TYPE,
        DISPATCHER_WORKFLOW_TYPE,
        DeliverBatchIn,
        DeliverIn,
        DeliveryInput,
        DispatcherInput,
        PlanIn,
        delivery_workflow_id,
    )
    from workflows.registry import WORKFLOWS

# Database steps: retried until the database is back (a dispatcher must not die of an outage).
DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1),
                       maximum_interval=timedelta(minutes=1))


@workflow.defn(name=DISPATCHER_WORKFLOW_TYPE)
class WebhookDispatcherWorkflow:
    def __init__(self) -> None:
        self.cursor: int | None = None

    @workflow.query
    def position(self) -> int | None:
        return self.cursor

    @workflow.run
    async def run(self, inp: DispatcherInput) -> None:
        self.cursor = inp.cursor
        gap_since = inp.gap_since
        # Pages being delivered while the next is planned: the receiver does not idle while
        # the dispatcher's activities go back and forth through Temporal.
        running: list[asyncio.Task[None]] = []
        while True:
            plan = await workflow.execute_activity(
                stubs.webhooks_plan_deliveries,
                PlanIn(cursor=self.cursor, gap_since=gap_since, page_size=inp.page_size,
                       wait_seconds=inp.wait_seconds),
                start_to_close_timeout=timedelta(seconds=inp.wait_seconds + 60),
                heartbeat_timeout=timedelta(seconds=10), retry_policy=DB_RETRY)
            self.cursor, gap_since = plan.cursor, plan.gap_since
            if plan.delivery_ids:
                running.append(asyncio.ensure_future(self._deliver_page(inp, plan.delivery_ids)))
            while len(running) >= max(1, inp.parallel_pages):
                await workflow.wait(running, return_when=asyncio.FIRST_COMPLETED)
                running = self._reap(running)
            running = self._reap(running)
            info = workflow.info()
            if (info.is_continue_as_new_suggested()
                    or info.get_current_history_length() > inp.history_limit):
                if running:
                    await workflow.wait(running)
                    self._reap(running)
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(inp.model_copy(
                    update={"cursor": self.cursor, "gap_since": gap_since}))

    @staticmethod
    def _reap(running: list[asyncio.Task[None]]) -> list[asyncio.Task[None]]:
        for task in running:
            if task.done():
                task.result()  # a failure here is a bug: let it fail the workflow task
        return [t for t in running if not t.done()]

    async def _deliver_page(self, inp: DispatcherInput, delivery_ids: list[uuid.UUID]) -> None:
        result = await workflow.execute_activity(
            stubs.webhooks_deliver_batch, DeliverBatchIn(delivery_ids=delivery_ids),
            start_to_close_timeout=timedelta(minutes=5),
            heartbeat_timeout=timedelta(seconds=30), retry_policy=DB_RETRY)
        if result.retry:
            await self._start_retries(inp, result.retry)

    @staticmethod
    async def _start_retries(inp: DispatcherInput, delivery_ids: list[uuid.UUID]) -> None:
        """One child per failed first attempt, all started in one workflow task."""
        starts = [workflow.start_child_workflow(
            WebhookDeliveryWorkflow.run,
            DeliveryInput(delivery_id=delivery_id, retry=inp.retry,
                          first_delay_seconds=inp.retry.initial_seconds),
            id=delivery_workflow_id(delivery_id),
            parent_close_policy=ParentClosePolicy.ABANDON) for delivery_id in delivery_ids]
        for outcome in await asyncio.gather(*starts, return_exceptions=True):
            # Already started (by an earlier run): it is retrying; anything else is a bug.
            if isinstance(outcome, BaseException) and not isinstance(
                    outcome, WorkflowAlreadyStartedError):
                raise outcome


@workflow.defn(name=DELIVERY_WORKFLOW_TYPE)
class WebhookDeliveryWorkflow:
    @workflow.run
    async def run(self, inp: DeliveryInput) -> str:
        r = inp.retry
        started = workflow.now()
        if inp.first_delay_seconds > 0:
            await workflow.sleep(inp.first_delay_seconds)
        left = r.total - (workflow.now() - started)
        try:
            out = await workflow.execute_activity(
                stubs.webhooks_deliver, DeliverIn(delivery_id=inp.delivery_id),
                start_to_close_timeout=timedelta(seconds=60),
                schedule_to_close_timeout=max(left, timedelta(seconds=60)),
                retry_policy=RetryPolicy(initial_interval=r.initial, backoff_coefficient=r.backoff,
                                         maximum_interval=r.maximum))
        except ActivityError:
            await workflow.execute_activity(
                stubs.webhooks_give_up, DeliverIn(delivery_id=inp.delivery_id),
                start_to_close_timeout=timedelta(seconds=30), retry_policy=DB_RETRY)
            return "failed"
        return out.status


# The sandbox re-imports this module per run; register only from the real import.
if not workflow.unsafe.in_sandbox():
    WORKFLOWS.extend([WebhookDispatcherWorkflow, WebhookDeliveryWorkflow])
