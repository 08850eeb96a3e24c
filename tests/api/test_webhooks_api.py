"""The webhook endpoints (API.md "Events feed"): admins of the organisation manage them; the
secret is shown once; bad URLs, non-public addresses and unknown event types are 422; another
organisation's webhook is 404."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select

from api.app import create_app
from api.deps import get_temporal
from services.models.organisation import Role
from services.models.webhook import WebhookSubscription
from services.webhooks import secrets


@pytest.fixture
async def temporal(app, time_skipping_env) -> AsyncIterator[None]:  # type: ignore[no-untyped-def]
    """A reachable Temporal for the dispatcher's start (no worker needed here)."""
    app.dependency_overrides[get_temporal] = lambda: time_skipping_env.client
    yield
    app.dependency_overrides.pop(get_temporal, None)


BODY = {"url": "http://127.0.0.1:9/hook", "types": ["process.*", "campaign.closed"],
        "description": "Ratsinformationssystem"}


def _path(staff, rest: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/orgs/{staff.org_slug}/webhooks{rest}"


async def test_create_shows_secret_once_list_rotate_delete(client, make_staff, temporal,
                                                           session, settings):  # type: ignore[no-untyped-def]
    admin = await make_staff(role=Role.admin)
    r = await client.post(_path(admin), json=BODY, headers=admin.headers)
    assert r.status_code == 201, r.text
    created = r.json()
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secrets.signature(secret, "m", 1, b"")) > 3
    assert created["types"] == ["process.*", "campaign.closed"] and created["active"]

    listed = await client.get(_path(admin), headers=admin.headers)
    assert listed.status_code == 200
    assert [w["id"] for w in listed.json()] == [created["id"]]
    assert "secret" not in listed.json()[0] and secret not in listed.text
    one = await client.get(_path(admin, f"/{created['id']}"), headers=admin.headers)
    assert one.status_code == 200 and "secret" not in one.json()

    row = await session.scalar(select(WebhookSubscription).where(
        WebhookSubscription.id == created["id"]))
    assert secret not in row.secret_enc  # encrypted at rest
    assert secrets.decrypt(row.secret_enc, settings.resolved_secret_key()) == secret

    rotated = await client.post(_path(admin, f"/{created['id']}/rotate"), headers=admin.headers)
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != secret
    assert rotated.json()["previous_secret_expires_at"] is not None  # both sign meanwhile

    gone = await client.delete(_path(admin, f"/{created['id']}"), headers=admin.headers)
    assert gone.status_code == 204
    assert (await client.get(_path(admin, f"/{created['id']}"),
                             headers=admin.headers)).status_code == 404


@pytest.mark.parametrize("url,code", [
    ("ftp://example.org/hook", "invalid_webhook_url"),
    ("javascript:alert(1)", "invalid_webhook_url"),
    ("http://", "invalid_webhook_url"),
    ("http://user:pw@127.0.0.1/hook", "invalid_webhook_url"),
    ("http://[::1", "invalid_webhook_url"),
    ("http://name.invalid/hook", "webhook_url_not_allowed"),
])
async def test_bad_urls_are_422_naming_the_field(client, make_staff, temporal, url,
                                                 code):  # type: ignore[no-untyped-def]
    admin = await make_staff(role=Role.admin)
    r = await client.post(_path(admin), json={**BODY, "url": url}, headers=admin.headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["details"][0]["field"] == "url"


async def test_unknown_event_types_are_422(client, make_staff, temporal):  # type: ignore[no-untyped-def]
    admin = await make_staff(role=Role.admin)
    r = await client.post(_path(admin), json={**BODY, "types": ["process.exploded"]},
                          headers=admin.headers)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "unknown_event_type"
    assert r.json()["error"]["details"][0]["field"] == "types.0"
    empty = await client.post(_path(admin), json={**BODY, "types": []}, headers=admin.headers)
    assert empty.status_code == 422


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/hook", "http://localhost/hook", "http://10.0.0.1/hook",
    "http://169.254.169.254/latest/meta-data", "http://[::1]/hook", "https://192.168.0.10/",
])
async def test_private_targets_are_refused_unless_the_operator_allows_them(
        settings, rollback_maker, make_staff, time_skipping_env, url):  # type: ignore[no-untyped-def]
    strict = create_app(settings.model_copy(update={"webhook_allowed_networks": ""}),
                        sessionmaker=rollback_maker)
    strict.dependency_overrides[get_temporal] = lambda: time_skipping_env.client
    admin = await make_staff(role=Role.admin)
    async with AsyncClient(transport=ASGITransport(app=strict),
                           base_url="http://testserver") as c:
        r = await c.post(_path(admin), json={**BODY, "url": url}, headers=admin.headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "webhook_url_not_allowed"


async def test_only_admins_manage_and_other_organisations_get_404(client, make_staff,
                                                                   temporal):  # type: ignore[no-untyped-def]
    admin = await make_staff(role=Role.admin)
    created = (await client.post(_path(admin), json=BODY, headers=admin.headers)).json()
    for role in (Role.coordinator, Role.steering, Role.clerk):
        member = await make_staff(role=role, org_slug=admin.org_slug)
        assert (await client.get(_path(admin), headers=member.headers)).status_code == 403
        assert (await client.post(_path(admin), json=BODY,
                                  headers=member.headers)).status_code == 403
    other = await make_staff(role=Role.admin)
    wid = created["id"]
    # Through the other admin's own organisation: the webhook is not there.
    for method, rest in [("GET", f"/{wid}"), ("POST", f"/{wid}/rotate"), ("DELETE", f"/{wid}"),
                         ("GET", f"/{wid}/deliveries"),
                         ("POST", f"/{wid}/deliveries/{uuid.uuid4()}/redeliver")]:
        r = await client.request(method, _path(other, rest), headers=other.headers)
        assert r.status_code == 404, (method, rest, r.text)
    # Through the first organisation's slug: not a member there, so 404 as well.
    r = await client.get(_path(admin, f"/{wid}"), headers=other.headers)
    assert r.status_code == 404
    still = await client.get(_path(admin, f"/{wid}"), headers=admin.headers)
    assert still.status_code == 200 and still.json()["active"]


async def test_redelivery_of_a_delivery_still_retrying_is_409(client, make_staff, temporal,
                                                              session):  # type: ignore[no-untyped-def]
    from services.events.service import record_event
    from services.models.webhook import WebhookDelivery

    admin = await make_staff(role=Role.admin)
    created = (await client.post(_path(admin), json=BODY, headers=admin.headers)).json()
    seq = await record_event(session, organisation_id=admin.org_id, type="process.advanced")
    row = WebhookDelivery(subscription_id=uuid.UUID(created["id"]),
                          organisation_id=admin.org_id, event_seq=seq,
                          event_type="process.advanced", status="pending")
    session.add(row)
    await session.commit()
    r = await client.post(_path(admin, f"/{created['id']}/deliveries/{row.id}/redeliver"),
                          headers=admin.headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "delivery_pending"
    listed = await client.get(_path(admin, f"/{created['id']}/deliveries"), headers=admin.headers)
    assert [d["status"] for d in listed.json()["deliveries"]] == ["pending"]
    assert listed.json()["deliveries"][0]["webhook_id"] == f"msg_{row.id.hex}"
