"""Webhook subscriptions of an organisation (API.md "Events feed"): admins only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import CurrentUser, SessionDep, SettingsDep, TemporalDep
from api.webhook_control import ensure_dispatcher, start_redelivery
from infra.outbound import parse_networks
from services.identity.service import Principal, get_organisation
from services.models.organisation import Role
from services.webhooks import service
from services.webhooks.schemas import (
    DeliveryPage,
    RedeliveryOut,
    WebhookCreate,
    WebhookOut,
    WebhookWithSecret,
)

router = APIRouter(prefix="/api/v1/orgs/{slug}/webhooks", tags=["webhooks"])
MAX_SEQ = 2**63 - 1


async def _admin_org(session: SessionDep, principal: Principal, slug: str) -> uuid.UUID:
    org = await get_organisation(session, slug)
    principal.require(org.id, Role.admin)
    return org.id


def _with_secret(out: WebhookOut, secret: str) -> WebhookWithSecret:
    return WebhookWithSecret(**out.model_dump(), secret=secret)


@router.post("", response_model=WebhookWithSecret, status_code=status.HTTP_201_CREATED)
async def create_webhook(slug: str, body: WebhookCreate, session: SessionDep,
                         principal: CurrentUser, settings: SettingsDep,
                         client: TemporalDep) -> WebhookWithSecret:
    """The subscription with its secret `whsec_…`, shown only in this answer."""
    org_id = await _admin_org(session, principal, slug)
    sub, secret = await service.create_subscription(
        session, org_id, body, app_secret_key=settings.resolved_secret_key(),
        allowed=parse_networks(settings.webhook_allowed_networks), actor=principal.email)
    # Committed first: the dispatcher must find the subscription. Starting it is idempotent
    # (one fixed workflow id); should Temporal be down, a later create starts it, and the
    # subscription's events wait in the log meanwhile.
    await session.commit()
    await ensure_dispatcher(client, settings)
    return _with_secret(service.subscription_out(sub, datetime.now(UTC)), secret)


@router.get("", response_model=list[WebhookOut])
async def list_webhooks(slug: str, session: SessionDep,
                        principal: CurrentUser) -> list[WebhookOut]:
    org_id = await _admin_org(session, principal, slug)
    now = datetime.now(UTC)
    return [service.subscription_out(s, now)
            for s in await service.list_subscriptions(session, org_id)]


@router.get("/{webhook_id}", response_model=WebhookOut)
async def read_webhook(slug: str, webhook_id: uuid.UUID, session: SessionDep,
                       principal: CurrentUser) -> WebhookOut:
    org_id = await _admin_org(session, principal, slug)
    return service.subscription_out(
        await service.get_subscription(session, org_id, webhook_id), datetime.now(UTC))


@router.post("/{webhook_id}/rotate", response_model=WebhookWithSecret)
async def rotate_webhook_secret(slug: str, webhook_id: uuid.UUID, session: SessionDep,
                                principal: CurrentUser,
                                settings: SettingsDep) -> WebhookWithSecret:
    """A new secret (shown once); the previous one keeps signing for 24 hours."""
    org_id = await _admin_org(session, principal, slug)
    now = datetime.now(UTC)
    sub, secret = await service.rotate_secret(
        session, org_id, webhook_id, app_secret_key=settings.resolved_secret_key(), now=now,
        actor=principal.email)
    return _with_secret(service.subscription_out(sub, now), secret)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(slug: str, webhook_id: uuid.UUID, session: SessionDep,
                         principal: CurrentUser) -> Response:
    org_id = await _admin_org(session, principal, slug)
    await service.delete_subscription(session, org_id, webhook_id, actor=principal.email)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryPage)
async def list_deliveries(
    slug: str, webhook_id: uuid.UUID, session: SessionDep, principal: CurrentUser,
    before: Annotated[int | None, Query(ge=1, le=MAX_SEQ)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPage:
    """Every delivery, newest first, with its attempts and last status."""
    org_id = await _admin_org(session, principal, slug)
    return await service.list_deliveries(session, org_id, webhook_id, before=before,
                                         limit=limit)


@router.post("/{webhook_id}/deliveries/{delivery_id}/redeliver", response_model=RedeliveryOut,
             status_code=status.HTTP_202_ACCEPTED)
async def redeliver(slug: str, webhook_id: uuid.UUID, delivery_id: uuid.UUID,
                    session: SessionDep, principal: CurrentUser, settings: SettingsDep,
                    client: TemporalDep) -> RedeliveryOut:
    """Send a finished delivery again (same `webhook-id`, fresh signature)."""
    org_id = await _admin_org(session, principal, slug)
    workflow_id = await service.prepare_redelivery(session, org_id, webhook_id, delivery_id,
                                                   actor=principal.email)
    await session.commit()
    await start_redelivery(client, settings, delivery_id, workflow_id)
    return RedeliveryOut(delivery_id=delivery_id, workflow_id=workflow_id)
