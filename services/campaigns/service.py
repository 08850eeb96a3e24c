"""Campaign rules: creating a campaign, selecting its audience, sending a batch, reminders,
progress, closing, and what participants do with their link (decline, unsubscribe).

The workflow drives these through activities; the API reads progress straight from the
database, so `GET /campaigns/{id}` is live whatever the workflow is doing.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from infra.mail import MailTransport
from services.campaigns import receipt
from services.campaigns.mails import MailContext, MailRenderer
from services.campaigns.repository import HANDED_OVER, CampaignRepository, QueuedMail
from services.campaigns.schemas import Audience, CampaignCreate, CampaignOut
from services.campaigns.sender import BatchSender, DeliveryReport, Outgoing
from services.campaigns.tokens import hash_token
from services.errors import Conflict, NotFound, ValidationFailed
from services.events.service import record_event
from services.identity.service import Principal
from services.models.campaign import Campaign, Invitation
from services.models.organisation import Role
from services.stakeholders.addresses import UnsendableAddress, smtp_address
from services.stakeholders.repository import StakeholderRepository
from services.stakeholders.rules import unknown_group_message

# A campaign in one of these sends nothing more.
FINISHED = ("closed", "cancelled")

# --- coordinators ------------------------------------------------------------------------------


async def audience_size(session: AsyncSession, organisation_id: uuid.UUID,
                        audience: Audience) -> int:
    """How many stakeholders the audience reaches now (with e-mail, legal basis, not
    unsubscribed or erased); groups the organisation does not know are a 422 naming them."""
    known = await StakeholderRepository.from_session(session).group_keys(organisation_id)
    unknown = [g for g in audience.groups if g not in known]
    if unknown:
        message = "; ".join(unknown_group_message(g, known) for g in unknown)
        raise ValidationFailed(message, code="unknown_group", details=[
            {"field": "audience.groups", "message": unknown_group_message(g, known),
             "group": g, "known": sorted(known)} for g in unknown])
    return await CampaignRepository.from_session(session).audience_count(
        organisation_id, audience.model_dump())


async def create_campaign(session: AsyncSession, organisation_id: uuid.UUID,
                          process_id: uuid.UUID | None, data: CampaignCreate, *,
                          actor: str | None = None, now: datetime | None = None) -> Campaign:
    now = now or datetime.now(UTC)
    if data.deadline <= now:
        raise ValidationFailed("Die Frist liegt in der Vergangenheit.", code="deadline_past",
                               details=[{"field": "deadline",
                                         "message": "liegt in der Vergangenheit"}])
    # Refused before anything is written: a campaign that reaches nobody would run to
    # "0 of 0 sent" without a word.
    count = await audience_size(session, organisation_id, data.audience)
    if count == 0:
        raise ValidationFailed(
            "Diese Auswahl erreicht niemanden (0 Beteiligte mit E-Mail-Adresse und "
            "Rechtsgrundlage). Bitte Gruppen, Stufen oder Schlagworte anpassen.",
            code="empty_audience",
            details=[{"field": "audience", "message": "0 Empfänger*innen", "count": 0}])
    campaign = Campaign(
        organisation_id=organisation_id, process_id=process_id, kind=data.kind,
        target_id=data.target_id, title=data.title, audience=data.audience.model_dump(),
        reminders=data.reminders, deadline=data.deadline, status="running",
        created_by=actor,
    )
    CampaignRepository.from_session(session).add(campaign)
    await session.flush()
    await session.refresh(campaign)
    await record_event(session, organisation_id=organisation_id, process_id=process_id,
                       type="campaign.created",
                       data={"campaign_id": str(campaign.id), "kind": data.kind,
                             "target_id": str(data.target_id),
                             "audience": data.audience.model_dump(),
                             "reminders": data.reminders,
                             "deadline": data.deadline.isoformat()}, actor=actor)
    return campaign


async def check_target(session: AsyncSession, organisation_id: uuid.UUID,
                       process_id: uuid.UUID, data: CampaignCreate) -> CampaignCreate:
    """A campaign must invite to a survey or an event of this very process: a target of
    another organisation would let its participants answer (and its results count) someone
    else's survey, or register for someone else's event. Another organisation's target is
    "not found" (no existence leak). Returns the request with the target's (German) title as
    the campaign's title when none was given, so the invitation names what it invites to."""
    repo = CampaignRepository.from_session(session)
    if data.kind == "survey":
        owner = await repo.survey_owner(data.target_id)
        if owner is None or owner[0] != organisation_id:
            raise NotFound("Umfrage nicht gefunden.", code="survey_not_found")
        owner_process, title = owner[1], owner[2].get("de", "")
        mismatch = "Die Umfrage gehört zu einem anderen Prozess."
        detail = "Umfrage eines anderen Prozesses"
    else:
        event = await repo.meeting_owner(data.target_id)
        if event is None or event[0] != organisation_id:
            raise NotFound("Veranstaltung nicht gefunden.", code="event_not_found")
        owner_process, title = event[1], event[2]
        mismatch = "Die Veranstaltung gehört zu einem anderen Prozess."
        detail = "Veranstaltung eines anderen Prozesses"
        if event[3] in ("cancelled", "held"):
            raise ValidationFailed(
                "Zu einer abgesagten oder vergangenen Veranstaltung kann nicht eingeladen "
                "werden.", code="event_not_open",
                details=[{"field": "target_id", "message": f"Status {event[3]}"}])
        if data.deadline > event[4]:
            raise ValidationFailed(
                "Die Antwortfrist liegt nach dem Beginn der Veranstaltung.",
                code="deadline_after_event",
                details=[{"field": "deadline", "message": "nach dem Beginn der Veranstaltung"}])
    if owner_process != process_id:
        raise ValidationFailed(mismatch, code="target_mismatch",
                               details=[{"field": "target_id", "message": detail}])
    if data.title:
        return data
    return data.model_copy(update={"title": title})


async def event_start(session: AsyncSession, campaign: Campaign) -> datetime | None:
    """When the event an event campaign invites to begins (its deadline's upper bound)."""
    if campaign.kind != "event" or campaign.target_id is None:
        return None
    event = await CampaignRepository.from_session(session).meeting_owner(campaign.target_id)
    return event[4] if event else None


async def get_campaign(session: AsyncSession, campaign_id: uuid.UUID) -> Campaign:
    campaign = await CampaignRepository.from_session(session).get(campaign_id)
    if campaign is None:
        raise NotFound("Kampagne nicht gefunden.", code="campaign_not_found")
    return campaign


async def campaign_for(session: AsyncSession, principal: Principal, campaign_id: uuid.UUID,
                       *roles: Role) -> Campaign:
    """The campaign if the principal's organisation owns it; another organisation's campaign
    gets exactly the 404 of a missing one (no existence leak), a wrong role 403."""
    campaign = await get_campaign(session, campaign_id)
    try:
        principal.require(campaign.organisation_id, *roles)
    except NotFound:
        raise NotFound("Kampagne nicht gefunden.", code="campaign_not_found") from None
    return campaign


async def list_campaigns(session: AsyncSession, organisation_id: uuid.UUID) -> list[Campaign]:
    return await CampaignRepository.from_session(session).list_for_org(organisation_id)


async def campaigns_of_process(session: AsyncSession, process_id: uuid.UUID) -> list[Campaign]:
    return await CampaignRepository.from_session(session).list_for_process(process_id)


async def campaign_out(session: AsyncSession, campaign: Campaign) -> CampaignOut:
    counts = await CampaignRepository.from_session(session).progress(campaign.id)
    total = max(counts["total"], campaign.total)
    done = counts["sent"] + counts["failed"]
    # Handed to the relay without its confirmation: not hidden in `sent`.
    sent = counts["sent"] - counts["unconfirmed_invitations"]
    return CampaignOut(
        id=campaign.id, organisation_id=campaign.organisation_id,
        process_id=campaign.process_id, kind=campaign.kind, target_id=campaign.target_id,
        title=campaign.title, audience=campaign.audience, reminders=list(campaign.reminders),
        deadline=campaign.deadline, status=campaign.status, started_at=campaign.started_at,
        closed_at=campaign.closed_at, created_at=campaign.created_at, total=total,
        sent=sent, unconfirmed=counts["unconfirmed"], failed=counts["failed"],
        responded=counts["responded"], processed=done,
        declined=counts["declined"], reminded=counts["reminded"], pending=counts["pending"],
        cancelled=counts["cancelled"],
        progress_percent=round(100.0 * done / total, 1) if total else 0.0,
    )


async def mark_failed(session: AsyncSession, campaign_id: uuid.UUID, reason: str) -> None:
    campaign = await get_campaign(session, campaign_id)
    campaign.status = "failed"
    await _campaign_event(session, campaign, "failed", {"reason": reason[:200]})


# --- the workflow's steps ----------------------------------------------------------------------


async def _campaign_event(session: AsyncSession, campaign: Campaign, event: str,
                          data: dict[str, Any], *, dedupe_key: str | None = None) -> None:
    """An event about this campaign (`campaign.<event>`), in its organisation and process,
    with the campaign's id in front of the event's own data."""
    await record_event(session, organisation_id=campaign.organisation_id,
                       process_id=campaign.process_id, type=f"campaign.{event}",
                       data={"campaign_id": str(campaign.id), **data}, dedupe_key=dedupe_key)


async def select_audience(session: AsyncSession, campaign_id: uuid.UUID, *, secret_key: str,
                          batch_size: int, started_at: datetime) -> tuple[int, int]:
    """Create the invitations in bulk, once: a retried call finds them and answers the same."""
    repo = CampaignRepository.from_session(session)
    campaign = await repo.get(campaign_id, for_update=True)
    if campaign is None:
        raise NotFound("Kampagne nicht gefunden.", code="campaign_not_found")
    if campaign.batches or await repo.invitation_count(campaign_id) or (
            campaign.status in FINISHED):
        # Selected before, or cancelled before anyone was selected (nobody to invite).
        return campaign.total, campaign.batches
    total, batches = await repo.create_invitations(campaign, secret_key, batch_size)
    campaign.total, campaign.batches, campaign.started_at = total, batches, started_at
    await _campaign_event(session, campaign, "audience_selected",
                          {"total": total, "batches": batches},
                          dedupe_key=f"campaign-audience:{campaign_id}")
    return total, batches


@dataclass(frozen=True)
class MailSetup:
    """Process-wide parts the send step needs (from the worker's settings)."""

    transport: MailTransport
    # A unit of work per call (infra.db.session_scope in the worker).
    maker: Callable[[], AbstractAsyncContextManager[AsyncSession]]
    secret_key: str
    public_url: str
    mail_from: str
    connections: int
    max_attempts: int


@dataclass(frozen=True)
class BatchOutcome:
    sent: int
    failed: int
    skipped: int
    queued: int
    report: DeliveryReport


async def send_batch(setup: MailSetup, campaign_id: uuid.UUID, *, kind: str, reminder_no: int,
                     batch_no: int, planned_at: datetime, rate: float,
                     heartbeat: Callable[[], None] | None = None) -> BatchOutcome:
    """Queue the batch in the ledger, deliver what is still queued, carry the outcome over.

    Safe to run again at any point: the ledger's unique keys and conditional claims make a
    second run send only what the first did not.
    """
    async with setup.maker() as session:
        repo = CampaignRepository.from_session(session)
        campaign = await repo.get(campaign_id, for_share=True)
        if campaign is None:
            raise NotFound("Kampagne nicht gefunden.", code="campaign_not_found")
        if campaign.status in FINISHED:
            return BatchOutcome(0, 0, 0, 0, DeliveryReport())
        org_name, time_zone, org_slug = await repo.organisation_info(campaign.organisation_id)
        owner = (await repo.survey_owner(campaign.target_id)
                 if campaign.kind == "survey" and campaign.target_id else None)
        target_titles = dict(owner[2]) if owner else None
        await repo.ensure_ledger(campaign_id, kind, reminder_no, batch_no, planned_at)
        await repo.reset_stale(campaign_id, kind, reminder_no, batch_no)
        queued = await repo.lease_batch(campaign_id, kind, reminder_no, batch_no)
        queued = await _fail_unsendable(repo, queued)
        await session.commit()

    renderer = MailRenderer(MailContext(
        org_name=org_name, mail_from=setup.mail_from, public_url=setup.public_url,
        secret_key=setup.secret_key, campaign_kind=campaign.kind, title=campaign.title,
        deadline=campaign.deadline, time_zone=time_zone,
        organisation_id=campaign.organisation_id, target_titles=target_titles,
        org_slug=org_slug,
    ), kind, reminder_no)
    items = [Outgoing(q.ledger_id, q.attempts, functools.partial(
        renderer.render, q.invitation_id, q.name, q.email, q.language, q.kind))
        for q in queued]
    report = DeliveryReport()
    if items:
        sender = BatchSender(setup.transport, setup.maker, connections=setup.connections,
                             rate=rate, max_attempts=setup.max_attempts, heartbeat=heartbeat)
        report = await sender.deliver(items)

    async with setup.maker() as session:
        repo = CampaignRepository.from_session(session)
        await repo.sync_invitations(campaign_id, kind, reminder_no, batch_no)
        outcome = await repo.batch_outcome(campaign_id, kind, reminder_no, batch_no)
        # A row still `sending` was never handed to the relay: like `queued`, it is retried
        # (the next attempt's reset puts it back).
        left = outcome.get("queued", 0) + outcome.get("sending", 0)
        handed_over = sum(outcome.get(status, 0) for status in HANDED_OVER)
        if not left:
            # One event per batch (never per recipient): the SSE stream and webhooks see
            # progress move without the log growing with the audience.
            await _campaign_event(
                session, campaign, f"{kind}_batch_sent",
                {"batch_no": batch_no, "reminder_no": reminder_no,
                 "sent": handed_over, "unconfirmed": outcome.get("unconfirmed", 0),
                 "failed": outcome.get("failed", 0),
                 "skipped": outcome.get("cancelled", 0), "batches": campaign.batches},
                dedupe_key=f"campaign-batch:{campaign_id}:{kind}:{reminder_no}:{batch_no}",
            )
        await session.commit()
    return BatchOutcome(handed_over, outcome.get("failed", 0),
                        outcome.get("cancelled", 0), left, report)


async def _fail_unsendable(repo: CampaignRepository, queued: list[QueuedMail]
                           ) -> list[QueuedMail]:
    """Fail, for good and one by one, the mails whose address cannot go on the wire (stored
    before the address rule existed): rendering them would fail the whole batch, and the
    retry would fail it again, forever."""
    sendable = []
    for mail in queued:
        try:
            smtp_address(mail.email)
        except UnsendableAddress as exc:
            await repo.fail_mail(mail.ledger_id, f"Adresse nicht zustellbar: {exc}")
            continue
        sendable.append(mail)
    return sendable


async def plan_reminders(session: AsyncSession, campaign_id: uuid.UUID,
                         reminder_no: int) -> tuple[list[int], int]:
    campaign = await get_campaign(session, campaign_id)
    if campaign.status in FINISHED:
        return [], 0
    batch_nos, recipients = await CampaignRepository.from_session(session).reminder_batches(
        campaign_id, reminder_no)
    await _campaign_event(session, campaign, "reminder_started",
                          {"reminder_no": reminder_no, "recipients": recipients},
                          dedupe_key=f"campaign-reminder:{campaign_id}:{reminder_no}")
    return batch_nos, recipients


async def close_campaign(session: AsyncSession, campaign_id: uuid.UUID,
                         closed_at: datetime) -> None:
    repo = CampaignRepository.from_session(session)
    campaign = await get_campaign(session, campaign_id)
    if await repo.close(campaign_id, closed_at):
        await _campaign_event(session, campaign, "closed",
                              {"progress": await repo.progress(campaign_id)},
                              dedupe_key=f"campaign-closed:{campaign_id}")


async def cancel_campaign(session: AsyncSession, campaign_id: uuid.UUID,
                          cancelled_at: datetime, *, actor: str | None = None) -> bool:
    """The workflow's `cancel` update: nothing more is sent. Locks the campaign row, so a
    send step either leased its batch before (and sends it once) or finds it cancelled."""
    repo = CampaignRepository.from_session(session)
    campaign = await repo.get(campaign_id, for_update=True)
    if campaign is None:
        raise NotFound("Kampagne nicht gefunden.", code="campaign_not_found")
    if campaign.status in FINISHED:
        return False
    campaign.status, campaign.closed_at = "cancelled", cancelled_at
    not_sent = await repo.cancel_unsent(campaign_id)
    await record_event(session, organisation_id=campaign.organisation_id,
                       process_id=campaign.process_id, type="campaign.cancelled",
                       data={"campaign_id": str(campaign.id), "not_sent": not_sent},
                       actor=actor, dedupe_key=f"campaign-cancelled:{campaign_id}")
    return True


async def set_deadline(session: AsyncSession, campaign_id: uuid.UUID, deadline: datetime, *,
                       actor: str | None = None) -> None:
    """The workflow's `move_deadline` update (its validator checked the date)."""
    campaign = await get_campaign(session, campaign_id)
    previous = campaign.deadline
    await CampaignRepository.from_session(session).set_deadline(campaign_id, deadline)
    await record_event(session, organisation_id=campaign.organisation_id,
                       process_id=campaign.process_id, type="campaign.deadline_moved",
                       data={"campaign_id": str(campaign.id),
                             "previous": previous.isoformat(), "deadline": deadline.isoformat()},
                       actor=actor)


# --- participants -----------------------------------------------------------------------------


async def invitation_for_token(session: AsyncSession, token: str) -> Invitation:
    invitation = await CampaignRepository.from_session(session).invitation_by_token_hash(
        hash_token(token))
    if invitation is None:
        raise NotFound("Dieser Link ist nicht gültig.", code="invalid_token")
    return invitation


async def mark_invitation_responded(session: AsyncSession, invitation_id: uuid.UUID) -> bool:
    """For the survey domain: the invitation has been answered (reminders skip it).

    Only the date is kept and the event names the campaign, not the invitation, so neither
    can be joined to an anonymous response by its time.
    """
    # One statement shared with the survey domain's submission (services/campaigns/receipt.py).
    changed = await receipt.mark_responded(session, invitation_id, datetime.now(UTC).date())
    if not changed and await CampaignRepository.from_session(session).invitation(
            invitation_id) is None:
        raise NotFound("Einladung nicht gefunden.", code="invitation_not_found")
    return changed


async def decline(session: AsyncSession, token: str) -> Invitation:
    invitation = await invitation_for_token(session, token)
    if invitation.status == "responded":
        raise Conflict("Sie haben bereits teilgenommen.", code="already_responded")
    repo = CampaignRepository.from_session(session)
    if await repo.set_declined(invitation.id):
        await record_event(session, organisation_id=invitation.organisation_id,
                           type="campaign.invitation_declined",
                           data={"campaign_id": str(invitation.campaign_id)})
    await session.refresh(invitation)
    return invitation


async def unsubscribe(session: AsyncSession, token: str) -> Invitation:
    """No further mail of any campaign to this person (the claim re-checks it per mail)."""
    invitation = await invitation_for_token(session, token)
    if invitation.stakeholder_id is not None:
        repo = CampaignRepository.from_session(session)
        if await repo.set_unsubscribed(invitation.stakeholder_id):
            await record_event(session, organisation_id=invitation.organisation_id,
                               type="stakeholder.unsubscribed",
                               data={"stakeholder_id": str(invitation.stakeholder_id),
                                     "campaign_id": str(invitation.campaign_id)})
    return invitation
