"""The campaign activities as Temporal runs them (`ActivityEnvironment`: activity context,
heartbeats), against the real database and SMTP sink: selecting the audience and sending a
batch are idempotent, so a retried activity creates no second invitation and sends no mail
twice (the ledger's unique keys and claims)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from temporalio.testing import ActivityEnvironment

from activities.campaigns import select_audience, send_batch
from contracts.campaign import SelectAudienceIn, SelectAudienceOut, SendBatchIn, SendBatchOut
from services.models.campaign import Invitation
from tests.support.campaigns import add_stakeholders, ledger, make_campaign, make_org


async def _campaign(maker, people: int):  # type: ignore[no-untyped-def]
    org_id = await make_org(maker)
    await add_stakeholders(maker, org_id, [
        {"name": f"Person {i}", "email": f"p{i}-{org_id.hex[:8]}@example.org",
         "group_key": "politik"} for i in range(people)])
    return await make_campaign(maker, org_id, deadline=datetime.now(UTC) + timedelta(days=14))


async def _invitations(maker, campaign_id: uuid.UUID) -> int:  # type: ignore[no-untyped-def]
    async with maker() as s:
        return int(await s.scalar(select(func.count()).select_from(Invitation).where(
            Invitation.campaign_id == campaign_id)) or 0)


async def test_select_audience_twice_creates_the_invitations_once(committed_maker, worker_env):  # type: ignore[no-untyped-def]
    campaign = await _campaign(committed_maker, 5)
    env = ActivityEnvironment()
    inp = SelectAudienceIn(campaign_id=campaign.id, batch_size=2,
                           started_at=datetime.now(UTC))
    first = await env.run(select_audience, inp)
    assert first == SelectAudienceOut(total=5, batches=3)
    # A retry (the worker died after the commit, before Temporal heard of it): same answer.
    assert await env.run(select_audience, inp) == first
    assert await _invitations(committed_maker, campaign.id) == 5


async def test_send_batch_twice_sends_each_mail_once(committed_maker, worker_env):  # type: ignore[no-untyped-def]
    sink = worker_env
    campaign = await _campaign(committed_maker, 3)
    env = ActivityEnvironment()
    heartbeats: list[object] = []
    env.on_heartbeat = lambda *details: heartbeats.append(details)
    await env.run(select_audience, SelectAudienceIn(campaign_id=campaign.id, batch_size=10,
                                                    started_at=datetime.now(UTC)))
    inp = SendBatchIn(campaign_id=campaign.id, kind="invitation", batch_no=0,
                      planned_at=datetime.now(UTC))
    assert await env.run(send_batch, inp) == SendBatchOut(sent=3)
    # The mails are in the sink when the activity returns (the sink stores before its 250).
    recipients = Counter(m.envelope_to[0] for m in sink.messages)
    assert sorted(recipients.values()) == [1, 1, 1]
    assert heartbeats  # it reports progress, so a long batch is not timed out

    # The retry answers the batch's outcome from the ledger (the same), and sends nothing.
    assert await env.run(send_batch, inp) == SendBatchOut(sent=3)
    assert len(sink.messages) == 3
    rows = await ledger(committed_maker, campaign.id)
    assert len(rows) == 3 and {r["status"] for r in rows} == {"sent"}
    assert len({r["invitation_id"] for r in rows}) == 3
