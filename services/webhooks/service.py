"""Managing webhook subscriptions (an organisation admin's feature) and reading their deliveries.

Deliveries themselves are made by the worker (services/webhooks/delivery.py, driven by the
dispatcher workflow); here: create with a secret shown once, list, rotate, delete, and the
bookkeeping of a manual redelivery.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.webhooks import delivery_workflow_id, webhook_message_id
from infra.outbound import BlockedAddress, Network, resolve_allowed
from services.errors import Conflict, NotFound, ValidationFailed
from services.events.catalog import check_types
from services.events.service import record_event
from services.models.webhook import WebhookSubscription
from services.webhooks import secrets
from services.webhooks.repository import WebhookRepository
from services.webhooks.schemas import (
    AttemptOut,
    DeliveryOut,
    DeliveryPage,
    WebhookCreate,
    WebhookOut,
)

# How long the previous secret keeps signing after a rotation (receivers switch meanwhile).
ROTATION_OVERLAP = timedelta(hours=24)


def _url_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_webhook_url",
                            details=[{"field": "url", "message": message}])


async def check_url(url: str, allowed: Sequence[Network]) -> str:
    """An http(s) URL whose host resolves to public addresses only (or to allowed networks)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise _url_error("Die Adresse ist keine gültige URL.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _url_error("Nur http- und https-Adressen mit Rechnername sind erlaubt.")
    if parts.username or parts.password:
        raise _url_error("Zugangsdaten gehören nicht in die Adresse.")
    host = parts.hostname
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not all(label and len(label) < 64 for label in host.split(".")):
            raise _url_error("Der Rechnername ist ungültig.") from None
    try:
        await resolve_allowed(host, port, allowed)
    except BlockedAddress as exc:
        raise ValidationFailed(
            f"Die Adresse ist nicht erlaubt: {exc}", code="webhook_url_not_allowed",
            details=[{"field": "url", "message": str(exc)}]) from exc
    return url


def subscription_out(sub: WebhookSubscription, now: datetime) -> WebhookOut:
    overlap = sub.previous_expires_at if (sub.previous_secret_enc and sub.previous_expires_at
                                          and sub.previous_expires_at > now) else None
    return WebhookOut(id=sub.id, url=sub.url, types=list(sub.types),
                      description=sub.description, active=sub.active,
                      disabled_reason=sub.disabled_reason, created_at=sub.created_at,
                      previous_secret_expires_at=overlap)


async def create_subscription(session: AsyncSession, organisation_id: uuid.UUID,
                              body: WebhookCreate, *, app_secret_key: str,
                              allowed: Sequence[Network],
                              actor: str | None) -> tuple[WebhookSubscription, str]:
    """The new subscription and its secret (returned here once, stored only encrypted)."""
    types = check_types(body.types)
    url = await check_url(body.url, allowed)
    repo = WebhookRepository.from_session(session)
    secret = secrets.generate_secret()
    sub = WebhookSubscription(
        organisation_id=organisation_id, url=url, types=types,
        description=body.description.strip(),
        secret_enc=secrets.encrypt(secret, app_secret_key), active=True,
        # Events from now on, not the organisation's history.
        start_seq=await repo.newest_seq(), created_by=actor)
    repo.add(sub)
    await repo.flush()
    await record_event(session, organisation_id=organisation_id, type="webhook.created",
                       data={"webhook_id": str(sub.id), "url": url, "types": types},
                       actor=actor)
    await session.refresh(sub)
    return sub, secret


async def list_subscriptions(session: AsyncSession,
                             organisation_id: uuid.UUID) -> list[WebhookSubscription]:
    return await WebhookRepository.from_session(session).subscriptions(organisation_id)


async def get_subscription(session: AsyncSession, organisation_id: uuid.UUID,
                           subscription_id: uuid.UUID) -> WebhookSubscription:
    """404 also for another organisation's subscription (no existence leak)."""
    sub = await WebhookRepository.from_session(session).subscription(organisation_id,
                                                                     subscription_id)
    if sub is None:
        raise NotFound("Webhook nicht gefunden.")
    return sub


async def rotate_secret(session: AsyncSession, organisation_id: uuid.UUID,
                        subscription_id: uuid.UUID, *, app_secret_key: str, now: datetime,
                        actor: str | None) -> tuple[WebhookSubscription, str]:
    """A new secret; the current one keeps signing beside it for ROTATION_OVERLAP."""
    sub = await get_subscription(session, organisation_id, subscription_id)
    secret = secrets.generate_secret()
    sub.previous_secret_enc, sub.previous_expires_at = sub.secret_enc, now + ROTATION_OVERLAP
    sub.secret_enc = secrets.encrypt(secret, app_secret_key)
    await session.flush()
    await record_event(session, organisation_id=organisation_id, type="webhook.secret_rotated",
                       data={"webhook_id": str(sub.id)}, actor=actor)
    return sub, secret


async def delete_subscription(session: AsyncSession, organisation_id: uuid.UUID,
                              subscription_id: uuid.UUID, *, actor: str | None) -> None:
    """Gone with its deliveries; delivery workflows still retrying find nothing to send."""
    sub = await get_subscription(session, organisation_id, subscription_id)
    await WebhookRepository.from_session(session).delete_subscription(sub.id)
    await record_event(session, organisation_id=organisation_id, type="webhook.deleted",
                       data={"webhook_id": str(sub.id), "url": sub.url}, actor=actor)


async def list_deliveries(session: AsyncSession, organisation_id: uuid.UUID,
                          subscription_id: uuid.UUID, *, before: int | None,
                          limit: int) -> DeliveryPage:
    """Newest first, each with all its attempts."""
    sub = await get_subscription(session, organisation_id, subscription_id)
    rows = await WebhookRepository.from_session(session).deliveries(
        sub.id, before_seq=before, limit=limit)
    out = [DeliveryOut(
        id=d.id, webhook_id=webhook_message_id(d.id), event_seq=d.event_seq,
        event_type=d.event_type, status=d.status,
        attempts=[AttemptOut(attempt=a.attempt_no, status_code=a.status_code, error=a.error,
                             duration_ms=a.duration_ms, attempted_at=a.attempted_at)
                  for a in attempts],
        last_status_code=d.last_status_code, last_error=d.last_error,
        last_attempt_at=d.last_attempt_at, delivered_at=d.delivered_at, created_at=d.created_at,
    ) for d, attempts in rows]
    return DeliveryPage(deliveries=out,
                        next_before=out[-1].event_seq if len(out) == limit else None)


async def prepare_redelivery(session: AsyncSession, organisation_id: uuid.UUID,
                             subscription_id: uuid.UUID, delivery_id: uuid.UUID, *,
                             actor: str | None) -> str:
    """Put a finished delivery back to pending; returns the workflow id that sends it again
    (with the same `webhook-id`). 409 while it is still being retried, or when the
    subscription is disabled."""
    sub = await get_subscription(session, organisation_id, subscription_id)
    repo = WebhookRepository.from_session(session)
    delivery = await repo.delivery(sub.id, delivery_id)
    if delivery is None:
        raise NotFound("Zustellung nicht gefunden.")
    if delivery.status == "pending":
        raise Conflict("Die Zustellung wird noch versucht.", code="delivery_pending")
    if not sub.active:
        raise Conflict("Der Webhook ist deaktiviert.", code="webhook_disabled")
    delivery.status = "pending"
    delivery.redeliveries += 1
    await session.flush()
    await record_event(session, organisation_id=organisation_id, type="webhook.redelivered",
                       data={"webhook_id": str(sub.id), "delivery_id": str(delivery.id)},
                       actor=actor)
    return delivery_workflow_id(delivery.id, manual=delivery.redeliveries)
