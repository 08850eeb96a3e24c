"""Replay the committed CouncilResolutionWorkflow histories (and the ProcessWorkflow history it
completed) against today's code (tests/replay/record_resolution.py records them).

A failure means a change would break resolutions already at the clerk's office: guard it with
`workflow.patched()` instead of re-recording."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.approval import ApprovalWorkflow
from workflows.process import ProcessWorkflow
from workflows.resolution import CouncilResolutionWorkflow

HISTORIES = Path(__file__).parent / "histories"
FILES = sorted([*HISTORIES.glob("resolution_*.json"), HISTORIES / "process_council_adopted.json"])


def test_histories_are_committed() -> None:
    names = {p.name for p in FILES if p.exists()}
    assert names == {"resolution_rejected.json", "resolution_deferred_adopted.json",
                     "process_council_adopted.json"}


def _types(data: dict) -> list[str]:  # type: ignore[type-arg]
    return [e.get("eventType", "") for e in data["events"]]


def test_histories_cover_the_paths() -> None:
    deferred = json.loads((HISTORIES / "resolution_deferred_adopted.json").read_text())
    types = _types(deferred)
    assert "EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED" in types
    assert types.count("EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED") == 4
    rejected = json.loads((HISTORIES / "resolution_rejected.json").read_text())
    assert _types(rejected).count("EVENT_TYPE_TIMER_FIRED") >= 2  # both reminders fired
    process = json.loads((HISTORIES / "process_council_adopted.json").read_text())
    assert "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED" in _types(process)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
async def test_replay(path: Path) -> None:
    data = json.loads(path.read_text())
    history = WorkflowHistory.from_json(path.stem, data)
    assert "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED" in _types(data)
    replayer = Replayer(workflows=[ProcessWorkflow, ApprovalWorkflow, CouncilResolutionWorkflow],
                        data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
