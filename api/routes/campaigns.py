"""Invitation campaigns (API.md): launch for a process, live progress; participants' decline
and unsubscribe by token."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.deps import CurrentUser, SessionDep, SettingsDep, TemporalDep
from api.meeting_control import commit_and_wake
from api.process_control import start_or_unavailable
from api.ratelimit import participation_limits
from contracts.campaign import CampaignInput
from contracts.ids import campaign_workflow_id
from contracts.queues import MAIL_TASK_QUEUE
from infra.config import Settings
from services.campaigns import service
from services.campaigns.schemas import Audience, CampaignCreate, CampaignOut
from services.campaigns.settings import get_campaign_settings
from services.meetings import service as meetings
from services.meetings.schemas import RegistrationIn
from services.models.campaign import Campaign
from services.models.organisation import Role
from services.processes.service import process_for
from workflows.campaign import InvitationCampaignWorkflow

router = APIRouter(prefix="/api/v1", tags=["campaigns"])
participation = APIRouter(prefix="/api/v1/participation", tags=["participation"])

READERS = (Role.coordinator, Role.steering)


def campaign_input(campaign: Campaign, settings: Settings) -> CampaignInput:
    knobs = get_campaign_settings()
    return CampaignInput(
        campaign_id=campaign.id, organisation_id=campaign.organisation_id,
        deadline=campaign.deadline, reminders=list(campaign.reminders),
        batch_size=knobs.batch_size, parallel_batches=knobs.parallel_batches,
        rate_per_second=settings.mail_rate_per_second, mail_task_queue=MAIL_TASK_QUEUE,
    )


async def launch_campaign(session: AsyncSession, client: Client, settings: Settings,
                          org_id: uuid.UUID, process_id: uuid.UUID, body: CampaignCreate, *,
                          actor: str | None) -> Campaign:
    """Create the campaign (target and audience checked) and start its workflow; shared by
    the API and the campaign page. If the workflow cannot start, the campaign says so
    (failed), so no row claims to run without a workflow."""
    body = await service.check_target(session, org_id, process_id, body)
    campaign = await service.create_campaign(session, org_id, process_id, body, actor=actor)
    await start_or_unavailable(
        session, client, InvitationCampaignWorkflow.run, campaign_input(campaign, settings),
        id=campaign_workflow_id(campaign.id),
        undo=lambda: service.mark_failed(session, campaign.id, "workflow not started"))
    return campaign


class AudienceCount(BaseModel):
    count: int


@router.post("/processes/{process_id}/campaigns/audience", response_model=AudienceCount)
async def audience_preview(process_id: uuid.UUID, body: Audience, session: SessionDep,
                           principal: CurrentUser) -> AudienceCount:
    """How many the audience reaches now, shown before a campaign is started."""
    process = await process_for(session, principal, process_id, Role.coordinator)
    return AudienceCount(count=await service.audience_size(session, process.organisation_id,
                                                           body))


@router.post("/processes/{process_id}/campaigns", response_model=CampaignOut,
             status_code=status.HTTP_201_CREATED)
async def create(process_id: uuid.UUID, body: CampaignCreate, session: SessionDep,
                 principal: CurrentUser, client: TemporalDep,
                 settings: SettingsDep) -> CampaignOut:
    process = await process_for(session, principal, process_id, Role.coordinator)
    campaign = await launch_campaign(session, client, settings, process.organisation_id,
                                     process_id, body, actor=principal.email)
    return await service.campaign_out(session, campaign)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
async def read(campaign_id: uuid.UUID, session: SessionDep,
               principal: CurrentUser) -> CampaignOut:
    campaign = await service.campaign_for(session, principal, campaign_id, *READERS)
    return await service.campaign_out(session, campaign)


@router.get("/orgs/{slug}/campaigns", response_model=list[CampaignOut])
async def list_for_org(slug: str, session: SessionDep, principal: CurrentUser
                       ) -> list[CampaignOut]:
    from services.identity.service import get_organisation

    org = await get_organisation(session, slug)
    principal.require(org.id, *READERS)
    return [await service.campaign_out(session, c)
            for c in await service.list_campaigns(session, org.id)]


class ParticipationStatus(BaseModel):
    status: str


# Both write and look a token up on every call: throttled per address and token like the
# other participant endpoints (a loop over guessed tokens was unbounded here).
@participation.post("/{token}/decline", response_model=ParticipationStatus)
async def decline(token: str, request: Request, session: SessionDep) -> ParticipationStatus:
    participation_limits(request).check(request, token)
    invitation = await service.invitation_for_token(session, token)
    if (await service.get_campaign(session, invitation.campaign_id)).kind == "event":
        # An event's decline also cancels a registration (the waitlist moves up).
        out = await meetings.register_by_token(session, token, RegistrationIn(attending=False))
        await commit_and_wake(request, session, out.meeting_id)
        return ParticipationStatus(status=out.status)
    invitation = await service.decline(session, token)
    return ParticipationStatus(status=invitation.status)


@participation.post("/{token}/unsubscribe", response_model=ParticipationStatus)
async def unsubscribe(token: str, request: Request, session: SessionDep) -> ParticipationStatus:
    participation_limits(request).check(request, token)
    await service.unsubscribe(session, token)
    return ParticipationStatus(status="unsubscribed")
