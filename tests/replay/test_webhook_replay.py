"""Replay the committed webhook histories against today's code: the dispatcher (a page planned,
its first attempts failed, a retrying child started) and that child (one interval, then the
activity that Temporal retried until the receiver took it).

A failure means a change would break running dispatchers or deliveries: guard it with
`workflow.patched()`. Re-record with
`RECORD_WEBHOOK_HISTORY=1 pytest tests/workflows/test_webhook_delivery.py -k two_500s`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.webhooks import WebhookDeliveryWorkflow, WebhookDispatcherWorkflow

HISTORIES = Path(__file__).parent / "histories"


@pytest.mark.parametrize("name,must_have", [
    ("webhook_dispatcher", "EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED"),
    ("webhook_delivery", "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"),
])
async def test_replay_webhook_history(name: str, must_have: str) -> None:
    data = json.loads((HISTORIES / f"{name}.json").read_text())
    assert must_have in [e.get("eventType") for e in data["events"]]
    replayer = Replayer(workflows=[WebhookDispatcherWorkflow, WebhookDeliveryWorkflow],
                        data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(WorkflowHistory.from_json(name, data),
                                            raise_on_replay_failure=True)
    assert result.replay_failure is None
