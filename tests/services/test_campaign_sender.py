"""SMTP failures are recorded per invitation: a permanent rejection fails that invitation with
the server's reason, a temporary one stays queued and goes out on the retry, never twice."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import select, text

from infra.devservices import free_port
from services.campaigns import service as campaigns
from services.models.campaign import Invitation
from tests.support.campaigns import add_stakeholders, mail_setup, make_campaign, make_org


class PickyServer:
    """Rejects `bounce@` for good and `later@` once (451), accepts everything else."""

    def __init__(self) -> None:
        self.delivered: Counter[str] = Counter()
        self.deferred: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any,  # noqa: N802
                          address: str, options: Any) -> str:
        if address.startswith("bounce@"):
            return "550 5.1.1 Mailbox unknown"
        if address.startswith("later@") and address not in self.deferred:
            self.deferred.add(address)
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        for rcpt in envelope.rcpt_tos:
            self.delivered[rcpt] += 1
        return "250 Message accepted"


async def test_permanent_and_temporary_smtp_failures(committed_maker):
    maker = committed_maker
    handler = PickyServer()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port("127.0.0.1"))
    controller.start()
    try:
        org_id = await make_org(maker)
        tag = org_id.hex[:8]
        ok, bounce, later = (f"ok@{tag}.example", f"bounce@{tag}.example",
                             f"later@{tag}.example")
        await add_stakeholders(maker, org_id, [{"name": n, "email": e, "group_key": "g"}
                                               for n, e in (("A", ok), ("B", bounce),
                                                            ("C", later))])
        campaign = await make_campaign(maker, org_id,
                                       deadline=datetime.now(UTC) + timedelta(days=5))
        async with maker() as s:
            await campaigns.select_audience(s, campaign.id, secret_key="k" * 40, batch_size=10,
                                            started_at=datetime.now(UTC))
            await s.commit()
        setup = mail_setup(maker, "127.0.0.1", controller.port)

        first = await campaigns.send_batch(setup, campaign.id, kind="invitation",
                                           reminder_no=0, batch_no=0,
                                           planned_at=datetime.now(UTC), rate=0)
        assert (first.sent, first.failed, first.queued) == (1, 1, 1)
        second = await campaigns.send_batch(setup, campaign.id, kind="invitation",
                                            reminder_no=0, batch_no=0,
                                            planned_at=datetime.now(UTC), rate=0)
        assert (second.sent, second.failed, second.queued) == (2, 1, 0)
        assert handler.delivered == Counter({ok: 1, later: 1})

        async with maker() as s:
            ledger = {r[0]: r[1:] for r in (await s.execute(text(
                "SELECT recipient, status, attempts, error FROM outbound_mails "
                "WHERE campaign_id = :c"), {"c": campaign.id})).all()}
            invitations = (await s.scalars(select(Invitation).where(
                Invitation.campaign_id == campaign.id))).all()
        assert ledger[bounce][0] == "failed" and "550" in ledger[bounce][2]
        assert ledger[later][:2] == ("sent", 2)
        assert ledger[ok][:2] == ("sent", 1)
        statuses = Counter(i.status for i in invitations)
        assert statuses == Counter({"sent": 2, "failed": 1})
        failed = next(i for i in invitations if i.status == "failed")
        assert failed.error and "Mailbox unknown" in failed.error
    finally:
        controller.stop()
