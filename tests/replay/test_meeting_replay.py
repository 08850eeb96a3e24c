"""Replay the committed MeetingWorkflow history (registrations, a reschedule that moves the
reminder timer, the reminder at the new hour, the end) against today's code.

A failure means a change would break the workflows of running events: guard it with
`workflow.patched()`. Re-record with
`RECORD_MEETING_HISTORY=1 pytest tests/workflows/test_meeting_reminders.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.meeting import MeetingWorkflow

HISTORY = Path(__file__).parent / "histories" / "meeting_reschedule.json"


async def test_replay_meeting_history() -> None:
    data = json.loads(HISTORY.read_text())
    types = [e.get("eventType") for e in data["events"]]
    assert types[-1] == "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"
    assert types.count("EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED") >= 2  # start and reschedule
    assert types.count("EVENT_TYPE_TIMER_FIRED") >= 2  # the reminder and the end
    replayer = Replayer(workflows=[MeetingWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(WorkflowHistory.from_json("meeting", data),
                                            raise_on_replay_failure=True)
    assert result.replay_failure is None
