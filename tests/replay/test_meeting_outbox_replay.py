"""Replay the committed MeetingOutboxWorkflow history (a sweep at once, one that failed and was
retried, the sweeps on the interval's timer) against today's code: a failure means a change
would break the sweep that runs on every deployment; guard it with `workflow.patched()`.
Re-record with `RECORD_OUTBOX_HISTORY=1 pytest tests/workflows/test_meeting_outbox_logic.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.meeting_outbox import MeetingOutboxWorkflow

HISTORY = Path(__file__).parent / "histories" / "meeting_outbox.json"


async def test_replay_meeting_outbox_history() -> None:
    data = json.loads(HISTORY.read_text())
    types = [e.get("eventType") for e in data["events"]]
    assert types.count("EVENT_TYPE_TIMER_FIRED") >= 2
    replayer = Replayer(workflows=[MeetingOutboxWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(WorkflowHistory.from_json("outbox", data),
                                            raise_on_replay_failure=True)
    assert result.replay_failure is None
