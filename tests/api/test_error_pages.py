"""Errors as pages (issue 13): a browser on a page address gets a German page with a way back
for 403, 404, 405, 409, 422, 429 and 503; an API client (an /api/ path, or no text/html in
Accept) keeps the JSON body of API.md. Real routes where one fails that way; 409 and 429 come
from a route this module adds, since every page that can conflict or throttle renders its own
form again (that is the point) and so never reaches the handler."""

from __future__ import annotations

import pytest
from fastapi import APIRouter
from httpx import ASGITransport, AsyncClient

from api.app import create_app
from api.deps import SESSION_COOKIE
from infra.db import create_engine, create_sessionmaker
from services.errors import Conflict, RateLimited
from services.models.organisation import Role

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
API = {"Accept": "application/json"}

probe = APIRouter()


@probe.get("/probe/conflict")
@probe.get("/api/v1/probe/conflict")
async def _conflict() -> None:
    raise Conflict("Die Phase wurde inzwischen abgeschlossen.", code="phase_closed")


@probe.get("/probe/limited")
@probe.get("/api/v1/probe/limited")
async def _limited() -> None:
    limited = RateLimited("Zu viele Anfragen.")
    limited.retry_after = 30
    raise limited


@pytest.fixture
def app(settings, rollback_maker):  # type: ignore[no-untyped-def]
    app = create_app(settings, sessionmaker=rollback_maker)
    app.include_router(probe)
    return app


def _web(app, token: str | None = None) -> AsyncClient:  # type: ignore[no-untyped-def]
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver",
                       cookies={SESSION_COOKIE: token} if token else {})


def assert_page(r, status: int, title: str, back: str) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("text/html"), r.headers
    assert '<html lang="de" dir="ltr">' in r.text
    assert f"<h1>{title}</h1>" in r.text, r.text
    assert f'href="{back}"' in r.text, r.text
    assert '"error"' not in r.text


def assert_json(r, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code


async def test_404(app):  # type: ignore[no-untyped-def]
    async with _web(app) as web:
        assert_page(await web.get("/gibt-es-nicht", headers=BROWSER), 404,
                    "Seite nicht gefunden", "/")
        # An unknown organisation's public page: the domain's NotFound, as a page too.
        assert_page(await web.get("/o/unbekannt/impressum", headers=BROWSER), 404,
                    "Seite nicht gefunden", "/")
        assert_json(await web.get("/gibt-es-nicht", headers=API), 404, "not_found")
        assert_json(await web.get("/api/v1/gibt-es-nicht", headers=BROWSER), 404, "not_found")


async def test_403_for_a_role_that_may_not(app, make_staff):  # type: ignore[no-untyped-def]
    coordinator = await make_staff(role=Role.coordinator)
    async with _web(app, coordinator.token) as web:
        r = await web.get(f"/app/orgs/{coordinator.org_slug}/rechtliches", headers=BROWSER)
        # Signed in: the way back is the overview.
        assert_page(r, 403, "Kein Zugriff", "/app")
        assert "Ihre Rolle erlaubt diese Aktion nicht." in r.text
        assert_json(await web.get(f"/app/orgs/{coordinator.org_slug}/rechtliches",
                                  headers=API), 403, "role_required")
    r = await _web(app).put(f"/api/v1/orgs/{coordinator.org_slug}/legal", json={},
                            headers={**coordinator.headers, **BROWSER})
    assert_json(r, 403, "role_required")


async def test_405_back_to_the_previous_page(app):  # type: ignore[no-untyped-def]
    async with _web(app) as web:
        r = await web.delete("/login", headers={**BROWSER,
                                                "Referer": "http://testserver/o/x/kontakt"})
        assert_page(r, 405, "Aktion hier nicht möglich", "/o/x/kontakt")
        assert_json(await web.delete("/login", headers=API), 405, "method_not_allowed")
        # A referrer from another site is not offered as the way back.
        r = await web.delete("/login", headers={**BROWSER, "Referer": "https://evil.example/"})
        assert "evil.example" not in r.text


async def test_409(app):  # type: ignore[no-untyped-def]
    async with _web(app) as web:
        r = await web.get("/probe/conflict", headers=BROWSER)
        assert_page(r, 409, "Konflikt mit dem aktuellen Stand", "/")
        assert "Die Phase wurde inzwischen abgeschlossen." in r.text
        assert_json(await web.get("/probe/conflict", headers=API), 409, "phase_closed")
        assert_json(await web.get("/api/v1/probe/conflict", headers=BROWSER), 409,
                    "phase_closed")


async def test_422_for_a_malformed_address(app, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff(role=Role.coordinator)
    async with _web(app, staff.token) as web:
        r = await web.get("/app/campaigns/keine-uuid", headers=BROWSER)
        assert_page(r, 422, "Eingabe ungültig", "/app")
        assert "campaign_id" in r.text and "ungültiger Wert" in r.text
        assert_json(await web.get("/app/campaigns/keine-uuid", headers=API), 422,
                    "validation_error")
        assert_json(await web.get("/api/v1/campaigns/keine-uuid",
                                  headers={**staff.headers, **BROWSER}), 422, "validation_error")


async def test_429_keeps_retry_after(app):  # type: ignore[no-untyped-def]
    async with _web(app) as web:
        r = await web.get("/probe/limited", headers=BROWSER)
        assert_page(r, 429, "Zu viele Anfragen", "/")
        assert r.headers["Retry-After"] == "30" and "30 Sekunden" in r.text
        r = await web.get("/api/v1/probe/limited", headers=BROWSER)
        assert_json(r, 429, "rate_limited")
        assert r.headers["Retry-After"] == "30"


async def test_503_when_the_database_is_unreachable(settings):  # type: ignore[no-untyped-def]
    # Nothing listens on port 1: every connection is refused.
    engine = create_engine("postgresql+asyncpg://nobody:x@127.0.0.1:1/none", pool_size=1)
    app = create_app(settings, sessionmaker=create_sessionmaker(engine))
    try:
        async with AsyncClient(transport=ASGITransport(app=app, raise_app_exceptions=False),
                               base_url="http://testserver") as web:
            r = await web.get("/o/stadt/impressum", headers=BROWSER)
            assert_page(r, 503, "Vorübergehend nicht erreichbar", "/")
            r = await web.get("/o/stadt/impressum", headers=API)
            assert r.status_code == 503 and r.json()["error"]["code"] in (
                "database_unavailable", "unavailable")
    finally:
        await engine.dispose()


async def test_403_for_a_cross_origin_post(app, make_staff):  # type: ignore[no-untyped-def]
    # Refused by the origin check (api/csrf.py BrowserGuard) before any route runs: still the
    # page for a browser, with the security headers every answer carries.
    staff = await make_staff(role=Role.coordinator)
    target = "/app/processes/00000000-0000-0000-0000-000000000000/advance"
    evil = {"Origin": "https://evil.example", "Referer": "https://evil.example/form"}
    async with _web(app, staff.token) as web:
        r = await web.post(target, data={"expected_current": "x"}, headers={**BROWSER, **evil})
        # Not the role's 403: the page says what happened and what to do.
        assert_page(r, 403, "Anfrage von einer anderen Seite", "/app")
        assert "Öffnen Sie die Seite direkt hier" in r.text and "Ihre Rolle" not in r.text
        assert r.headers["x-frame-options"] == "DENY"
        assert "evil.example" not in r.text
        r = await web.post(target, data={"expected_current": "x"}, headers={**API, **evil})
        assert_json(r, 403, "cross_origin_request")
        assert r.headers["x-frame-options"] == "DENY"


async def test_413_for_a_too_large_form(app, settings):  # type: ignore[no-untyped-def]
    # Refused by the body-size limit (api/limits.py), declared or only seen while streaming.
    big = {"email": "a" * (settings.max_body_bytes + 10), "password": "x"}

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b"a" * 65536

    form = {"content-type": "application/x-www-form-urlencoded"}
    async with _web(app) as web:
        assert_page(await web.post("/login", data=big, headers=BROWSER), 413, "Zu groß", "/")
        assert_page(await web.post("/login", content=chunks(), headers={**BROWSER, **form}),
                    413, "Zu groß", "/")
        assert_json(await web.post("/login", data=big, headers=API), 413, "payload_too_large")
        assert_json(await web.post("/login", content=chunks(), headers={**API, **form}), 413,
                    "payload_too_large")
        assert_json(await web.post("/api/v1/auth/token", json=big, headers=BROWSER), 413,
                    "payload_too_large")
