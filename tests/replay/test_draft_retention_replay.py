"""Replay the committed DraftRetentionWorkflow history (a run of two daily sweeps ending in
continue-as-new) against today's code: a failure means a change would break the sweep that
runs on every installation; guard it with `workflow.patched()`. Re-record with
`RECORD_DRAFT_RETENTION_HISTORY=1 pytest tests/workflows/test_draft_retention_workflow.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.draft_retention import DraftRetentionWorkflow

HISTORY = Path(__file__).parent / "histories" / "draft_retention.json"


async def test_replay_draft_retention_history() -> None:
    data = json.loads(HISTORY.read_text())
    types = [e.get("eventType") for e in data["events"]]
    assert types.count("EVENT_TYPE_TIMER_FIRED") == 2
    assert types.count("EVENT_TYPE_ACTIVITY_TASK_COMPLETED") == 2
    assert types[-1] == "EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW"
    replayer = Replayer(workflows=[DraftRetentionWorkflow],
                        data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(WorkflowHistory.from_json("drafts", data),
                                            raise_on_replay_failure=True)
    assert result.replay_failure is None
