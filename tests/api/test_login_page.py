"""The staff login page: errors are shown, success sets the session cookie that /app accepts."""

from __future__ import annotations

from api.deps import SESSION_COOKIE
from tests.support.forms import form_token, token_in


async def test_login_page_renders(client):
    r = await client.get("/login?next=/app")
    assert r.status_code == 200
    assert 'name="password"' in r.text and 'for="email"' in r.text


async def test_wrong_password_shows_an_error_and_sets_no_cookie(client, make_staff):
    staff = await make_staff()
    csrf = await form_token(client, "/login")
    r = await client.post("/login", data={"email": staff.email, "password": "falsch",
                                          "next": "/app", "csrf_token": csrf})
    assert r.status_code == 401
    assert "Anmeldung fehlgeschlagen" in r.text
    assert 'role="alert"' in r.text
    assert SESSION_COOKIE not in r.cookies
    assert f'value="{staff.email}"' in r.text  # the e-mail is kept, the password is not


async def test_right_password_sets_the_cookie_and_app_works(client, make_staff):
    staff = await make_staff()
    before = await client.get("/app")
    assert before.status_code == 303 and before.headers["location"].startswith("/login")
    csrf = await form_token(client, "/login")
    r = await client.post("/login", data={"email": staff.email, "password": staff.password,
                                          "next": "/app", "csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/app"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie
    page = await client.get("/app")
    assert page.status_code == 200
    csrf = token_in(page.text)  # signed in: the token is bound to the session now
    assert f"Stadt {staff.org_slug}" in page.text and "Koordination" in page.text
    # The cookie also authenticates the JSON API (same principal).
    me = await client.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["email"] == staff.email
    out = await client.post("/logout", data={"csrf_token": csrf})
    assert out.status_code == 303
    assert (await client.get("/app")).status_code == 303


async def test_login_never_redirects_off_site(client, make_staff):
    staff = await make_staff()
    for target in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        client.cookies.delete(SESSION_COOKIE)
        csrf = await form_token(client, "/login")
        r = await client.post("/login", data={"email": staff.email, "password": staff.password,
                                              "next": target, "csrf_token": csrf})
        assert r.status_code == 303 and r.headers["location"] == "/app", target
