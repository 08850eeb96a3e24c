"""The retry schedule of one delivery on Temporal's time-skipping server (activities mocked by
name): a receiver that never takes it gets attempts 10 s, 20 s, 40 s, ... apart, at most 6 h,
for three days; then the delivery is given up once. A 2xx after some failures ends it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from contracts.webhooks import (
    ACT_DELIVER,
    ACT_GIVE_UP,
    ERR_ATTEMPT_FAILED,
    DeliverIn,
    DeliverOut,
    DeliveryInput,
    WebhookRetry,
)
from workflows.webhooks import WebhookDeliveryWorkflow


class FakeReceiver:
    def __init__(self, fail_times: int) -> None:
        self.fail_times = fail_times
        self.attempts: list[datetime] = []
        self.given_up: list[uuid.UUID] = []

    def activities(self) -> list:  # type: ignore[type-arg]
        @activity.defn(name=ACT_DELIVER)
        async def deliver(inp: DeliverIn) -> DeliverOut:
            self.attempts.append(activity.info().current_attempt_scheduled_time)
            if len(self.attempts) <= self.fail_times:
                raise ApplicationError("HTTP 500", type=ERR_ATTEMPT_FAILED)
            return DeliverOut(status="delivered")

        @activity.defn(name=ACT_GIVE_UP)
        async def give_up(inp: DeliverIn) -> None:
            self.given_up.append(inp.delivery_id)

        return [deliver, give_up]


async def _run(env, receiver: FakeReceiver, first_delay: float):  # type: ignore[no-untyped-def]
    """The workflow's result, start and close time (the server's clock)."""
    queue = f"wh-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=queue, workflows=[WebhookDeliveryWorkflow],
                      activities=receiver.activities()):
        handle = await env.client.start_workflow(
            WebhookDeliveryWorkflow.run,
            DeliveryInput(delivery_id=uuid.uuid4(), retry=WebhookRetry(),
                          first_delay_seconds=first_delay),
            id=f"webhook-delivery-{uuid.uuid4()}", task_queue=queue)
        result = await handle.result()
        info = await handle.describe()
        return result, info.start_time, info.close_time


async def test_never_taken_retries_with_backoff_for_three_days_then_gives_up(
        time_skipping_env) -> None:  # type: ignore[no-untyped-def]
    receiver = FakeReceiver(fail_times=10_000)
    result, started, closed = await _run(time_skipping_env, receiver, first_delay=10)
    assert result == "failed"
    gaps = [(b - a).total_seconds() for a, b in zip(receiver.attempts, receiver.attempts[1:],
                                                     strict=False)]
    # The time-skipping server stamps a retry's "scheduled time" when the attempt before it
    # failed, so each gap shows up one attempt late: 0, then 10, 20, 40, ...
    assert [round(g) for g in gaps[:6]] == [0, 10, 20, 40, 80, 160]
    assert max(gaps) <= 6 * 3600 + 1
    # Given up when the three days (counted from the first attempt) were over.
    span = closed - started
    assert timedelta(days=2, hours=23) <= span <= timedelta(days=3, hours=1)
    assert receiver.attempts[-1] - started >= timedelta(days=2, hours=12)
    assert 15 <= len(receiver.attempts) <= 25  # about 18 attempts (the batch made one more)
    assert len(receiver.given_up) == 1


async def test_taken_on_the_third_attempt_ends_there(time_skipping_env) -> None:  # type: ignore[no-untyped-def]
    receiver = FakeReceiver(fail_times=2)
    assert (await _run(time_skipping_env, receiver, first_delay=0))[0] == "delivered"
    assert len(receiver.attempts) == 3 and receiver.given_up == []
