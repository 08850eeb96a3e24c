"""Helpers for the event (meeting) tests: a committed organisation, process, event, event
campaign and personal links."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.campaigns.tokens import hash_token, new_token
from services.identity.service import create_organisation
from services.meetings import service
from services.meetings.schemas import MeetingCreate
from services.models.campaign import Campaign, Invitation
from services.models.meeting import Meeting, MeetingRegistration
from services.models.process import Process
from services.models.stakeholder import Stakeholder

CONSENT_AT = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


@dataclass
class Setup:
    org_id: uuid.UUID
    process_id: uuid.UUID
    meeting_id: uuid.UUID
    campaign_id: uuid.UUID


async def make_event(maker: async_sessionmaker[AsyncSession], *, capacity: int = 20,
                     starts_at: datetime | None = None, org_id: uuid.UUID | None = None,
                     **extra: Any) -> Setup:
    starts_at = starts_at or datetime.now(UTC) + timedelta(days=30)
    async with maker() as s:
        if org_id is None:
            org = await create_organisation(s, f"ev-{uuid.uuid4().hex[:10]}", "Stadt Weiterstadt")
            org_id = org.id
        pid = uuid.uuid4()
        process = Process(
            id=pid, organisation_id=org_id, template_key="weiterstadt-vielfaltsstrategie",
            template_version=1, title="Vielfaltsstrategie", starts_on=date(2026, 2, 1),
            status="running", current_phase="kick-off",
            template_snapshot={"phases": [{"key": "planung"}, {"key": "kick-off"}]},
            workflow_id=f"process-{pid}")
        s.add(process)
        await s.flush()
        meeting = await service.create_meeting(s, process, MeetingCreate(
            phase="kick-off", title="Kick-off-Veranstaltung", starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2), location="Bürgerhaus, Saal 1",
            accessibility="Stufenloser Zugang, Induktionsschleife", capacity=capacity,
            **extra), actor="koordination@example.org")
        campaign = Campaign(
            organisation_id=org_id, process_id=pid, kind="event", target_id=meeting.id,
            title=meeting.title, audience={}, reminders=[],
            deadline=starts_at - timedelta(days=1), status="running")
        s.add(campaign)
        await s.commit()
        return Setup(org_id, pid, meeting.id, campaign.id)


async def make_links(maker: async_sessionmaker[AsyncSession], setup: Setup, n: int, *,
                     language: str = "de") -> list[str]:
    tokens = []
    async with maker() as s:
        for i in range(n):
            token = new_token()
            person = Stakeholder(
                organisation_id=setup.org_id, kind="person", name=f"Person {i:02d}",
                email=f"person{i:02d}-{uuid.uuid4().hex[:6]}@example.org", group_key="buerger",
                reach_tier=1, language=language, legal_basis="consent", consent_at=CONSENT_AT)
            s.add(person)
            await s.flush()
            s.add(Invitation(
                campaign_id=setup.campaign_id, organisation_id=setup.org_id,
                stakeholder_id=person.id, token_hash=hash_token(token), status="sent",
                group_key="buerger", reach_tier=1, language=language, batch_no=0,
                sent_at=datetime.now(UTC)))
            tokens.append(token)
        await s.commit()
    return tokens


async def registrations(maker: async_sessionmaker[AsyncSession], meeting_id: uuid.UUID
                        ) -> list[MeetingRegistration]:
    async with maker() as s:
        return list((await s.scalars(select(MeetingRegistration).where(
            MeetingRegistration.meeting_id == meeting_id).order_by(
                MeetingRegistration.seq))).all())


async def meeting(maker: async_sessionmaker[AsyncSession], meeting_id: uuid.UUID) -> Meeting:
    async with maker() as s:
        found = await s.get(Meeting, meeting_id)
        assert found is not None
        return found


def delivery_setup(maker: async_sessionmaker[AsyncSession], port: int):  # type: ignore[no-untyped-def]
    from infra.mail import MailTransport
    from services.meetings.delivery import DeliverySetup

    return DeliverySetup(transport=MailTransport("127.0.0.1", port), maker=maker,
                         mail_from="beteiligung@weiterstadt.example",
                         public_url="http://testserver", secret_key="test-secret-key")


def calendar_of(raw: bytes):  # type: ignore[no-untyped-def]
    """(method param of the MIME part, the parsed VCALENDAR) of a mail, or None."""
    import email
    import email.policy

    from icalendar import Calendar

    msg = email.message_from_bytes(raw, policy=email.policy.default)
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            return part, Calendar.from_ical(part.get_content())
    return None
