"""Replay the committed ProcessWorkflow and ApprovalWorkflow histories against today's code.

A failure here means a change to workflow code would break running processes: guard it with
`workflow.patched()` instead of re-recording (tests/replay/record_process.py)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.approval import ApprovalWorkflow
from workflows.process import BOUNDED_HISTORY_PATCH, ProcessWorkflow

HISTORIES = Path(__file__).parent / "histories"
FILES = sorted([*HISTORIES.glob("process_*.json"), *HISTORIES.glob("approval_*.json")])


def test_histories_are_committed():
    names = {p.name for p in FILES}
    assert {"process_weiterstadt.json", "approval_rejected.json", "approval_approved.json",
            "process_can_approval_pending.json", "process_can_after_approval.json",
            "approval_escalated.json"} <= names


def _patched(data: dict, patch_id: str) -> bool:
    """Whether the history holds the `workflow.patched(patch_id)` marker."""
    for e in data["events"]:
        attrs = e.get("markerRecordedEventAttributes", {})
        if attrs.get("markerName") == "core_patch":
            for p in attrs["details"]["patch-data"]["payloads"]:
                if json.loads(base64.b64decode(p["data"]))["id"] == patch_id:
                    return True
    return False


def test_the_patch_example_replays_on_both_sides():
    """docs/changing-workflows.md's worked example: the Weiterstadt run was recorded before
    `bounded-history` (no marker: replays on the old branch), the long-running ones after it
    (marker: the new branch). Both replay in test_replay below."""
    old = json.loads((HISTORIES / "process_weiterstadt.json").read_text())
    new = json.loads((HISTORIES / "process_can_approval_pending.json").read_text())
    assert not _patched(old, BOUNDED_HISTORY_PATCH)
    assert _patched(new, BOUNDED_HISTORY_PATCH)


def test_long_running_histories_cover_continue_as_new_and_the_escalation_timer():
    pending = json.loads((HISTORIES / "process_can_approval_pending.json").read_text())
    types = [e["eventType"] for e in pending["events"]]
    assert types[-1] == "EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW"
    # The gate's approval was started as a child in this run and not decided in it.
    assert "EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED" in types
    assert "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED" not in types
    after = json.loads((HISTORIES / "process_can_after_approval.json").read_text())
    assert "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED" in [e["eventType"] for e in after["events"]]
    escalated = json.loads((HISTORIES / "approval_escalated.json").read_text())
    assert "EVENT_TYPE_TIMER_FIRED" in [e["eventType"] for e in escalated["events"]]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
async def test_replay(path: Path) -> None:
    data = json.loads(path.read_text())
    history = WorkflowHistory.from_json(path.stem, data)
    event_types = {e.get("eventType") for e in data["events"]}
    assert event_types & {"EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED",
                          "EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW"}
    replayer = Replayer(workflows=[ProcessWorkflow, ApprovalWorkflow],
                        data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
