"""The address and name rule at input (issue 8): what the sender could not put on the wire is
refused with a German reason — 422 for the single create, a row error in the import."""

from __future__ import annotations

from services.models.organisation import Role

HEADER = "name,email,group,consent_at\n"
CONSENT = "2026-01-05T10:00:00+01:00"


async def _coordinator(client, make_staff):  # type: ignore[no-untyped-def]
    """A coordinator whose organisation knows the groups these tests use."""
    staff = await make_staff(role=Role.coordinator)
    for label in ("a", "politik"):
        r = await client.post(f"/api/v1/orgs/{staff.org_slug}/groups", json={"label": label},
                              headers=staff.headers)
        assert r.status_code == 201, r.text
    return staff


async def test_single_create_refuses_unsendable_addresses_and_multiline_names(client,
                                                                             make_staff):
    staff = await _coordinator(client, make_staff)
    base = f"/api/v1/orgs/{staff.org_slug}/stakeholders"
    for email in ("jörg@bücher.example", "ｊｏｅｒｇ@example.org", "jo\u200ferg@example.org",
                  "a..b@example.org"):
        r = await client.post(base, json={"name": "X", "email": email, "group": "a",
                                          "consent_at": CONSENT},
                              headers=staff.headers)
        assert r.status_code == 422, (email, r.text)
        detail = r.json()["error"]["details"][0]
        assert detail["field"] == "email" and detail["message"], detail
    r = await client.post(base, json={"name": "Mallory\r\nBcc: victim@evil.example",
                                      "email": "m@example.org",
                                      "group": "a", "consent_at": CONSENT},
                          headers=staff.headers)
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "name"

    # An IDN domain is fine; its punycode spelling is the same person.
    r = await client.post(base, json={"name": "Jörg", "email": "joerg@Bücher.example",
                                      "group": "a", "consent_at": CONSENT},
                          headers=staff.headers)
    assert r.status_code == 201, r.text
    assert r.json()["email"] == "joerg@bücher.example"
    r = await client.post(base, json={"name": "Jörg", "email": "joerg@xn--bcher-kva.example",
                                      "group": "a", "consent_at": CONSENT},
                          headers=staff.headers)
    assert r.status_code == 409


async def test_import_reports_unsendable_addresses_and_names_as_row_errors(client, make_staff):
    staff = await _coordinator(client, make_staff)
    url = f"/api/v1/orgs/{staff.org_slug}/stakeholders/import"
    # Rows 2-4: umlaut local part, full-width letters, RTL mark; row 5: a name with a blank
    # line and HTML; row 6: an IDN domain, which is fine.
    rows = ["Jörg,jörg@bücher.example", "Voll,ｖｏｌｌ@example.org",
            "Rtl,r\u200ftl@example.org",
            '"Eva\n\n<a href=\'https://evil.example\'>x</a>",eva@example.org',
            "Bücher,joerg@bücher.example"]
    csv = (HEADER + "".join(f"{row},politik,2026-01-05\n" for row in rows)).encode()
    r = await client.post(url, files={"file": ("liste.csv", csv, "text/csv")},
                          headers=staff.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    rejected = {(x["row"], x["field"]): x["message"] for x in body["rejected"]}
    assert set(rejected) == {(2, "email"), (3, "email"), (4, "email"), (5, "name")}
    assert "Umlaute" in rejected[(2, "email")]
    assert "Vollbreite" in rejected[(3, "email")]
    assert "unsichtbare" in rejected[(4, "email")]
    assert "Zeilenumbrüche" in rejected[(5, "name")]
    assert body["created"] == 1
