"""Helpers shared by the campaign tests: committed organisations, stakeholders, campaigns."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from infra.db import session_scope
from infra.mail import MailTransport
from services.campaigns import service as campaigns
from services.campaigns.schemas import Audience, CampaignCreate
from services.identity.service import create_organisation
from services.models.campaign import Campaign
from services.models.stakeholder import Stakeholder
from services.stakeholders.repository import StakeholderRepository

CONSENT_AT = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


async def make_org(maker: async_sessionmaker[AsyncSession], name: str = "Stadt Weiterstadt"
                   ) -> uuid.UUID:
    slug = f"camp-{uuid.uuid4().hex[:10]}"
    async with maker() as s:
        org = await create_organisation(s, slug, name)
        await s.commit()
        return org.id


async def add_groups(maker: async_sessionmaker[AsyncSession], org_id: uuid.UUID,
                     *keys: str) -> None:
    """Groups the organisation knows (as if added through POST /orgs/{slug}/groups)."""
    async with maker() as s:
        await StakeholderRepository.from_session(s).add_groups(
            org_id, [(k, k) for k in keys], "manual")
        await s.commit()


async def add_stakeholders(maker: async_sessionmaker[AsyncSession], org_id: uuid.UUID,
                           rows: list[dict[str, Any]]) -> None:
    # Recorded consent by default (no legal basis: never mailed), and their groups known to
    # the organisation (as an import with create_groups=true would leave them).
    full = [{"kind": "person", "tags": [], "language": "de", "reach_tier": 1,
             "legal_basis": "consent", "consent_at": CONSENT_AT, **r} for r in rows]
    async with maker() as s:
        repo = StakeholderRepository.from_session(s)
        await repo.add_groups(org_id, [(g, g) for g in sorted({r["group_key"] for r in full})],
                              "import")
        await repo.bulk_upsert(org_id, full)
        await s.commit()


async def make_campaign(maker: async_sessionmaker[AsyncSession], org_id: uuid.UUID, *,
                        deadline: datetime, reminders: list[str] | None = None,
                        groups: list[str] | None = None, title: str = "Bedarfe und Wünsche"
                        ) -> Campaign:
    async with maker() as s:
        campaign = await campaigns.create_campaign(
            s, org_id, None,
            CampaignCreate(kind="survey", target_id=uuid.uuid4(), title=title,
                           audience=Audience(groups=groups or []),
                           reminders=reminders or [], deadline=deadline))
        await s.commit()
        return campaign


async def ledger(maker: async_sessionmaker[AsyncSession], campaign_id: uuid.UUID
                 ) -> list[dict[str, Any]]:
    async with maker() as s:
        rows = await s.execute(text(
            "SELECT m.kind, m.reminder_no, m.status, m.planned_at, m.recipient, m.invitation_id"
            " FROM outbound_mails m WHERE m.campaign_id = :c"), {"c": campaign_id})
        return [dict(r._mapping) for r in rows]


async def campaign_row(maker: async_sessionmaker[AsyncSession], campaign_id: uuid.UUID
                       ) -> Campaign:
    async with maker() as s:
        return (await s.scalars(select(Campaign).where(Campaign.id == campaign_id))).one()


async def audience_of_one(session: AsyncSession, org_id: uuid.UUID) -> Stakeholder:
    """The group 'politik' and one consenting person in it (tier 1), in the caller's
    session, so a campaign for the group reaches exactly one."""
    await StakeholderRepository.from_session(session).add_groups(
        org_id, [("politik", "Politik")], "manual")
    person = Stakeholder(organisation_id=org_id, kind="person", name="Paula Politik",
                         email=f"paula-{uuid.uuid4().hex[:6]}@example.org", group_key="politik",
                         reach_tier=1, language="de", legal_basis="consent",
                         consent_at=datetime.now(UTC))
    session.add(person)
    await session.flush()
    return person


def mail_setup(maker: async_sessionmaker[AsyncSession], host: str, port: int, *,
               connections: int = 2, max_attempts: int = 5) -> campaigns.MailSetup:
    """What the worker gives the send step, pointed at a test's SMTP server: one pooled
    transport (as the worker keeps one) with as many connections as the sender uses."""
    return campaigns.MailSetup(
        transport=MailTransport(host, port, pool_size=max(connections, 4)),
        maker=lambda: session_scope(maker), secret_key="k" * 40,
        public_url="http://testserver", mail_from="beteiligung@localhost",
        connections=connections, max_attempts=max_attempts)


async def send_round(setup: campaigns.MailSetup, campaign_id: uuid.UUID, *,
                     kind: str = "invitation", reminder_no: int = 0,
                     batch_no: int = 0) -> campaigns.BatchOutcome:
    """One attempt of the send activity for a batch, unthrottled."""
    return await campaigns.send_batch(setup, campaign_id, kind=kind, reminder_no=reminder_no,
                                      batch_no=batch_no, planned_at=datetime.now(UTC), rate=0)


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    """Poll until the predicate holds (no fixed sleeps as waits)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)
