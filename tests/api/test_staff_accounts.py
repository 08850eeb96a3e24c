"""Staff accounts in the browser (issue 13): the admin invites a colleague (a one-time link to
set the password, with an expiry), changes roles and deactivates accounts; "Passwort
vergessen" answers the same for every address; a new password ends the other sign-ins."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import update

from api.app import create_app
from api.deps import SESSION_COOKIE
from services.models.organisation import Role, StaffToken
from tests.support.forms import form_token, token_in

NEW_PASSWORD = "ein-neues-passwort-42"


@pytest.fixture
def app(settings, rollback_maker, smtp_sink):  # type: ignore[no-untyped-def]
    # This module's app mails to the test's sink (overrides the conftest `app`).
    mailing = settings.model_copy(update={"smtp_host": smtp_sink.host,
                                          "smtp_port": smtp_sink.port})
    return create_app(mailing, sessionmaker=rollback_maker)


def _web(app, token: str | None = None) -> AsyncClient:  # type: ignore[no-untyped-def]
    cookies = {SESSION_COOKIE: token} if token else {}
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver",
                       cookies=cookies)


def _link(smtp_sink, address: str) -> str:  # type: ignore[no-untyped-def]
    mails = smtp_sink.to(address)
    assert mails, f"no mail to {address}"
    body = mails[-1].message.get_content()
    match = re.search(r"http://testserver(/passwort-setzen/[A-Za-z0-9_-]+)", body)
    assert match, body
    return match.group(1)


async def _sign_in(client: AsyncClient, email: str, password: str) -> int:
    r = await client.post("/api/v1/auth/token", json={"email": email, "password": password})
    return r.status_code


async def _me(client: AsyncClient, token: str) -> int:
    r = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    return r.status_code


async def _invite(app, admin, smtp_sink, email: str, role: str = "coordinator") -> str:  # type: ignore[no-untyped-def]
    url = f"/app/orgs/{admin.org_slug}/staff"
    async with _web(app, admin.token) as web:
        csrf = await form_token(web, url)
        r = await web.post(url, data={"csrf_token": csrf, "email": email, "role": role,
                                      "display_name": "Erika Muster"})
        assert r.status_code == 303 and r.headers["location"].endswith("?ok=invited"), r.text
        page = await web.get(r.headers["location"])
        assert "Die Einladung wurde verschickt." in page.text and email in page.text
    return _link(smtp_sink, email)


async def test_invitation_link_sets_the_password_once(app, client, make_staff, smtp_sink):  # type: ignore[no-untyped-def]
    admin = await make_staff(role=Role.admin)
    async with _web(app, admin.token) as web:
        assert f'href="/app/orgs/{admin.org_slug}/staff"' in (await web.get("/app")).text
    link = await _invite(app, admin, smtp_sink, "erika@example.org")
    mail = smtp_sink.to("erika@example.org")[-1].message
    assert mail["Subject"] == f"Einladung zu Mitwirken – Stadt {admin.org_slug}"
    # Nobody knows the account's password before the link is used.
    assert await _sign_in(client, "erika@example.org", "irgendein-passwort") == 401

    async with _web(app) as web:
        csrf = token_in((await web.get(link)).text)
        r = await web.post(link, data={"csrf_token": csrf, "password": "kurz",
                                       "password2": "kurz"})
        assert r.status_code == 422 and "mindestens 10 Zeichen" in r.text  # link still good
        r = await web.post(link, data={"csrf_token": csrf, "password": NEW_PASSWORD,
                                       "password2": NEW_PASSWORD})
        assert r.status_code == 303 and r.headers["location"] == "/login?passwort=gesetzt"
        assert "Ihr Passwort ist gesetzt" in (await web.get(r.headers["location"])).text
        assert await _sign_in(client, "erika@example.org", NEW_PASSWORD) == 200

        # Spent: the same link cannot set another password.
        r = await web.post(link, data={"csrf_token": csrf, "password": "noch-ein-passwort",
                                       "password2": "noch-ein-passwort"})
        assert r.status_code == 410 and "schon benutzt" in r.text
    assert await _sign_in(client, "erika@example.org", "noch-ein-passwort") == 401
    r = await client.get("/api/v1/auth/me", headers={
        "Authorization": "Bearer " + (await client.post("/api/v1/auth/token", json={
            "email": "erika@example.org", "password": NEW_PASSWORD})).json()["access_token"]})
    assert r.json()["organisations"][0]["role"] == "coordinator"


async def test_an_expired_invitation_link_is_refused(app, make_staff, smtp_sink,  # type: ignore[no-untyped-def]
                                                    rollback_maker):
    admin = await make_staff(role=Role.admin)
    link = await _invite(app, admin, smtp_sink, "spaet@example.org")
    async with rollback_maker() as s:
        await s.execute(update(StaffToken).values(
            expires_at=datetime.now(UTC) - timedelta(minutes=1)))
        await s.commit()
    async with _web(app) as web:
        csrf = token_in((await web.get(link)).text)
        r = await web.post(link, data={"csrf_token": csrf, "password": NEW_PASSWORD,
                                       "password2": NEW_PASSWORD})
        assert r.status_code == 410 and "abgelaufen" in r.text


async def test_admin_changes_a_role_and_only_admins_manage(app, client, make_staff):  # type: ignore[no-untyped-def]
    admin = await make_staff(role=Role.admin)
    colleague = await make_staff(role=Role.coordinator, org_slug=admin.org_slug)
    url = f"/app/orgs/{admin.org_slug}/staff"
    async with _web(app, admin.token) as web:
        csrf = await form_token(web, url)
        r = await web.post(f"{url}/{colleague.user_id}/role",
                           data={"csrf_token": csrf, "role": "steering"})
        assert r.status_code == 303 and r.headers["location"].endswith("?ok=role")
        # The last admin cannot take the role away from themself.
        r = await web.post(f"{url}/{admin.user_id}/role",
                           data={"csrf_token": csrf, "role": "clerk"})
        assert r.status_code == 409 and "mindestens eine aktive Administration" in r.text
    me = await client.get("/api/v1/auth/me", headers=colleague.headers)
    assert me.json()["organisations"][0]["role"] == "steering"
    async with _web(app, colleague.token) as web:
        assert (await web.get(url)).status_code == 403


async def test_a_deactivated_account_cannot_sign_in_and_its_sessions_end(  # type: ignore[no-untyped-def]
        app, client, make_staff):
    admin = await make_staff(role=Role.admin)
    colleague = await make_staff(role=Role.coordinator, org_slug=admin.org_slug)
    assert await _me(client, colleague.token) == 200
    url = f"/app/orgs/{admin.org_slug}/staff"
    async with _web(app, admin.token) as web:
        csrf = await form_token(web, url)
        r = await web.post(f"{url}/{colleague.user_id}/deactivate", data={"csrf_token": csrf})
        assert r.status_code == 303
        assert "deaktiviert" in (await web.get(r.headers["location"])).text
    assert await _me(client, colleague.token) == 401
    assert await _sign_in(client, colleague.email, colleague.password) == 401


async def test_reset_answer_is_the_same_for_known_and_unknown_addresses(  # type: ignore[no-untyped-def]
        app, client, make_staff, smtp_sink):
    staff = await make_staff()
    answers = []
    async with _web(app) as web:
        csrf = await form_token(web, "/passwort-vergessen")
        for address in (staff.email, "niemand@example.org"):
            r = await web.post("/passwort-vergessen", data={"csrf_token": csrf,
                                                            "email": address})
            answers.append((r.status_code, r.text))
    assert answers[0] == answers[1] and answers[0][0] == 200
    assert "Wenn zu dieser Adresse ein aktives Konto gehört" in answers[0][1]
    assert smtp_sink.to("niemand@example.org") == []
    link = _link(smtp_sink, staff.email)

    # The reset link sets a new password and ends the sign-ins made with the old one.
    async with _web(app) as web:
        csrf = token_in((await web.get(link)).text)
        r = await web.post(link, data={"csrf_token": csrf, "password": NEW_PASSWORD,
                                       "password2": NEW_PASSWORD})
        assert r.status_code == 303
    assert await _me(client, staff.token) == 401
    assert await _sign_in(client, staff.email, staff.password) == 401
    assert await _sign_in(client, staff.email, NEW_PASSWORD) == 200


async def test_a_password_change_ends_the_other_sessions(app, client, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff()
    other = staff.token
    r = await client.post("/api/v1/auth/token",
                          json={"email": staff.email, "password": staff.password})
    this = r.json()["access_token"]
    async with _web(app, this) as web:
        csrf = await form_token(web, "/app/passwort")
        r = await web.post("/app/passwort", data={"csrf_token": csrf, "current": "falsch",
                                                  "password": NEW_PASSWORD})
        assert r.status_code == 401 and "bisherige Passwort stimmt nicht" in r.text
        r = await web.post("/app/passwort", data={"csrf_token": csrf,
                                                  "current": staff.password,
                                                  "password": NEW_PASSWORD})
        assert r.status_code == 303
        assert "Ihre anderen Anmeldungen sind beendet" in (
            await web.get(r.headers["location"])).text
    assert await _me(client, other) == 401
    assert await _me(client, this) == 200
    assert await _sign_in(client, staff.email, NEW_PASSWORD) == 200


async def test_reset_requests_are_throttled_per_address_alike(app, make_staff, smtp_sink):  # type: ignore[no-untyped-def]
    staff = await make_staff()
    async with _web(app) as web:
        csrf = await form_token(web, "/passwort-vergessen")
        for address in (staff.email, "niemand@example.org"):
            codes = [(await web.post("/passwort-vergessen", data={
                "csrf_token": csrf, "email": address})).status_code for _ in range(4)]
            # The fourth within a minute is refused, for a known and an unknown address alike.
            assert codes == [200, 200, 200, 429], address
    assert len(smtp_sink.to(staff.email)) == 3


async def test_the_same_over_the_api(client, make_staff, smtp_sink):  # type: ignore[no-untyped-def]
    admin = await make_staff(role=Role.admin)
    base = f"/api/v1/orgs/{admin.org_slug}/staff"
    r = await client.post(base, headers=admin.headers,
                          json={"email": "Max@Example.org", "role": "steering"})
    assert r.status_code == 201 and r.json()["email"] == "max@example.org", r.text
    user_id = r.json()["id"]
    r = await client.post(base, headers=admin.headers, json={"email": "x@example.org",
                                                             "role": "kaiser"})
    assert r.status_code == 422 and "role" in r.text
    secret = _link(smtp_sink, "max@example.org").rsplit("/", 1)[1]
    r = await client.post("/api/v1/auth/password", json={"token": secret,
                                                         "password": NEW_PASSWORD})
    assert r.status_code == 204, r.text
    r = await client.post("/api/v1/auth/password", json={"token": secret,
                                                         "password": NEW_PASSWORD})
    assert r.status_code == 410 and r.json()["error"]["code"] == "link_used"
    assert await _sign_in(client, "max@example.org", NEW_PASSWORD) == 200

    r = await client.patch(f"{base}/{user_id}", headers=admin.headers, json={"role": "clerk"})
    assert r.status_code == 200 and r.json()["role"] == "clerk"
    listed = (await client.get(base, headers=admin.headers)).json()
    assert {m["email"]: m["role"] for m in listed}["max@example.org"] == "clerk"

    for address in ("max@example.org", "unbekannt@example.org"):
        r = await client.post("/api/v1/auth/password-reset", json={"email": address})
        assert (r.status_code, r.content) == (202, b"")

    r = await client.post(f"{base}/{user_id}/deactivate", headers=admin.headers)
    assert r.status_code == 204
    assert await _sign_in(client, "max@example.org", NEW_PASSWORD) == 401


async def test_a_deactivated_colleague_is_invited_back_without_the_old_password(  # type: ignore[no-untyped-def]
        app, client, make_staff, smtp_sink):
    admin = await make_staff(role=Role.admin)
    colleague = await make_staff(role=Role.coordinator, org_slug=admin.org_slug)
    base = f"/api/v1/orgs/{admin.org_slug}/staff"
    r = await client.post(base, headers=admin.headers, json={"email": colleague.email})
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_member"
    r = await client.post(f"{base}/{colleague.user_id}/deactivate", headers=admin.headers)
    assert r.status_code == 204
    link = await _invite(app, admin, smtp_sink, colleague.email, role="clerk")
    assert await _sign_in(client, colleague.email, colleague.password) == 401
    async with _web(app) as web:
        csrf = token_in((await web.get(link)).text)
        r = await web.post(link, data={"csrf_token": csrf, "password": NEW_PASSWORD,
                                       "password2": NEW_PASSWORD})
        assert r.status_code == 303
    assert await _sign_in(client, colleague.email, NEW_PASSWORD) == 200
