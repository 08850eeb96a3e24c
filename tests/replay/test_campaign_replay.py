"""Replay the committed InvitationCampaignWorkflow history (invitations in batches, two
reminders, close at the deadline) against today's code.

A failure means a change would break running campaigns: guard it with `workflow.patched()`.
Re-record with `RECORD_CAMPAIGN_HISTORY=1 pytest tests/workflows/test_campaign_workflow.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.campaign import InvitationCampaignWorkflow

HISTORY = Path(__file__).parent / "histories" / "campaign_reminders.json"


async def test_replay_campaign_history() -> None:
    data = json.loads(HISTORY.read_text())
    event_types = [e.get("eventType") for e in data["events"]]
    assert event_types[-1] == "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"
    assert event_types.count("EVENT_TYPE_TIMER_FIRED") >= 3  # two reminders and the deadline
    replayer = Replayer(workflows=[InvitationCampaignWorkflow],
                        data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(WorkflowHistory.from_json("campaign", data),
                                            raise_on_replay_failure=True)
    assert result.replay_failure is None
