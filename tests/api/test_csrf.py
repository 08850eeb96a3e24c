"""CSRF and framing (issue 8): cross-origin posts are refused, every staff form needs its
token (the login form too), bearer and participant-link requests need none, every answer
forbids framing, and cookies are Secure behind https."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from httpx import ASGITransport, AsyncClient

from api.app import create_app
from api.deps import SESSION_COOKIE
from api.templating import TEMPLATES_DIR
from tests.support.forms import form_token, token_in


def _web(app, staff=None) -> AsyncClient:  # type: ignore[no-untyped-def]
    cookies = {SESSION_COOKIE: staff.token} if staff else {}
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver",
                       cookies=cookies)


def _assert_no_framing(response) -> None:  # type: ignore[no-untyped-def]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


async def test_every_answer_forbids_framing(app, make_staff):
    staff = await make_staff()
    async with _web(app, staff) as web:
        for path in ("/login", "/app", "/app/processes", "/api/v1/auth/me", "/static/site.css",
                     "/gibt-es-nicht", f"/t/{'x' * 43}"):
            _assert_no_framing(await web.get(path))


async def test_cross_origin_posts_with_the_session_cookie_are_refused(app, make_staff):
    staff = await make_staff()
    async with _web(app, staff) as web:
        csrf = await form_token(web, "/app/processes")
        target = f"/app/processes/{uuid.uuid4()}/advance"
        for headers in ({"Origin": "http://testserver:8081"},          # another port
                        {"Origin": "http://evil.testserver"},          # a sub-domain
                        {"Origin": "null"},
                        {"Sec-Fetch-Site": "same-site"},               # same site, other origin
                        {"Sec-Fetch-Site": "cross-site"}):
            r = await web.post(target, data={"csrf_token": csrf, "expected_current": "x"},
                               headers=headers)
            assert r.status_code == 403, headers
            assert r.json()["error"]["code"] == "cross_origin_request"
            _assert_no_framing(r)
        # The same request from this origin passes both layers (and then finds no process).
        r = await web.post(target, data={"csrf_token": csrf, "expected_current": "x"},
                           headers={"Origin": "http://testserver",
                                    "Sec-Fetch-Site": "same-origin"})
        assert r.status_code == 404


async def test_staff_forms_need_the_token_of_their_own_session(app, make_staff):
    staff = await make_staff()
    other = await make_staff()
    async with _web(app, other) as web:
        foreign = await form_token(web, "/app/processes")
    async with _web(app, staff) as web:
        await web.get("/app")  # the pre-session cookie
        for path, data in (("/app/processes", {"org": staff.org_slug, "title": "X",
                                               "template": "bergkamen-for-all",
                                               "starts_on": "2027-02-01"}),
                           (f"/app/processes/{uuid.uuid4()}/advance", {"expected_current": "x"}),
                           (f"/app/approvals/{uuid.uuid4()}/decision", {"decision": "approve"}),
                           ("/logout", {})):
            for token in (None, foreign, "0" * 64):
                sent = data if token is None else {**data, "csrf_token": token}
                r = await web.post(path, data=sent)
                assert r.status_code == 403, (path, token)
                assert r.json()["error"]["code"] == "csrf_token_invalid"
        # The logout above was refused: the session still works.
        assert (await web.get("/app")).status_code == 200


async def test_login_form_needs_its_token(client, make_staff):
    staff = await make_staff()
    form = {"email": staff.email, "password": staff.password, "next": "/app"}
    r = await client.post("/login", data=form)  # a forged login: no pre-session cookie
    assert r.status_code == 403 and SESSION_COOKIE not in r.cookies
    csrf = await form_token(client, "/login")
    r = await client.post("/login", data=form, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    r = await client.post("/login", data={**form, "csrf_token": "f" * 64})
    assert r.status_code == 403
    r = await client.post("/login", data={**form, "csrf_token": csrf})
    assert r.status_code == 303


async def test_bearer_and_participant_requests_need_no_token(client, make_staff):
    staff = await make_staff()
    r = await client.post(f"/api/v1/orgs/{staff.org_slug}/groups", json={"label": "a"},
                          headers={**staff.headers, "Origin": "https://tool.example"})
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/orgs/{staff.org_slug}/stakeholders",
                          json={"name": "Anna", "email": "anna@example.org", "group": "a",
                                "consent_at": "2026-01-05T10:00:00+01:00"},
                          headers={**staff.headers, "Origin": "https://tool.example"})
    assert r.status_code == 201, r.text
    # A participant link (RFC 8058 one-click unsubscribe posts from the mail provider's
    # servers): no token, no cookie; an unknown link is simply not found.
    r = await client.post(f"/t/{'x' * 43}/unsubscribe", content=b"List-Unsubscribe=One-Click",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code != 403
    page = await client.get(f"/t/{'x' * 43}")
    assert "set-cookie" not in page.headers  # participants get no cookie


async def test_cookies_are_secure_behind_https(settings, rollback_maker, make_staff):
    staff = await make_staff()
    app = create_app(settings.model_copy(update={"public_url": "https://beteiligung.example"}),
                     sessionmaker=rollback_maker)
    async with AsyncClient(transport=ASGITransport(app=app),
                           base_url="https://beteiligung.example") as web:
        page = await web.get("/login")
        seed = page.headers["set-cookie"]
        assert seed.startswith("mitwirken_csrf=") and "Secure" in seed
        assert "HttpOnly" in seed and "SameSite=Lax" in seed
        r = await web.post("/login", data={"email": staff.email, "password": staff.password,
                                           "next": "/app", "csrf_token": token_in(page.text)},
                           headers={"Origin": "https://beteiligung.example"})
        assert r.status_code == 303
        session = r.headers["set-cookie"]
        assert session.startswith(f"{SESSION_COOKIE}=")
        assert "Secure" in session and "HttpOnly" in session and "samesite=lax" in session.lower()


def test_every_staff_form_in_the_templates_carries_the_token():
    forms = 0
    for template in Path(TEMPLATES_DIR).rglob("*.html"):
        for match in re.finditer(r'<form\b[^>]*method="post"[^>]*>(.{0,80})',
                                 template.read_text(), re.I | re.S):
            if 'action="/t/' in match.group(0) or 'action="{{ action }}"' in match.group(0):
                continue  # participant links: authenticated by the link (api/csrf.py)
            if 'action="{{ base }}' in match.group(0) and "participation/" in str(template):
                # The survey form serves personal links (the link is the credential) and
                # multiplier links (one link for many browsers: those carry the token).
                assert "{% if not person" in match.group(1) and "{{ csrf_field }}" in \
                    match.group(1), (template, match.group(0))
                continue
            forms += 1
            assert match.group(1).startswith("{{ csrf_field }}"), (template, match.group(0))
    assert forms >= 8
