"""Typed references to the activities and signals the workflows call (workflow-safe).

A workflow calls `workflow.execute_activity(stubs.notify_process, NotifyInput(...))`: the
name on the wire is the one below (the same strings as before, so recorded histories replay),
the argument and result types are checked by mypy and decoded by the converter, and a typo is
an import error instead of an activity that never runs. The bodies never run: the worker
registers the real functions of activities/ under the same names, and
tests/contracts/test_stubs.py proves each stub has its real activity with the same name and
types.

Services do not import this module (it imports temporalio); activities and workflows do.
"""

from __future__ import annotations

import uuid
from typing import NoReturn

from temporalio import activity, workflow

from contracts.campaign import (
    CloseCampaignIn,
    PlanRemindersIn,
    PlanRemindersOut,
    SelectAudienceIn,
    SelectAudienceOut,
    SendBatchIn,
    SendBatchOut,
    SetDeadlineIn,
)
from contracts.meetings import (
    ACTIVITY_DELIVER,
    ACTIVITY_REMIND,
    ACTIVITY_SCHEDULE,
    ACTIVITY_SWEEP,
    MeetingSchedule,
    OutboxSweepInput,
    ReminderInput,
)
from contracts.process import (
    ApprovalDecided,
    CloseApprovalInput,
    NotifyInput,
    OpenApprovalInput,
    OpenApprovalResult,
    PersistProcessInput,
    RecordVoteInput,
)
from contracts.resolution import ResolutionStep, ResolutionStepResult
from contracts.retention import ACTIVITY_EXPIRE_DRAFTS
from contracts.webhooks import (
    ACT_DELIVER,
    ACT_DELIVER_BATCH,
    ACT_GIVE_UP,
    ACT_PLAN,
    DeliverBatchIn,
    DeliverBatchOut,
    DeliverIn,
    DeliverOut,
    PlanIn,
    PlanOut,
)


def _stub() -> NoReturn:
    raise NotImplementedError("a stub: the worker runs the activity of the same name")


# --- process and approval ---


@activity.defn(name="persist_process_state")
async def persist_process_state(data: PersistProcessInput) -> bool:
    _stub()


@activity.defn(name="open_approval")
async def open_approval(data: OpenApprovalInput) -> OpenApprovalResult:
    _stub()


@activity.defn(name="record_vote")
async def record_vote(data: RecordVoteInput) -> None:
    _stub()


@activity.defn(name="close_approval")
async def close_approval(data: CloseApprovalInput) -> None:
    _stub()


@activity.defn(name="notify_process")
async def notify_process(data: NotifyInput) -> int:
    _stub()


# --- campaigns ---


@activity.defn(name="campaign_select_audience")
async def select_audience(inp: SelectAudienceIn) -> SelectAudienceOut:
    _stub()


@activity.defn(name="campaign_send_batch")
async def send_batch(inp: SendBatchIn) -> SendBatchOut:
    _stub()


@activity.defn(name="campaign_plan_reminders")
async def plan_reminders(inp: PlanRemindersIn) -> PlanRemindersOut:
    _stub()


@activity.defn(name="campaign_close")
async def close_campaign(inp: CloseCampaignIn) -> None:
    _stub()


@activity.defn(name="campaign_set_deadline")
async def set_campaign_deadline(inp: SetDeadlineIn) -> None:
    _stub()


# --- council resolution ---


@activity.defn(name="apply_resolution_step")
async def apply_resolution_step(step: ResolutionStep) -> ResolutionStepResult:
    _stub()


# --- events (meetings) ---


@activity.defn(name=ACTIVITY_SCHEDULE)
async def meeting_schedule(meeting_id: uuid.UUID) -> MeetingSchedule | None:
    _stub()


@activity.defn(name=ACTIVITY_DELIVER)
async def deliver_meeting_mails(meeting_id: uuid.UUID) -> int:
    _stub()


@activity.defn(name=ACTIVITY_REMIND)
async def send_meeting_reminders(data: ReminderInput) -> int:
    _stub()


@activity.defn(name=ACTIVITY_SWEEP)
async def sweep_meeting_outbox(data: OutboxSweepInput) -> int:
    _stub()


# --- survey drafts ---


@activity.defn(name=ACTIVITY_EXPIRE_DRAFTS)
async def expire_survey_drafts() -> int:
    _stub()


# --- webhooks ---


@activity.defn(name=ACT_PLAN)
async def webhooks_plan_deliveries(inp: PlanIn) -> PlanOut:
    _stub()


@activity.defn(name=ACT_DELIVER_BATCH)
async def webhooks_deliver_batch(inp: DeliverBatchIn) -> DeliverBatchOut:
    _stub()


@activity.defn(name=ACT_DELIVER)
async def webhooks_deliver(inp: DeliverIn) -> DeliverOut:
    _stub()


@activity.defn(name=ACT_GIVE_UP)
async def webhooks_give_up(inp: DeliverIn) -> None:
    _stub()


ALL = [persist_process_state, open_approval, record_vote, close_approval, notify_process,
       select_audience, send_batch, plan_reminders, close_campaign,
       set_campaign_deadline,
       apply_resolution_step,
       meeting_schedule, deliver_meeting_mails, send_meeting_reminders, sweep_meeting_outbox,
       expire_survey_drafts,
       webhooks_plan_deliveries, webhooks_deliver_batch, webhooks_deliver, webhooks_give_up]


# --- signals ---


class ProcessSignals:
    """The signals ProcessWorkflow takes from other workflows (it defines the handlers under
    these names; tests/contracts/test_stubs.py checks they agree)."""

    @workflow.signal(name="approval_decided")
    async def approval_decided(self, input: ApprovalDecided) -> None:
        """An ApprovalWorkflow reports its result to its process."""
