"""A relay that closes idle connections (every real one does, after a few minutes) must not
make the sender deliver a mail twice: campaigns and reminder rounds separated by more than the
relay's idle timeout, on one pooled transport as in the worker — exactly one mail per
invitation and per reminder, and the campaign's counters equal the mails received."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from infra.mailsink import MailSink
from services.campaigns import service as campaigns
from tests.support.campaigns import (
    add_stakeholders,
    mail_setup,
    make_campaign,
    make_org,
    send_round,
)

IDLE_TIMEOUT = 0.5
PEOPLE = 9
CONNECTIONS = 3


@pytest.mark.slow  # waits out the relay's idle timeout between rounds, by design
async def test_idle_relay_never_gets_a_mail_twice(committed_maker):
    maker = committed_maker
    sink = MailSink(keep_in_memory=True, idle_timeout=IDLE_TIMEOUT).start()
    try:
        org_id = await make_org(maker)
        tag = org_id.hex[:8]
        emails = [f"p{i}@{tag}.example" for i in range(PEOPLE)]
        await add_stakeholders(maker, org_id, [{"name": f"P {i}", "email": e, "group_key": "g"}
                                               for i, e in enumerate(emails)])
        deadline = datetime.now(UTC) + timedelta(days=5)
        first = await make_campaign(maker, org_id, deadline=deadline)
        second = await make_campaign(maker, org_id, deadline=deadline)
        for campaign in (first, second):
            async with maker() as s:
                await campaigns.select_audience(s, campaign.id, secret_key="k" * 40,
                                                batch_size=50, started_at=datetime.now(UTC))
                await s.commit()
        # One transport for all rounds, as the worker keeps one: its pooled connections go
        # idle between the rounds and the relay closes them.
        setup = mail_setup(maker, sink.host, sink.port, connections=CONNECTIONS)

        rounds = [(first, "invitation", 0), (second, "invitation", 0),
                  (first, "reminder", 1), (second, "reminder", 1)]
        for campaign, kind, reminder_no in rounds:
            outcome = await send_round(setup, campaign.id, kind=kind, reminder_no=reminder_no)
            assert (outcome.sent, outcome.failed, outcome.queued) == (PEOPLE, 0, 0), \
                (kind, reminder_no, outcome)
            # Not a wait for something: the idle time between rounds is what this tests (the
            # relay drops the pooled connections meanwhile).
            await asyncio.sleep(IDLE_TIMEOUT * 3)

        # No wait needed: the sink stores a mail before it answers 250, and send_round returns
        # only after every answer, so a mail sent twice is already counted here.
        ids = Counter(m.message["Message-ID"] for m in sink.messages)
        assert [i for i, n in ids.items() if n > 1] == []
        per_round = Counter((m.envelope_to[0], m.message["Subject"].split(":")[0])
                            for m in sink.messages)
        assert set(per_round.values()) == {2}  # each person: one per campaign, per kind
        assert sink.count == len(rounds) * PEOPLE
        for campaign in (first, second):
            async with maker() as s:
                out = await campaigns.campaign_out(s, await campaigns.get_campaign(
                    s, campaign.id))
            assert (out.sent, out.reminded, out.unconfirmed) == (PEOPLE, PEOPLE, 0)
    finally:
        sink.stop()
