"""Replay the committed InvitationCampaignWorkflow histories against today's code.

- campaign_reminders.json: invitations in batches, two reminders, close at the deadline,
  recorded before the `campaign-control` patch (no marker: replays on the old branch);
- campaign_cancel_deadline.json: recorded after it: the deadline moved by the
  `move_deadline` update, one reminder, then the `cancel` signal while waiting for the next.

A failure means a change would break running campaigns: guard it with `workflow.patched()`.
Re-record with `RECORD_CAMPAIGN_HISTORY=1 pytest tests/workflows/test_campaign_workflow.py
tests/workflows/test_campaign_control.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.replay.test_process_replay import _patched
from workflows.campaign import CONTROL_PATCH, InvitationCampaignWorkflow

HISTORIES = Path(__file__).parent / "histories"
HISTORY = HISTORIES / "campaign_reminders.json"
CONTROL = HISTORIES / "campaign_cancel_deadline.json"


def _types(path: Path) -> list[str]:
    return [e.get("eventType") for e in json.loads(path.read_text())["events"]]


def test_the_histories_cover_both_sides_of_the_patch() -> None:
    assert not _patched(json.loads(HISTORY.read_text()), CONTROL_PATCH)
    assert _patched(json.loads(CONTROL.read_text()), CONTROL_PATCH)
    old = _types(HISTORY)
    assert old.count("EVENT_TYPE_TIMER_FIRED") >= 3  # two reminders and the deadline
    new = _types(CONTROL)
    # The deadline update was taken, then the cancel signal; the waits were interrupted and
    # the run ended with the cancel, not at the deadline.
    assert new.count("EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED") == 1
    assert new.count("EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED") == 1
    assert "EVENT_TYPE_TIMER_CANCELED" in new
    assert new.count("EVENT_TYPE_TIMER_FIRED") == 1


@pytest.mark.parametrize("path", [HISTORY, CONTROL], ids=lambda p: p.name)
async def test_replay_campaign_history(path: Path) -> None:
    data = json.loads(path.read_text())
    assert data["events"][-1]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"
    replayer = Replayer(workflows=[InvitationCampaignWorkflow],
                        data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(WorkflowHistory.from_json(path.stem, data),
                                            raise_on_replay_failure=True)
    assert result.replay_failure is None
