"""InvitationCampaignWorkflow on the time-skipping server, with real activities, PostgreSQL
and an SMTP sink: invitations once, reminders only to non-respondents on the right days,
nothing after the deadline."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from composition.worker import build_workers
from contracts.campaign import CampaignInput
from infra import mail as infra_mail
from infra.mail import MailTransport
from services.campaigns import service as campaigns
from services.models.campaign import Invitation
from services.models.domain_event import DomainEvent
from services.models.stakeholder import Stakeholder
from tests.support.campaigns import (
    add_stakeholders,
    campaign_row,
    ledger,
    make_campaign,
    make_org,
    wait_for,
)
from workflows.campaign import InvitationCampaignWorkflow

REPLAY_FILE = Path(__file__).parents[1] / "replay" / "histories" / "campaign_reminders.json"


async def test_reminders_only_to_non_respondents_and_stop_at_deadline(
        time_skipping_env, committed_maker, smtp_sink):
    env = time_skipping_env
    maker = committed_maker
    infra_mail.configure(MailTransport(smtp_sink.host, smtp_sink.port))
    org_id = await make_org(maker)
    people = [{"name": f"Person {i}", "email": f"p{i}-{org_id.hex[:6]}@example.org",
               "group_key": "verwaltung" if i % 2 else "politik"} for i in range(8)]
    outsider = {"name": "Nicht Gemeint", "email": f"x-{org_id.hex[:6]}@example.org",
                "group_key": "zivilgesellschaftliche-gruppen"}
    gone = {"name": "Abgemeldet", "email": f"u-{org_id.hex[:6]}@example.org",
            "group_key": "politik"}
    english = {"name": "Jane Doe", "email": f"en-{org_id.hex[:6]}@example.org",
               "group_key": "politik", "language": "en"}
    await add_stakeholders(maker, org_id, [*people, outsider, gone, english])
    async with maker() as s:
        await s.execute(update(Stakeholder).where(Stakeholder.email == gone["email"])
                        .values(unsubscribed_at=datetime.now(UTC)))
        await s.commit()

    now = await env.get_current_time()
    deadline = now + timedelta(days=21)
    campaign = await make_campaign(maker, org_id, deadline=deadline,
                                   reminders=["P7D", "P14D", "P30D"],
                                   groups=["Verwaltung", "Politik"])
    queue = f"camp-{uuid.uuid4().hex[:8]}"
    mail_queue = queue + "-mail"
    workers = build_workers(env.client, task_queue=queue, mail_task_queue=mail_queue)
    async with workers[0], workers[1]:
        handle = await env.client.start_workflow(
            InvitationCampaignWorkflow.run,
            CampaignInput(campaign_id=campaign.id, organisation_id=org_id, deadline=deadline,
                          reminders=["P7D", "P14D", "P30D"], batch_size=3,
                          mail_task_queue=mail_queue),
            id=f"campaign-{campaign.id}", task_queue=queue)

        async def all_invited() -> bool:
            async with maker() as s:
                out = await campaigns.campaign_out(s, await campaigns.get_campaign(s, campaign.id))
            return out.total == 9 and out.sent == 9

        await wait_for(all_invited)
        async with maker() as s:
            invitations = list((await s.scalars(
                select(Invitation).where(Invitation.campaign_id == campaign.id)
                .order_by(Invitation.id))).all())
            # Three answer before the first reminder, one declines.
            for inv in invitations[:3]:
                assert await campaigns.mark_invitation_responded(s, inv.id)
            await s.execute(update(Invitation).where(Invitation.id == invitations[3].id)
                            .values(status="declined", declined_at=datetime.now(UTC)))
            await s.commit()
        early = {i.id for i in invitations[:4]}

        await env.sleep(timedelta(days=8))

        async def first_reminder_done() -> bool:
            rows = [r for r in await ledger(maker, campaign.id)
                    if r["kind"] == "reminder" and r["reminder_no"] == 1]
            return len(rows) == 5 and all(r["status"] == "sent" for r in rows)

        await wait_for(first_reminder_done)
        async with maker() as s:
            assert await campaigns.mark_invitation_responded(s, invitations[4].id)
            await s.commit()

        result = await handle.result()
        if os.environ.get("RECORD_CAMPAIGN_HISTORY"):
            # Re-record the replay fixture (tests/replay/test_campaign_replay.py).
            history = await handle.fetch_history()
            REPLAY_FILE.write_text(history.to_json())

    assert result.stage == "closed"
    rows = await ledger(maker, campaign.id)
    started = (await campaign_row(maker, campaign.id)).started_at
    assert started is not None
    by_kind = Counter((r["kind"], r["reminder_no"]) for r in rows)
    assert by_kind == {("invitation", 0): 9, ("reminder", 1): 5, ("reminder", 2): 4}
    first = {r["invitation_id"] for r in rows if r["reminder_no"] == 1}
    second = {r["invitation_id"] for r in rows if r["reminder_no"] == 2}
    assert not first & early
    assert second == first - {invitations[4].id}
    for r in rows:
        if r["kind"] == "reminder":
            days = (r["planned_at"] - started) / timedelta(days=1)
            assert round(days, 3) == 7 * r["reminder_no"], (r["reminder_no"], days)
    row = await campaign_row(maker, campaign.id)
    assert row.status == "closed"
    # Progress reaches the event feed (and so SSE) once per batch, never per recipient.
    async with maker() as s:
        types = Counter((await s.scalars(select(DomainEvent.type).where(
            DomainEvent.organisation_id == org_id))).all())
    assert types["campaign.invitation_batch_sent"] == 3
    assert types["campaign.reminder_batch_sent"] >= 2 and types["campaign.closed"] == 1
    assert abs((row.closed_at - deadline).total_seconds()) < 60

    # The SMTP sink saw exactly these mails: one invitation per addressee, none to the
    # unsubscribed or the outsider, reminders in the addressee's language.
    subjects: Counter[tuple[str, str]] = Counter()
    for mail in smtp_sink.messages:
        msg = mail.message
        subjects[(mail.envelope_to[0], msg["Subject"].split(":")[0])] += 1
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "Stadt Weiterstadt" in msg["From"]
    assert not any(addr in (gone["email"], outsider["email"]) for addr, _ in subjects)
    invited = [a for (a, kind), n in subjects.items() if kind in ("Einladung", "Invitation")]
    assert len(invited) == 9 and all(subjects[(a, k)] == 1 for (a, k) in subjects
                                     if k in ("Einladung", "Invitation"))
    assert (english["email"], "Invitation") in subjects
    assert sum(n for (_, k), n in subjects.items() if k in ("Erinnerung", "Reminder")) == 9


async def test_continue_as_new_keeps_every_mail_exactly_once(
        time_skipping_env, committed_maker, smtp_sink):
    env = time_skipping_env
    maker = committed_maker
    infra_mail.configure(MailTransport(smtp_sink.host, smtp_sink.port))
    org_id = await make_org(maker)
    emails = [f"can{i}-{org_id.hex[:6]}@example.org" for i in range(12)]
    await add_stakeholders(maker, org_id, [{"name": f"P{i}", "email": e, "group_key": "g"}
                                           for i, e in enumerate(emails)])
    deadline = await env.get_current_time() + timedelta(days=2)
    campaign = await make_campaign(maker, org_id, deadline=deadline)
    queue = f"can-{uuid.uuid4().hex[:8]}"
    workers = build_workers(env.client, task_queue=queue, mail_task_queue=queue + "-mail")
    async with workers[0], workers[1]:
        handle = await env.client.start_workflow(
            InvitationCampaignWorkflow.run,
            CampaignInput(campaign_id=campaign.id, organisation_id=org_id, deadline=deadline,
                          batch_size=2, parallel_batches=2, mail_task_queue=queue + "-mail",
                          history_limit=12),
            id=f"campaign-{campaign.id}", task_queue=queue)
        result = await handle.result()
    assert result.stage == "closed" and result.total == 12 and result.sent == 12
    # The run that finished is not the first: the history was cut by continue-as-new.
    first = await env.client.get_workflow_handle(
        f"campaign-{campaign.id}", run_id=handle.first_execution_run_id).fetch_history()
    assert first.events[-1].HasField("workflow_execution_continued_as_new_event_attributes")
    sent_to = Counter(m.envelope_to[0] for m in smtp_sink.messages)
    assert sent_to == Counter(emails)
