"""Sign-ins are revocable server-side (issue 8): logout and a password change end them, for
the cookie and the bearer token alike, and an open event stream ends with its credentials."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from api.app import create_app
from api.deps import SESSION_COOKIE
from api.routes import events
from services.identity.service import ensure_user
from services.models.organisation import Role
from tests.support.forms import form_token
from tests.support.live_server import live_server
from tests.support.polling import eventually


async def _sign_in(client, staff) -> str:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/auth/token",
                          json={"email": staff.email, "password": staff.password})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_after_logout_the_old_cookie_and_bearer_are_401(client, make_staff):
    staff = await make_staff()
    csrf = await form_token(client, "/login")
    r = await client.post("/login", data={"email": staff.email, "password": staff.password,
                                          "csrf_token": csrf})
    assert r.status_code == 303
    value = r.cookies[SESSION_COOKIE]
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    csrf = await form_token(client, "/app")  # the logout form's token, bound to the session
    assert (await client.post("/logout", data={"csrf_token": csrf})).status_code == 303
    client.cookies.clear()
    # A copy of the value (another tab, a stolen cookie) no longer works, in either form.
    cookie = {"Cookie": f"{SESSION_COOKIE}={value}"}
    as_cookie = await client.get("/api/v1/auth/me", headers=cookie)
    assert as_cookie.status_code == 401
    assert as_cookie.json()["error"]["code"] == "session_revoked"
    assert (await client.get("/api/v1/auth/me", headers=_bearer(value))).status_code == 401
    page = await client.get("/app", headers=cookie)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


async def test_api_logout_revokes_only_that_sign_in(client, make_staff):
    staff = await make_staff()
    first, second = await _sign_in(client, staff), await _sign_in(client, staff)
    r = await client.post("/api/v1/auth/logout", headers=_bearer(first))
    assert r.status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=_bearer(first))).status_code == 401
    assert (await client.get("/api/v1/auth/me", headers=_bearer(second))).status_code == 200
    # Logging out twice (or with garbage) is harmless.
    assert (await client.post("/api/v1/auth/logout", headers=_bearer(first))).status_code == 204
    assert (await client.post("/api/v1/auth/logout",
                              headers=_bearer("kaputt"))).status_code == 204


async def test_a_password_change_ends_every_sign_in(client, make_staff, rollback_maker):
    staff = await make_staff()
    tokens = [staff.token, await _sign_in(client, staff), await _sign_in(client, staff)]
    async with rollback_maker() as s:
        await ensure_user(s, org_slug=staff.org_slug, email=staff.email, role=Role.coordinator,
                          password="ganz-neues-passwort-1")
        await s.commit()
    for token in tokens:
        r = await client.get("/api/v1/auth/me", headers=_bearer(token))
        assert r.status_code == 401, token
    staff.password = "ganz-neues-passwort-1"
    fresh = await _sign_in(client, staff)
    assert (await client.get("/api/v1/auth/me", headers=_bearer(fresh))).status_code == 200


async def _rest(lines) -> list[str]:  # type: ignore[no-untyped-def]
    return [line async for line in lines]


@pytest.fixture
def quick_recheck(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(events, "CREDENTIAL_CHECK_SECONDS", 0.2)


async def test_an_open_stream_ends_after_logout(settings, committed_maker,
                                               make_committed_staff, quick_recheck,
                                               monkeypatch):
    rechecks: list[object] = []
    real_check = events.principal_for_token

    async def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        principal = await real_check(*args, **kwargs)
        rechecks.append(principal)  # only reached when the token still holds
        return principal

    monkeypatch.setattr(events, "principal_for_token", counted)
    app = create_app(settings, sessionmaker=committed_maker)
    staff = await make_committed_staff(role=Role.steering)
    async with live_server(app, start_timeout=5) as base, \
            httpx.AsyncClient(base_url=base, timeout=10) as http:
        token = await _sign_in(http, staff)
        async with http.stream("GET", "/api/v1/events/stream", headers=_bearer(token)) as resp:
            assert resp.status_code == 200
            lines = resp.aiter_lines()
            assert await asyncio.wait_for(anext(lines), 5) == ": connected"
            await eventually(lambda: rechecks, timeout=5,
                             what="a recheck while still signed in")
            assert (await http.post("/api/v1/auth/logout",
                                    headers=_bearer(token))).status_code == 204
            rest = await asyncio.wait_for(_rest(lines), 5)
    assert "event: session_ended" in rest
    assert 'data: {"code": "session_revoked"}' in rest


async def test_an_open_stream_ends_when_its_token_expires(settings, committed_maker,
                                                         make_committed_staff, quick_recheck):
    app = create_app(settings.model_copy(update={"token_ttl_seconds": 1}),
                     sessionmaker=committed_maker)
    staff = await make_committed_staff(role=Role.steering)
    async with live_server(app, start_timeout=5) as base, \
            httpx.AsyncClient(base_url=base, timeout=10) as http:
        token = await _sign_in(http, staff)
        async with http.stream("GET", "/api/v1/events/stream", headers=_bearer(token)) as resp:
            assert resp.status_code == 200
            rest = await asyncio.wait_for(_rest(resp.aiter_lines()), 6)
    assert rest[0] == ": connected"
    assert "event: session_ended" in rest
    assert 'data: {"code": "token_expired"}' in rest


async def test_a_sign_in_clears_the_users_expired_sign_ins(client, make_staff, session):
    from datetime import UTC, datetime, timedelta

    from services.models.organisation import StaffSession

    staff = await make_staff()
    old = await session.get(StaffSession, staff.session_id)
    old.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    await session.commit()
    await _sign_in(client, staff)
    session.expunge_all()
    assert await session.get(StaffSession, staff.session_id) is None
