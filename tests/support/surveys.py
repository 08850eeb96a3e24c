"""Helpers for the survey tests: a process, a survey campaign and invitations with tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.tokens import hash_token, new_token
from services.models.campaign import Campaign, Invitation
from services.models.process import Process
from services.models.survey import (
    Survey,
    SurveyAnswer,
    SurveyDraft,
    SurveyResponse,
    SurveyResponseLink,
)
from services.surveys.schemas import SurveyCreate
from services.surveys.service import create_survey


async def make_process(session: AsyncSession, org_id: uuid.UUID) -> Process:
    pid = uuid.uuid4()
    process = Process(
        id=pid, organisation_id=org_id, template_key="weiterstadt-vielfaltsstrategie",
        template_version=1, title="Vielfaltsstrategie", starts_on=date(2026, 2, 1),
        status="running", current_phase="kickoff",
        template_snapshot={"phases": [{"key": "planung"}, {"key": "kickoff"}]},
        workflow_id=f"process-{pid}",
    )
    session.add(process)
    await session.flush()
    return process


async def make_survey(session: AsyncSession, process: Process, **body: Any) -> Survey:
    body.setdefault("phase", "kickoff")
    return await create_survey(session, process.id, SurveyCreate.model_validate(body),
                               actor="test@example.org")


@dataclass
class Invite:
    token: str
    invitation: Invitation


async def make_campaign(session: AsyncSession, survey: Survey) -> Campaign:
    campaign = Campaign(
        organisation_id=survey.organisation_id, process_id=survey.process_id, kind="survey",
        target_id=survey.id, title="Einladung", audience={}, reminders=[],
        deadline=datetime.now(UTC) + timedelta(days=30), status="running",
    )
    session.add(campaign)
    await session.flush()
    return campaign


async def make_invites(
    session: AsyncSession, campaign: Campaign, n: int = 1, *, group: str = "buerger",
    tier: int = 1, language: str = "de", status: str = "sent",
    expires_at: datetime | None = None,
) -> list[Invite]:
    out = []
    for _ in range(n):
        token = new_token()
        inv = Invitation(
            campaign_id=campaign.id, organisation_id=campaign.organisation_id,
            stakeholder_id=None, token_hash=hash_token(token), status=status, group_key=group,
            reach_tier=tier, language=language, batch_no=0, expires_at=expires_at,
            sent_at=datetime.now(UTC),
        )
        session.add(inv)
        out.append(Invite(token, inv))
    await session.flush()
    return out


async def counts(session: AsyncSession) -> dict[str, int]:
    """Row counts of every table a submission may write."""
    out = {}
    for name, model in (("responses", SurveyResponse), ("answers", SurveyAnswer),
                        ("links", SurveyResponseLink)):
        out[name] = int(await session.scalar(select(func.count()).select_from(model)) or 0)
    # Drafts of invitations only: a multiplier link's browsers keep theirs under other keys
    # (tests of those commit them, so they outlive their test).
    out["drafts"] = int(await session.scalar(
        select(func.count()).select_from(SurveyDraft).join(
            Invitation, Invitation.token_hash == SurveyDraft.token_hash)) or 0)
    out["responded"] = int(await session.scalar(
        select(func.count()).select_from(Invitation).where(Invitation.status == "responded")
    ) or 0)
    return out
