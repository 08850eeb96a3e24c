"""Campaign activities: thin adapters from the workflow to services.campaigns.

Database steps run on the main queue; sending runs on the mail queue. Every one is safe to
run twice (unique ledger keys, conditional claims, dedupe keys on events).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.failures import refused_data_is_final
from activities.registry import ACTIVITIES, MAIL_ACTIVITIES
from contracts.campaign import (
    CloseCampaignIn,
    PlanRemindersIn,
    PlanRemindersOut,
    SelectAudienceIn,
    SelectAudienceOut,
    SendBatchIn,
    SendBatchOut,
    SetDeadlineIn,
)
from infra import mail as infra_mail
from infra.config import get_settings
from infra.db import session_scope
from infra.mail import MailTransport
from services.campaigns import service
from services.campaigns.settings import get_campaign_settings
from services.errors import DomainError


@contextmanager
def _domain_errors() -> Iterator[None]:
    """A domain error becomes a non-retryable ApplicationError typed with its code (the
    workflow and the API see the code; retrying would not change the answer). So is a value
    the database refuses."""
    try:
        with refused_data_is_final():
            yield
    except DomainError as exc:
        raise ApplicationError(exc.message, type=exc.code, non_retryable=True) from exc


@functools.cache
def _transport(host: str, port: int, connections: int) -> MailTransport:
    # The worker's shared transport keeps a small pool for single mails; campaigns send on
    # more connections at once (DESIGN.md section 8: 460 msg/s on one, 805 on ten).
    return MailTransport(host, port, pool_size=connections)


def mail_setup() -> service.MailSetup:
    settings = get_settings()
    campaign_settings = get_campaign_settings()
    base = infra_mail.get_transport()
    return service.MailSetup(
        transport=_transport(base.host, base.port, campaign_settings.connections),
        maker=session_scope,
        secret_key=settings.resolved_secret_key(),
        public_url=settings.public_url,
        mail_from=settings.mail_from,
        connections=campaign_settings.connections,
        max_attempts=campaign_settings.max_attempts,
    )


@activity.defn(name="campaign_select_audience")
async def select_audience(inp: SelectAudienceIn) -> SelectAudienceOut:
    with _domain_errors():
        async with session_scope() as session:
            total, batches = await service.select_audience(
                session, inp.campaign_id, secret_key=get_settings().resolved_secret_key(),
                batch_size=inp.batch_size, started_at=inp.started_at)
    return SelectAudienceOut(total=total, batches=batches)


@activity.defn(name="campaign_send_batch")
async def send_batch(inp: SendBatchIn) -> SendBatchOut:
    with _domain_errors():
        outcome = await service.send_batch(
            mail_setup(), inp.campaign_id, kind=inp.kind, reminder_no=inp.reminder_no,
            batch_no=inp.batch_no, planned_at=inp.planned_at, rate=inp.rate_per_second,
            heartbeat=activity.heartbeat)
    if outcome.queued:
        # Temporary SMTP failures: Temporal retries the batch with backoff; the ledger makes
        # the retry send only these.
        raise ApplicationError(f"{outcome.queued} Mails vorübergehend nicht zustellbar",
                               type="smtp_temporary")
    return SendBatchOut(sent=outcome.sent, failed=outcome.failed, skipped=outcome.skipped)


@activity.defn(name="campaign_plan_reminders")
async def plan_reminders(inp: PlanRemindersIn) -> PlanRemindersOut:
    with _domain_errors():
        async with session_scope() as session:
            batch_nos, recipients = await service.plan_reminders(
                session, inp.campaign_id, inp.reminder_no)
    return PlanRemindersOut(batch_nos=batch_nos, recipients=recipients)


@activity.defn(name="campaign_close")
async def close_campaign(inp: CloseCampaignIn) -> None:
    with _domain_errors():
        async with session_scope() as session:
            await service.close_campaign(session, inp.campaign_id, inp.closed_at)


@activity.defn(name="campaign_set_deadline")
async def set_campaign_deadline(inp: SetDeadlineIn) -> None:
    with _domain_errors():
        async with session_scope() as session:
            await service.set_deadline(session, inp.campaign_id, inp.deadline, actor=inp.actor)


ACTIVITIES.extend([select_audience, plan_reminders, close_campaign,
                   set_campaign_deadline])
MAIL_ACTIVITIES.append(send_batch)
