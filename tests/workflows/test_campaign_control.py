"""Steering a running InvitationCampaignWorkflow (time-skipping server, real activities,
PostgreSQL and an SMTP sink): `cancel` stops further batches and reminders without sending
anything twice; `move_deadline` refuses a past date in its validator and, accepted, moves the
close and drops the reminders after the new deadline."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.routes.campaigns import cancel_running
from composition.worker import build_workers
from contracts.campaign import DEADLINE_REFUSED, CampaignInput, MoveDeadlineRequest
from infra import mail as infra_mail
from infra.mail import MailTransport
from services.campaigns import service as campaigns
from tests.support.campaigns import (
    add_stakeholders,
    campaign_row,
    ledger,
    make_campaign,
    make_org,
    wait_for,
)
from workflows.campaign import InvitationCampaignWorkflow

CONTROL_HISTORY = (Path(__file__).parents[1] / "replay" / "histories"
                   / "campaign_cancel_deadline.json")


async def _people(maker, org_id, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    emails = [f"ctl{i}-{org_id.hex[:6]}@example.org" for i in range(n)]
    await add_stakeholders(maker, org_id, [{"name": f"P{i}", "email": e, "group_key": "g"}
                                           for i, e in enumerate(emails)])
    return emails


async def _cancel(maker, client, campaign_id) -> None:  # type: ignore[no-untyped-def]
    """What the API and the page do (api/routes/campaigns.py cancel_running)."""
    async with maker() as s:
        row = await campaigns.get_campaign(s, campaign_id)
        await cancel_running(s, client, row, actor="koordination@example.org")


async def _progress(maker, campaign_id):  # type: ignore[no-untyped-def]
    async with maker() as s:
        return await campaigns.campaign_out(s, await campaigns.get_campaign(s, campaign_id))


async def test_cancel_mid_send_stops_the_batches_and_sends_nothing_twice(  # type: ignore[no-untyped-def]
        time_skipping_env, committed_maker, smtp_sink):
    env, maker = time_skipping_env, committed_maker
    infra_mail.configure(MailTransport(smtp_sink.host, smtp_sink.port))
    org_id = await make_org(maker)
    emails = await _people(maker, org_id, 12)
    deadline = await env.get_current_time() + timedelta(days=21)
    campaign = await make_campaign(maker, org_id, deadline=deadline, reminders=["P7D"])
    queue = f"ctl-{uuid.uuid4().hex[:8]}"
    workers = build_workers(env.client, task_queue=queue, mail_task_queue=queue + "-mail")
    async with workers[0], workers[1]:
        # Two mails per batch, one batch at a time, 4 mails a second: about 3 s of sending,
        # long enough to cancel in the middle.
        handle = await env.client.start_workflow(
            InvitationCampaignWorkflow.run,
            CampaignInput(campaign_id=campaign.id, organisation_id=org_id, deadline=deadline,
                          reminders=["P7D"], batch_size=2, parallel_batches=1,
                          rate_per_second=4.0, mail_task_queue=queue + "-mail"),
            id=f"campaign-{campaign.id}", task_queue=queue)

        async def some_sent() -> bool:
            return len(smtp_sink.messages) >= 2

        await wait_for(some_sent)
        await _cancel(maker, env.client, campaign.id)
        # A deadline update after the cancel is refused with the reason.
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                InvitationCampaignWorkflow.move_deadline,
                MoveDeadlineRequest(deadline=deadline + timedelta(days=1)))
        assert isinstance(refused.value.cause, ApplicationError)
        assert "bereits beendet" in refused.value.cause.message
        result = await handle.result()
        # Well before the deadline and the reminder: the run ends with the cancel.
        closed = (await handle.describe()).close_time
        assert closed is not None and closed < deadline - timedelta(days=20)

    assert result.stage == "cancelled"
    row = await campaign_row(maker, campaign.id)
    assert row.status == "cancelled" and row.closed_at is not None
    out = await _progress(maker, campaign.id)
    sent_to = Counter(m.envelope_to[0] for m in smtp_sink.messages)
    assert set(sent_to.values()) == {1}  # nobody twice
    assert set(sent_to) <= set(emails)
    assert 2 <= len(sent_to) < 12
    # Each invitation is either handed to the relay or shown as cancelled, none is pending.
    assert out.sent + out.unconfirmed == len(sent_to)
    assert out.cancelled == 12 - len(sent_to) and out.pending == 0
    assert {r["kind"] for r in await ledger(maker, campaign.id)} == {"invitation"}


async def test_moved_deadline_closes_early_and_drops_later_reminders(  # type: ignore[no-untyped-def]
        time_skipping_env, committed_maker, smtp_sink):
    env, maker = time_skipping_env, committed_maker
    infra_mail.configure(MailTransport(smtp_sink.host, smtp_sink.port))
    org_id = await make_org(maker)
    await _people(maker, org_id, 3)
    now = await env.get_current_time()
    deadline = now + timedelta(days=21)
    campaign = await make_campaign(maker, org_id, deadline=deadline, reminders=["P7D", "P14D"])
    queue = f"ctl-{uuid.uuid4().hex[:8]}"
    workers = build_workers(env.client, task_queue=queue, mail_task_queue=queue + "-mail")
    async with workers[0], workers[1]:
        handle = await env.client.start_workflow(
            InvitationCampaignWorkflow.run,
            CampaignInput(campaign_id=campaign.id, organisation_id=org_id, deadline=deadline,
                          reminders=["P7D", "P14D"], batch_size=2,
                          mail_task_queue=queue + "-mail",
                          # As for an event starting in 25 days (api/routes/campaigns.py).
                          latest_deadline=now + timedelta(days=25)),
            id=f"campaign-{campaign.id}", task_queue=queue)

        async def invited() -> bool:
            return (await _progress(maker, campaign.id)).sent == 3

        await wait_for(invited)
        with pytest.raises(WorkflowUpdateFailedError) as after_event:
            await handle.execute_update(
                InvitationCampaignWorkflow.move_deadline,
                MoveDeadlineRequest(deadline=now + timedelta(days=26)))
        assert "nach dem Beginn der Veranstaltung" in str(after_event.value.cause)
        # The validator refuses a past deadline, with the reason; nothing changes.
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                InvitationCampaignWorkflow.move_deadline,
                MoveDeadlineRequest(deadline=now - timedelta(days=1)))
        cause = refused.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == DEADLINE_REFUSED
        assert "Vergangenheit" in cause.message
        assert (await campaign_row(maker, campaign.id)).deadline == deadline

        new_deadline = now + timedelta(days=10)
        progress = await handle.execute_update(
            InvitationCampaignWorkflow.move_deadline,
            MoveDeadlineRequest(deadline=new_deadline, actor="koordination@example.org"))
        assert progress.deadline == new_deadline
        assert (await campaign_row(maker, campaign.id)).deadline == new_deadline
        result = await handle.result()

    assert result.stage == "closed"
    row = await campaign_row(maker, campaign.id)
    assert row.status == "closed"
    assert abs((row.closed_at - new_deadline).total_seconds()) < 60
    kinds = Counter((r["kind"], r["reminder_no"]) for r in await ledger(maker, campaign.id))
    # Reminder 1 (day 7) is before the new deadline, reminder 2 (day 14) after it.
    assert kinds == {("invitation", 0): 3, ("reminder", 1): 3}
    assert len(smtp_sink.messages) == 6


async def test_deadline_update_then_cancel_during_the_reminder_wait(  # type: ignore[no-untyped-def]
        time_skipping_env, committed_maker, smtp_sink):
    """The history tests/replay/test_campaign_replay.py replays for the patched code: a moved
    deadline, one reminder, then a cancel while waiting for the next. Re-record with
    RECORD_CAMPAIGN_HISTORY=1."""
    env, maker = time_skipping_env, committed_maker
    infra_mail.configure(MailTransport(smtp_sink.host, smtp_sink.port))
    org_id = await make_org(maker)
    await _people(maker, org_id, 3)
    now = await env.get_current_time()
    deadline = now + timedelta(days=30)
    campaign = await make_campaign(maker, org_id, deadline=deadline,
                                   reminders=["P7D", "P14D"])
    queue = f"ctl-{uuid.uuid4().hex[:8]}"
    workers = build_workers(env.client, task_queue=queue, mail_task_queue=queue + "-mail")
    async with workers[0], workers[1]:
        handle = await env.client.start_workflow(
            InvitationCampaignWorkflow.run,
            CampaignInput(campaign_id=campaign.id, organisation_id=org_id, deadline=deadline,
                          reminders=["P7D", "P14D"], batch_size=2,
                          mail_task_queue=queue + "-mail"),
            id=f"campaign-{campaign.id}", task_queue=queue)

        async def invited() -> bool:
            return (await _progress(maker, campaign.id)).sent == 3

        await wait_for(invited)
        await handle.execute_update(InvitationCampaignWorkflow.move_deadline,
                                    MoveDeadlineRequest(deadline=now + timedelta(days=20)))
        await env.sleep(timedelta(days=8))

        async def reminded() -> bool:
            rows = await ledger(maker, campaign.id)
            return sum(1 for r in rows if r["kind"] == "reminder" and r["status"] == "sent") == 3

        await wait_for(reminded)
        await _cancel(maker, env.client, campaign.id)
        result = await handle.result()
        if os.environ.get("RECORD_CAMPAIGN_HISTORY"):
            CONTROL_HISTORY.write_text((await handle.fetch_history()).to_json())

    assert result.stage == "cancelled" and result.reminders_done == 1
    assert (await campaign_row(maker, campaign.id)).status == "cancelled"
    kinds = Counter((r["kind"], r["reminder_no"]) for r in await ledger(maker, campaign.id))
    assert kinds == {("invitation", 0): 3, ("reminder", 1): 3}
    assert len(smtp_sink.messages) == 6


def test_deadline_rule() -> None:
    """contracts.campaign.deadline_problem, the validator's rule, on its own."""
    from datetime import UTC, datetime

    from contracts.campaign import deadline_problem

    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    event = datetime(2026, 12, 20, 18, 0, tzinfo=UTC)
    assert deadline_problem(now + timedelta(days=1), now, None) is None
    assert "Vergangenheit" in (deadline_problem(now, now, None) or "")
    assert "Vergangenheit" in (deadline_problem(now - timedelta(days=1), now, event) or "")
    assert "nach dem Beginn der Veranstaltung" in (
        deadline_problem(event + timedelta(minutes=1), now, event) or "")
    assert deadline_problem(event, now, event) is None
    assert "Zeitzone" in (deadline_problem(datetime(2026, 12, 5), now, None) or "")
