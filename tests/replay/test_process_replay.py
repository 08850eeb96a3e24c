"""Replay the committed ProcessWorkflow and ApprovalWorkflow histories against today's code.

A failure here means a change to workflow code would break running processes: guard it with
`workflow.patched()` instead of re-recording (tests/replay/record_process.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.approval import ApprovalWorkflow
from workflows.process import ProcessWorkflow

HISTORIES = Path(__file__).parent / "histories"
FILES = sorted([*HISTORIES.glob("process_*.json"), *HISTORIES.glob("approval_*.json")])


def test_histories_are_committed():
    names = {p.name for p in FILES}
    assert {"process_weiterstadt.json", "approval_rejected.json",
            "approval_approved.json"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
async def test_replay(path: Path) -> None:
    data = json.loads(path.read_text())
    history = WorkflowHistory.from_json(path.stem, data)
    event_types = {e.get("eventType") for e in data["events"]}
    assert "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED" in event_types
    replayer = Replayer(workflows=[ProcessWorkflow, ApprovalWorkflow],
                        data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
