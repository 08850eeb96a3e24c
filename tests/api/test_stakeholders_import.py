"""Stakeholder import (CSV, XLSX), search, and the single create."""

from __future__ import annotations

import io
import time

from openpyxl import Workbook

from services.models.organisation import Role

HEADER = "name,email,kind,group,reach_tier,tags,language\n"


WEITERSTADT_GROUPS = ("engagierte-buergerinnen", "verwaltung", "politik", "zivilgesellschaft",
                      "lokale-kooperationspartner")


def _upload(name: str, data: bytes, ctype: str = "text/csv") -> dict:
    return {"file": (name, data, ctype)}


async def _prepare(client, make_staff, staff, groups=WEITERSTADT_GROUPS,  # type: ignore[no-untyped-def]
                   public_task: bool = True) -> None:
    """The organisation knows `groups` and (unless told otherwise) declares a public task, so
    rows without a consent date have a legal basis - through the API, as an admin would."""
    admin = await make_staff(role=Role.admin, org_slug=staff.org_slug)
    if public_task:
        r = await client.patch(f"/api/v1/orgs/{staff.org_slug}", headers=admin.headers,
                               json={"public_task_basis": "§ 5 HGO (Beteiligung der Einwohner)"})
        assert r.status_code == 200, r.text
    for key in groups:
        r = await client.post(f"/api/v1/orgs/{staff.org_slug}/groups", headers=admin.headers,
                              json={"label": key, "key": key})
        assert r.status_code == 201, r.text


async def test_csv_good_bad_and_duplicate_rows(client, make_staff):
    staff = await make_staff(role=Role.coordinator)
    await _prepare(client, make_staff, staff)
    url = f"/api/v1/orgs/{staff.org_slug}/stakeholders/import"
    csv = (
        HEADER
        + "Anna Beispiel,anna@example.org,person,Engagierte Bürger*innen,1,sport;jugend,de\n"
        + "Verein Miteinander,info@miteinander.example,organisation,Zivilgesellschaftliche Gruppen,2,,en\n"  # noqa: E501
        + ",noname@example.org,person,verwaltung,1,,de\n"          # row 4: name missing
        + "Bert,kein-mail,person,verwaltung,1,,de\n"               # row 5: bad e-mail
        + "Clara,clara@example.org,alien,verwaltung,1,,de\n"       # row 6: bad kind
        + "Dora,dora@example.org,person,,1,,de\n"                  # row 7: group missing
        + "Emil,emil@example.org,person,politik,4,,de\n"           # row 8: tier out of range
        + "Fritz,fritz@example.org,person,politik,2,,fr\n"         # row 9: bad language
        + "Anna Zwei,ANNA@example.org,person,politik,3,,de\n"      # row 10: duplicate in file
    ).encode()
    r = await client.post(url, files=_upload("liste.csv", csv), headers=staff.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["created"] == 2 and body["updated"] == 0
    rejected = {(x["row"], x["field"]) for x in body["rejected"]}
    assert rejected == {(4, "name"), (5, "email"), (6, "kind"), (7, "group"),
                        (8, "reach_tier"), (9, "language"), (10, "email")}
    assert all(x["message"] for x in body["rejected"])

    # Re-import: existing e-mail updates its stakeholder (tier and group change).
    again = (HEADER + "Anna B.,anna@example.org,person,Politik,3,kultur,en\n").encode()
    r = await client.post(url, files=_upload("liste.csv", again), headers=staff.headers)
    assert r.json() == {"created": 0, "updated": 1, "rejected": []}

    r = await client.get(f"/api/v1/orgs/{staff.org_slug}/stakeholders",
                         params={"q": "anna"}, headers=staff.headers)
    items = r.json()["items"]
    assert len(items) == 1
    assert items[0]["name"] == "Anna B." and items[0]["group"] == "politik"
    assert items[0]["reach_tier"] == 3 and items[0]["tags"] == ["kultur"]
    assert items[0]["language"] == "en"

    r = await client.get(f"/api/v1/orgs/{staff.org_slug}/stakeholders",
                         params={"group": "Zivilgesellschaftliche Gruppen", "tier": 2},
                         headers=staff.headers)
    assert [i["email"] for i in r.json()["items"]] == ["info@miteinander.example"]


async def test_semicolon_csv_with_german_headers(client, make_staff):
    staff = await make_staff(role=Role.coordinator)
    await _prepare(client, make_staff, staff)
    data = ("Name;E-Mail;Gruppe;Erreichbarkeit\nJana;jana@example.org;Verwaltung;2\n"
            ).encode("cp1252")
    r = await client.post(f"/api/v1/orgs/{staff.org_slug}/stakeholders/import",
                          files=_upload("export.csv", data), headers=staff.headers)
    assert r.json() == {"created": 1, "updated": 0, "rejected": []}


async def test_xlsx_import(client, make_staff):
    staff = await make_staff(role=Role.coordinator)
    await _prepare(client, make_staff, staff)
    wb = Workbook()
    ws = wb.active
    ws.append(["name", "email", "kind", "group", "reach_tier", "tags", "language"])
    ws.append(["Schule am Park", "schule@example.org", "organisation", "Lokale Kooperationspartner",
               3, "bildung", "de"])
    ws.append(["Ohne Mail", None, "person", "politik", 1, None, "de"])
    buf = io.BytesIO()
    wb.save(buf)
    r = await client.post(
        f"/api/v1/orgs/{staff.org_slug}/stakeholders/import",
        files=_upload("liste.xlsx", buf.getvalue(),
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        headers=staff.headers)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 1
    assert r.json()["rejected"] == [{"row": 3, "field": "email", "column": "email",
                                     "message": "Keine gültige E-Mail-Adresse."}]
    r = await client.get(f"/api/v1/orgs/{staff.org_slug}/stakeholders",
                         params={"tag": "bildung"}, headers=staff.headers)
    assert r.json()["items"][0]["group"] == "lokale-kooperationspartner"


async def test_not_a_csv_file_is_refused(client, make_staff):
    staff = await make_staff(role=Role.coordinator)
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
    r = await client.post(f"/api/v1/orgs/{staff.org_slug}/stakeholders/import",
                          files=_upload("bild.png", png, "image/png"), headers=staff.headers)
    assert r.status_code == 415
    assert r.json()["error"]["code"] == "unsupported_media_type"
    fake_xlsx = b"this is not a zip"
    r = await client.post(f"/api/v1/orgs/{staff.org_slug}/stakeholders/import",
                          files=_upload("liste.xlsx", fake_xlsx), headers=staff.headers)
    assert r.status_code == 415
    r = await client.post(f"/api/v1/orgs/{staff.org_slug}/stakeholders/import",
                          files=_upload("a.csv", b"vorname,telefon\nx,1\n"),
                          headers=staff.headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "missing_columns"
    # Nothing was imported by any of the refused files.
    r = await client.get(f"/api/v1/orgs/{staff.org_slug}/stakeholders", headers=staff.headers)
    assert r.json()["total"] == 0


async def test_ten_thousand_rows_in_seconds(client, make_staff):
    staff = await make_staff(role=Role.coordinator)
    lines = [HEADER] + [
        f"Person {i},p{i}@example.org,person,gruppe-{i % 7},{i % 3 + 1},t{i % 5},de\n"
        for i in range(10_000)
    ]
    data = "".join(lines).encode()
    started = time.perf_counter()
    await _prepare(client, make_staff, staff, groups=())
    r = await client.post(f"/api/v1/orgs/{staff.org_slug}/stakeholders/import",
                          params={"create_groups": "true"},
                          files=_upload("gross.csv", data), headers=staff.headers)
    elapsed = time.perf_counter() - started
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 10_000
    assert elapsed < 10, elapsed


async def test_create_one_and_contact_person(client, make_staff):
    staff = await make_staff(role=Role.coordinator)
    await _prepare(client, make_staff, staff, groups=(*WEITERSTADT_GROUPS, "a"))
    base = f"/api/v1/orgs/{staff.org_slug}/stakeholders"
    r = await client.post(base, json={"name": "Diakonie", "email": "dw@example.org",
                                      "kind": "organisation", "group": "Lokale Kooperationspartner",
                                      "reach_tier": 2}, headers=staff.headers)
    assert r.status_code == 201, r.text
    org_id = r.json()["id"]
    r = await client.post(base, json={"name": "Frau Kontakt", "email": "k@example.org",
                                      "group": "lokale-kooperationspartner", "parent_id": org_id,
                                      "consent_at": "2026-03-01T10:00:00+01:00",
                                      "consent_method": "Formular Kick-off"},
                          headers=staff.headers)
    assert r.status_code == 201 and r.json()["parent_id"] == org_id
    r = await client.post(base, json={"name": "X", "email": "K@example.org", "group": "a"},
                          headers=staff.headers)
    assert r.status_code == 409
    r = await client.post(base, json={"name": "X", "email": "x@example.org", "group": "a",
                                      "reach_tier": 5}, headers=staff.headers)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "reach_tier"
    steering = await make_staff(role=Role.steering, org_slug=staff.org_slug)
    r = await client.post(base, json={"name": "Y", "email": "y@example.org", "group": "a"},
                          headers=steering.headers)
    assert r.status_code == 403
    other = await make_staff(role=Role.coordinator)
    r = await client.get(base, headers=other.headers)
    assert r.status_code == 404


async def test_search_page_beyond_any_offset_is_422_not_500(client, make_staff):
    # Found by fuzzing: a huge `page` overflowed PostgreSQL's bigint OFFSET.
    staff = await make_staff(role=Role.coordinator)
    url = f"/api/v1/orgs/{staff.org_slug}/stakeholders"
    r = await client.get(f"{url}?page=999999999999999999999&per_page=200",
                         headers=staff.headers)
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "query.page"
    r = await client.get(f"{url}?page=1000000&per_page=200", headers=staff.headers)
    assert r.status_code == 200 and r.json()["items"] == []


async def test_search_group_without_any_letters_is_422_not_500(client, make_staff):
    # Found by fuzzing: a group filter that normalises to nothing raised a bare ValueError.
    # (A C0 control character such as \x13 is refused before, at the boundary.)
    staff = await make_staff(role=Role.coordinator)
    r = await client.get(f"/api/v1/orgs/{staff.org_slug}/stakeholders",
                         params={"group": "\n\u0097"}, headers=staff.headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_group"
    assert r.json()["error"]["details"][0]["field"] == "query.group"
