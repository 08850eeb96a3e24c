"""No mail to anyone without a legal basis: not selected into the audience, and not leased
for sending if the basis is gone by then (the organisation withdrew its public task)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text, update

from services.campaigns import service as campaigns
from services.models.organisation import Organisation
from tests.support.campaigns import (
    add_stakeholders,
    ledger,
    mail_setup,
    make_campaign,
    make_org,
    send_round,
)


async def test_a_stakeholder_without_legal_basis_is_never_mailed(committed_maker, smtp_sink):
    maker = committed_maker
    org_id = await make_org(maker)
    async with maker() as s:
        await s.execute(update(Organisation).where(Organisation.id == org_id)
                        .values(public_task_basis="§ 5 HGO"))
        await s.commit()
    tag = uuid.uuid4().hex[:8]
    consent, task, none = (f"{k}-{tag}@example.org" for k in ("consent", "task", "none"))
    await add_stakeholders(maker, org_id, [
        {"name": "Einwilligung", "email": consent, "group_key": "g"},
        {"name": "Aufgabe", "email": task, "group_key": "g", "legal_basis": "public_task",
         "consent_at": None},
        {"name": "Ohne", "email": none, "group_key": "g", "legal_basis": None,
         "consent_at": None},
    ])
    campaign = await make_campaign(maker, org_id, deadline=datetime.now(UTC) + timedelta(days=9))
    async with maker() as s:
        total, _ = await campaigns.select_audience(s, campaign.id, secret_key="k" * 40,
                                                   batch_size=50, started_at=datetime.now(UTC))
        await s.commit()
    assert total == 2  # the one without a basis gets no invitation at all

    # Between selection and sending the organisation withdraws its public task.
    async with maker() as s:
        await s.execute(update(Organisation).where(Organisation.id == org_id)
                        .values(public_task_basis=None))
        await s.commit()
    setup = mail_setup(maker, smtp_sink.host, smtp_sink.port, max_attempts=3)
    outcome = await send_round(setup, campaign.id)
    assert outcome.sent == 1
    recipients = [m.envelope_to for m in smtp_sink.messages]
    assert recipients.count([consent]) == 1
    assert [task] not in recipients and [none] not in recipients
    statuses = {row["recipient"]: row["status"] for row in await ledger(maker, campaign.id)}
    assert statuses == {consent: "sent", task: "cancelled"}
    async with maker() as s:
        invited = await s.scalar(text(
            "SELECT count(*) FROM invitations i JOIN stakeholders st ON st.id = i.stakeholder_id"
            " WHERE i.campaign_id = :c AND st.email = :e"), {"c": campaign.id, "e": none})
    assert invited == 0
