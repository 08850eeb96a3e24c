"""Auth: passwords, bearer tokens (expiry, tampering), roles and organisation scoping, and
that bad input never produces a 500."""

from __future__ import annotations

import time
import uuid

from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from services.models.organisation import Role


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code
    return error


async def test_right_password_gives_a_working_token(client, make_staff):
    staff = await make_staff(role=Role.coordinator)
    r = await client.post("/api/v1/auth/token",
                          json={"email": staff.email.upper(), "password": staff.password})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    me = await client.get("/api/v1/auth/me",
                          headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == staff.email
    assert me.json()["organisations"] == [
        {"slug": staff.org_slug, "name": f"Stadt {staff.org_slug}", "role": "coordinator"}
    ]


async def test_wrong_password_and_unknown_user_get_the_same_401(client, make_staff):
    staff = await make_staff()
    wrong = await client.post("/api/v1/auth/token",
                              json={"email": staff.email, "password": "falsch"})
    unknown = await client.post("/api/v1/auth/token",
                                json={"email": "niemand@example.org", "password": "falsch"})
    e1 = assert_error(wrong, 401, "invalid_credentials")
    e2 = assert_error(unknown, 401, "invalid_credentials")
    assert e1["message"] == e2["message"]  # no hint which e-mail addresses exist
    assert wrong.headers["www-authenticate"] == "Bearer"


async def test_missing_token_is_401(client):
    assert_error(await client.get("/api/v1/auth/me"), 401, "not_authenticated")
    assert_error(await client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"}),
                 401, "not_authenticated")


async def test_expired_token_is_401(client, make_staff, settings):
    staff = await make_staff()

    class NineHoursAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 9 * 3600

    claims = {"sub": str(staff.user_id), "sid": str(staff.session_id)}
    old = URLSafeTimedSerializer(settings.resolved_secret_key(), salt="access-token",
                                 signer=NineHoursAgo).dumps(claims)
    r = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {old}"})
    assert_error(r, 401, "token_expired")
    # The same construction with the current time is accepted: the test checks expiry only.
    fresh = URLSafeTimedSerializer(settings.resolved_secret_key(), salt="access-token").dumps(
        claims)
    ok = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {fresh}"})
    assert ok.status_code == 200


async def test_tampered_and_foreign_tokens_are_401(client, make_staff):
    staff = await make_staff()
    # payload.timestamp.signature; a compressed payload itself starts with "." (rsplit).
    _, stamp, signature = staff.token.rsplit(".", 2)
    rest = f"{stamp}.{signature}"
    other_user = URLSafeTimedSerializer("x", salt="access-token").dumps(
        {"sub": str(uuid.uuid4()), "sid": str(staff.session_id)}).rsplit(".", 2)[0]
    tampered = [
        # Not the last characters: base64's padding bits there may decode to the same bytes.
        staff.token[:-5] + ("A" if staff.token[-5] != "A" else "B") + staff.token[-4:],
        other_user + "." + rest,  # someone else's id under this signature
        URLSafeTimedSerializer("another-key", salt="access-token").dumps(
            {"sub": str(staff.user_id), "sid": str(staff.session_id)}),
        "not-a-token",
    ]
    for token in tampered:
        r = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert_error(r, 401, "invalid_token")


async def test_token_of_a_deleted_user_is_401(client, make_staff, session):
    from services.models.organisation import User

    staff = await make_staff()
    user = await session.get(User, staff.user_id)
    user.is_active = False
    await session.commit()
    r = await client.get("/api/v1/auth/me", headers=staff.headers)
    assert_error(r, 401, "invalid_token")


async def test_role_without_the_right_is_403(client, make_staff):
    steering = await make_staff(role=Role.steering)
    r = await client.post("/api/v1/orgs", json={"slug": f"neu-{uuid.uuid4().hex[:6]}",
                                                "name": "Neue Stadt"}, headers=steering.headers)
    assert_error(r, 403, "platform_admin_required")
    # Even an organisation admin is not a platform admin.
    org_admin = await make_staff(role=Role.admin)
    r = await client.post("/api/v1/orgs", json={"slug": "andere", "name": "X"},
                          headers=org_admin.headers)
    assert_error(r, 403)


async def test_platform_admin_creates_an_organisation(client, make_staff):
    admin = await make_staff(role=Role.admin, platform_admin=True)
    slug = f"neu-{uuid.uuid4().hex[:6]}"
    r = await client.post("/api/v1/orgs", json={"slug": slug, "name": "Neue Stadt"},
                          headers=admin.headers)
    assert r.status_code == 201, r.text
    assert r.json()["slug"] == slug
    again = await client.post("/api/v1/orgs", json={"slug": slug, "name": "Neue Stadt"},
                              headers=admin.headers)
    assert_error(again, 409, "org_exists")
    bad = await client.post("/api/v1/orgs", json={"slug": "Groß Buchstaben", "name": "X"},
                            headers=admin.headers)
    assert_error(bad, 422)


async def test_other_organisations_objects_are_404_like_missing_ones(client, make_staff):
    a = await make_staff(role=Role.coordinator)
    b = await make_staff(role=Role.coordinator)
    own = await client.get(f"/api/v1/orgs/{a.org_slug}", headers=a.headers)
    assert own.status_code == 200 and own.json()["id"] == str(a.org_id)
    foreign = await client.get(f"/api/v1/orgs/{b.org_slug}", headers=a.headers)
    missing = await client.get("/api/v1/orgs/gibt-es-nicht", headers=a.headers)
    e1 = assert_error(foreign, 404, "not_found")
    e2 = assert_error(missing, 404, "not_found")
    # Same status and code as for a missing one. (The messages still differ: "Nicht gefunden."
    # vs "Organisation nicht gefunden." — reported to the lead, see api/routes/orgs.py.)
    assert (e1["code"], e1["details"]) == (e2["code"], e2["details"])


async def test_malformed_bodies_are_422_never_500(client, make_staff):
    admin = await make_staff(role=Role.admin, platform_admin=True)
    h = {**admin.headers, "content-type": "application/json"}
    cases = [
        b"{not json",
        b"",
        b"[1, 2, 3]",
        b'"a string"',
        b'{"slug": 5, "name": ["x"]}',
        b'{"slug": "ok-slug"}',
        b'{"slug": "ok-slug", "name": "X", "extra": true}',
        '{"slug": "\u00fc\u00fc", "name": "\u0000"}'.encode(),
        b"\xff\xfe\x00garbage",
    ]
    for body in cases:
        r = await client.post("/api/v1/orgs", content=body, headers=h)
        assert r.status_code in (400, 422), (body, r.status_code, r.text)
        assert_error(r, r.status_code)
    typed = await client.post("/api/v1/orgs", json={"slug": 5, "name": ["x"]}, headers=h)
    fields = {d["field"] for d in assert_error(typed, 422, "validation_error")["details"]}
    assert {"slug", "name"} <= fields
    token = await client.post("/api/v1/auth/token", json={"email": 1})
    assert_error(token, 422, "validation_error")
    query = await client.get("/api/v1/events?after=-1&limit=abc", headers=admin.headers)
    details = assert_error(query, 422)["details"]
    assert {d["field"] for d in details} == {"query.after", "query.limit"}


async def test_huge_body_is_413(client, settings):
    big = b'{"email": "' + b"a" * (settings.max_body_bytes + 10) + b'", "password": "x"}'
    r = await client.post("/api/v1/auth/token", content=big,
                          headers={"content-type": "application/json"})
    assert_error(r, 413, "payload_too_large")

    async def chunks():  # no Content-Length: the limit must hold while streaming too
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b"a" * 65536

    r = await client.post("/api/v1/auth/token", content=chunks(),
                          headers={"content-type": "application/json"})
    assert_error(r, 413, "payload_too_large")


async def test_unknown_path_and_method_keep_the_error_shape(client):
    assert_error(await client.get("/api/v1/gibt-es-nicht"), 404)
    assert_error(await client.delete("/api/v1/auth/token"), 405)


async def test_nul_characters_anywhere_are_422_not_500(client, make_staff):
    # Found by fuzzing: PostgreSQL text cannot hold U+0000, so a NUL reaching a query was a 500.
    staff = await make_staff(role=Role.coordinator)
    base = f"/api/v1/orgs/{staff.org_slug}/stakeholders"
    for url in (f"{base}?q=a%00b", f"{base}?tag=a%00b", "/api/v1/orgs/we%00iter/stakeholders"):
        details = assert_error(await client.get(url, headers=staff.headers), 422,
                               "validation_error")["details"]
        assert details[0]["field"] in ("query", "path"), url
    r = await client.post("/api/v1/auth/token", json={"email": "a\u0000@b.de", "password": "x"})
    assert assert_error(r, 422, "validation_error")["details"][0]["field"] == "email"
    # The six characters `\u0000` (an escaped backslash) are ordinary text, not a NUL.
    r = await client.post("/api/v1/auth/token", content=b'{"email": "a\\\\u0000@b.de", '
                          b'"password": "x"}', headers={"content-type": "application/json"})
    assert_error(r, 401)
    ok = await client.get(f"{base}?q=%2500", headers=staff.headers)
    assert ok.status_code == 200
