"""Invitation campaigns (API.md): launch for a process, live progress (JSON and a Server-Sent
Events stream), cancel and move the deadline of a running one; participants' decline and
unsubscribe by token."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from api.deps import (
    CurrentUser,
    SessionDep,
    SettingsDep,
    TemporalDep,
    principal_for_token,
    token_from,
)
from api.meeting_control import commit_and_wake
from api.process_control import send_update, start_or_unavailable
from api.ratelimit import participation_limits
from contracts.campaign import (
    CampaignInput,
    CampaignProgress,
    MoveDeadlineRequest,
)
from contracts.ids import campaign_workflow_id
from contracts.input_rules import BoundedDateTime
from contracts.queues import MAIL_TASK_QUEUE
from infra.config import Settings
from services.campaigns import service
from services.campaigns.schemas import Audience, CampaignCreate, CampaignOut
from services.campaigns.settings import get_campaign_settings
from services.errors import Conflict, Unauthorized
from services.meetings import service as meetings
from services.meetings.schemas import RegistrationIn
from services.models.campaign import Campaign
from services.models.organisation import Role
from services.processes.service import process_for
from workflows.campaign import InvitationCampaignWorkflow

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["campaigns"])
participation = APIRouter(prefix="/api/v1/participation", tags=["participation"])

READERS = (Role.coordinator, Role.steering)


def campaign_input(campaign: Campaign, settings: Settings, *,
                   latest_deadline: datetime | None = None) -> CampaignInput:
    knobs = get_campaign_settings()
    return CampaignInput(
        campaign_id=campaign.id, organisation_id=campaign.organisation_id,
        deadline=campaign.deadline, reminders=list(campaign.reminders),
        batch_size=knobs.batch_size, parallel_batches=knobs.parallel_batches,
        rate_per_second=settings.mail_rate_per_second, mail_task_queue=MAIL_TASK_QUEUE,
        latest_deadline=latest_deadline,
    )


async def launch_campaign(session: AsyncSession, client: Client, settings: Settings,
                          org_id: uuid.UUID, process_id: uuid.UUID, body: CampaignCreate, *,
                          actor: str | None) -> Campaign:
    """Create the campaign (target and audience checked) and start its workflow; shared by
    the API and the campaign page. If the workflow cannot start, the campaign says so
    (failed), so no row claims to run without a workflow."""
    body = await service.check_target(session, org_id, process_id, body)
    campaign = await service.create_campaign(session, org_id, process_id, body, actor=actor)
    # An event campaign's deadline may later move, but never past the event's start.
    latest = await service.event_start(session, campaign)
    await start_or_unavailable(
        session, client, InvitationCampaignWorkflow.run,
        campaign_input(campaign, settings, latest_deadline=latest),
        id=campaign_workflow_id(campaign.id),
        undo=lambda: service.mark_failed(session, campaign.id, "workflow not started"))
    return campaign


def _handle(client: Client, campaign: Campaign) -> WorkflowHandle[Any, Any]:
    return client.get_workflow_handle_for(InvitationCampaignWorkflow.run,
                                          campaign_workflow_id(campaign.id))


def _require_running(campaign: Campaign) -> None:
    if campaign.status != "running":
        raise Conflict("Die Kampagne läuft nicht mehr.", code="campaign_not_running")


async def cancel_running(session: AsyncSession, client: Client, campaign: Campaign, *,
                         actor: str | None) -> None:
    """Cancel a running campaign (shared by the API and the campaign page): the database
    first — campaign and unsent invitations `cancelled`, committed, so every later send step
    finds it and sends nothing — then the workflow's `cancel` signal ends its waits. If
    Temporal cannot be reached the campaign stays cancelled: its next step sends nothing."""
    _require_running(campaign)
    if not await service.cancel_campaign(session, campaign.id, datetime.now(UTC), actor=actor):
        raise Conflict("Die Kampagne läuft nicht mehr.", code="campaign_not_running")
    await session.commit()
    try:
        await _handle(client, campaign).signal(InvitationCampaignWorkflow.cancel)
    except RPCError as exc:
        # NOT_FOUND: the workflow has ended already; anything else: it stops at its next step.
        log.warning("cancel signal for campaign %s not delivered: %s", campaign.id, exc)


async def move_running_deadline(client: Client, campaign: Campaign, deadline: datetime, *,
                                actor: str | None) -> None:
    """The workflow's `move_deadline` update; its validator's refusal (a past date, or one
    after the event) is a 422 naming `deadline` (services/processes/errors.py)."""
    _require_running(campaign)
    await send_update(_handle(client, campaign), InvitationCampaignWorkflow.move_deadline,
                      MoveDeadlineRequest(deadline=deadline, actor=actor), CampaignProgress)


class DeadlineBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deadline: BoundedDateTime


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


@router.post("/campaigns/{campaign_id}/cancel", response_model=CampaignOut)
async def cancel(campaign_id: uuid.UUID, session: SessionDep, principal: CurrentUser,
                 client: TemporalDep) -> CampaignOut:
    """Stop a running campaign: no further batches or reminders; unsent invitations are
    shown as cancelled. 409 `campaign_not_running` once it has ended."""
    campaign = await service.campaign_for(session, principal, campaign_id, Role.coordinator)
    await cancel_running(session, client, campaign, actor=principal.email)
    await session.refresh(campaign)
    return await service.campaign_out(session, campaign)


@router.post("/campaigns/{campaign_id}/deadline", response_model=CampaignOut)
async def move_deadline(campaign_id: uuid.UUID, body: DeadlineBody, session: SessionDep,
                        principal: CurrentUser, client: TemporalDep) -> CampaignOut:
    """Move a running campaign's deadline; reminders due after the new deadline are not
    sent. 422 `deadline_refused` for a past date or one after the event invited to."""
    campaign = await service.campaign_for(session, principal, campaign_id, Role.coordinator)
    await move_running_deadline(client, campaign, body.deadline, actor=principal.email)
    await session.refresh(campaign)
    return await service.campaign_out(session, campaign)


# How often the progress stream reads the campaign, and re-checks the sign-in behind it.
PROGRESS_POLL_SECONDS = 1.0
CREDENTIAL_CHECK_SECONDS = 15.0
KEEPALIVE_SECONDS = 15.0


def _sse(event: str, data: str) -> str:
    return f"event: {event}\ndata: {data}\n\n"


@router.get("/campaigns/{campaign_id}/progress")
async def progress_stream(campaign_id: uuid.UUID, request: Request, session: SessionDep,
                          principal: CurrentUser) -> StreamingResponse:
    """Server-Sent Events: `progress` (the campaign as `GET /campaigns/{id}` answers it) at
    once and whenever it changes, then `done` when the campaign is no longer running, and
    the stream ends. Another organisation's campaign is a 404 like a missing one."""
    await service.campaign_for(session, principal, campaign_id, *READERS)
    maker = request.app.state.sessionmaker
    signer = request.app.state.signer
    token = token_from(request)

    async def generate() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        last, checked, quiet = "", loop.time(), 0.0
        while not await request.is_disconnected():
            if loop.time() - checked >= CREDENTIAL_CHECK_SECONDS:
                checked = loop.time()
                try:
                    async with maker() as s:
                        await principal_for_token(s, signer, token)
                except Unauthorized as exc:
                    yield _sse("session_ended", json.dumps({"code": exc.code}))
                    return
            async with maker() as s:
                out = await service.campaign_out(s, await service.get_campaign(s, campaign_id))
            data = out.model_dump_json()
            if data != last:
                last, quiet = data, 0.0
                yield _sse("progress", data)
            if out.status != "running":
                yield _sse("done", json.dumps({"status": out.status}))
                return
            await asyncio.sleep(PROGRESS_POLL_SECONDS)
            quiet += PROGRESS_POLL_SECONDS
            if quiet >= KEEPALIVE_SECONDS:
                quiet = 0.0
                yield ": keepalive\n\n"

    return StreamingResponse(generate(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


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
