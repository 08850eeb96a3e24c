"""The address and name rule at input (issue 8): what the sender could not put on the wire is
refused with a German reason — 422 for the single create, a row error in the import."""

from __future__ import annotations

from services.models.organisation import Role

HEADER = "name,email,group\n"


async def test_single_create_refuses_unsendable_addresses_and_multiline_names(client,
                                                                             make_staff):
    staff = await make_staff(role=Role.coordinator)
    base = f"/api/v1/orgs/{staff.org_slug}/stakeholders"
    for email in ("jörg@bücher.example", "ｊｏｅｒｇ@example.org", "jo\u200ferg@example.org",
                  "a..b@example.org"):
        r = await client.post(base, json={"name": "X", "email": email, "group": "a"},
                              headers=staff.headers)
        assert r.status_code == 422, (email, r.text)
        detail = r.json()["error"]["details"][0]
        assert detail["field"] == "email" and detail["message"], detail
    r = await client.post(base, json={"name": "Mallory\r\nBcc: victim@evil.example",
                                      "email": "m@example.org", "group": "a"},
                          headers=staff.headers)
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "name"

    # An IDN domain is fine; its punycode spelling is the same person.
    r = await client.post(base, json={"name": "Jörg", "email": "joerg@Bücher.example",
                                      "group": "a"}, headers=staff.headers)
    assert r.status_code == 201, r.text
    assert r.json()["email"] == "joerg@bücher.example"
    r = await client.post(base, json={"name": "Jörg", "email": "joerg@xn--bcher-kva.example",
                                      "group": "a"}, headers=staff.headers)
    assert r.status_code == 409


async def test_import_reports_unsendable_addresses_and_names_as_row_errors(client, make_staff):
    staff = await make_staff(role=Role.coordinator)
    url = f"/api/v1/orgs/{staff.org_slug}/stakeholders/import"
    csv = (
        HEADER
        + "Jörg,jörg@bücher.example,politik\n"                        # row 2: umlaut local part
        + "Voll,ｖｏｌｌ@example.org,politik\n"                         # row 3: full-width
        + "Rtl,r\u200ftl@example.org,politik\n"                       # row 4: RTL mark
        + '"Eva\n\n<a href=\'https://evil.example\'>x</a>",eva@example.org,politik\n'  # row 5
        + "Bücher,joerg@bücher.example,politik\n"                     # row 6: IDN domain, fine
    ).encode()
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
