"""A relay that drops connections at random - before MAIL, after RCPT, after the message -
while a campaign is sent on several pooled connections, with the activity's retries: no
person gets a mail twice, none is lost, and every mail whose delivery the relay did not
confirm is counted as unconfirmed on the campaign."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from services.campaigns import service as campaigns
from tests.support.campaigns import (
    add_stakeholders,
    mail_setup,
    make_campaign,
    make_org,
    send_round,
)
from tests.support.faulty_relay import FaultyRelay

PEOPLE = 400


async def test_random_drops_no_duplicate_no_loss_unconfirmed_counted(committed_maker):
    maker = committed_maker
    relay = FaultyRelay({"mail": 0.04, "rcpt": 0.04, "data": 0.02}).start()
    try:
        org_id = await make_org(maker)
        tag = org_id.hex[:8]
        emails = [f"p{i}@{tag}.example" for i in range(PEOPLE)]
        await add_stakeholders(maker, org_id, [{"name": f"P {i}", "email": e, "group_key": "g"}
                                               for i, e in enumerate(emails)])
        campaign = await make_campaign(maker, org_id,
                                       deadline=datetime.now(UTC) + timedelta(days=5))
        async with maker() as s:
            await campaigns.select_audience(s, campaign.id, secret_key="k" * 40,
                                            batch_size=PEOPLE, started_at=datetime.now(UTC))
            await s.commit()
        setup = mail_setup(maker, relay.host, relay.port, connections=4, max_attempts=50)
        # The activity's retries, as Temporal would run them after smtp_temporary.
        for _attempt in range(40):
            outcome = await send_round(setup, campaign.id)
            if not outcome.queued:
                break
        assert outcome.queued == 0, outcome
        print(f"drops: {dict(relay.drops)}")
        assert all(relay.drops[stage] > 0 for stage in ("mail", "rcpt", "data")), relay.drops

        assert [a for a, n in relay.delivered.items() if n > 1] == []
        assert [m for m, n in relay.message_ids.items() if n > 1] == []
        assert sorted(relay.delivered) == sorted(emails)  # none lost
        async with maker() as s:
            statuses = dict((await s.execute(text(
                "SELECT status, count(*) FROM outbound_mails WHERE campaign_id = :c "
                "GROUP BY status"), {"c": campaign.id})).all())
            out = await campaigns.campaign_out(s, await campaigns.get_campaign(s, campaign.id))
        # Every drop after the message is a mail without confirmation, and is shown as one.
        assert statuses.get("unconfirmed", 0) == relay.drops["data"]
        assert out.unconfirmed == relay.drops["data"]
        assert out.sent + out.unconfirmed == relay.count == PEOPLE
        assert statuses == {"sent": PEOPLE - relay.drops["data"],
                            **({"unconfirmed": relay.drops["data"]})}
    finally:
        relay.stop()
