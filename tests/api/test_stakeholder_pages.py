"""The German stakeholder pages: list with umlaut-blind search and filters, create and edit
(errors keep the entered values), upload with the rejected rows as a table and a file, the
sample and the list export, the DSGVO export and the erasure behind its confirmation."""

from __future__ import annotations

import csv
import html
import io
import json
import re

from api.deps import SESSION_COOKIE
from services.models.organisation import Role
from tests.api.test_stakeholders_import import _prepare
from tests.support.forms import form_token


async def _signed_in(client, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff(role=Role.coordinator)
    await _prepare(client, make_staff, staff, groups=("verwaltung", "politik", "jugend"))
    client.cookies.set(SESSION_COOKIE, staff.token)
    base = f"/app/orgs/{staff.org_slug}/stakeholders"
    return staff, base, await form_token(client, base)


PEOPLE = (
    "name;email;gruppe;stufe;schlagworte;sprache;einwilligung_am\n"
    "Jörg Müller;mueller@example.org;verwaltung;1;sport;de;\n"
    "Anna Zander;zander@example.org;politik;2;jugend;en;2026-01-05\n"
    "Ärzteverein Öhringen;aerzte@example.org;jugend;3;;de;\n"
    "Bert Adler;adler@example.org;politik;1;sport;de;\n"
)


def _names(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a>', html)


async def test_list_search_ignores_umlauts_filters_and_sorts_german(client, make_staff):  # type: ignore[no-untyped-def]
    staff, base, csrf = await _signed_in(client, make_staff)
    r = await client.post(f"{base}/import", data={"csrf_token": csrf},
                          files={"file": ("liste.csv", PEOPLE.encode(), "text/csv")})
    assert r.status_code == 200 and "4 neu angelegt" in r.text, r.text

    home = await client.get("/app")
    assert f'href="{base}"' in home.text  # linked from the staff overview

    page = await client.get(base)
    # German order: Ä sorts with A (not after Z as in a byte-wise sort).
    assert _names(page.text) == ["Anna Zander", "Ärzteverein Öhringen", "Bert Adler",
                                 "Jörg Müller"]
    for query in ("muller", "MÜLLER", "mueller", "joerg"):
        page = await client.get(base, params={"q": query})
        assert _names(page.text) == ["Jörg Müller"], query
    page = await client.get(base, params={"q": "ohringen"})
    assert _names(page.text) == ["Ärzteverein Öhringen"]

    page = await client.get(base, params={"group": "politik"})
    assert _names(page.text) == ["Anna Zander", "Bert Adler"]
    page = await client.get(base, params={"group": "politik", "tier": "1"})
    assert _names(page.text) == ["Bert Adler"]
    page = await client.get(base, params={"tag": "sport"})
    assert _names(page.text) == ["Bert Adler", "Jörg Müller"]
    page = await client.get(base, params={"language": "en"})
    assert _names(page.text) == ["Anna Zander"]
    page = await client.get(base, params={"legal_basis": "consent"})
    assert _names(page.text) == ["Anna Zander"]
    page = await client.get(base, params={"legal_basis": "public_task", "q": "adler"})
    assert _names(page.text) == ["Bert Adler"]
    assert 'selected>Stufe' not in page.text and 'value="adler"' in page.text

    # The export follows the filters, for German Excel, formula-safe.
    r = await client.get(f"{base}/export.csv", params={"group": "politik"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["name", "email", "kind"]
    assert [row[0] for row in rows[1:]] == ["Anna Zander", "Bert Adler"]


async def test_paging(client, make_staff):  # type: ignore[no-untyped-def]
    staff, base, csrf = await _signed_in(client, make_staff)
    rows = "".join(f"Person {i:02d};p{i}@example.org;verwaltung\n" for i in range(30))
    r = await client.post(f"{base}/import", data={"csrf_token": csrf},
                          files={"file": ("l.csv", ("name;email;gruppe\n" + rows).encode())})
    assert "30 neu angelegt" in r.text
    first = await client.get(base)
    assert "30 Treffer, Seite 1 von 2" in first.text and len(_names(first.text)) == 25
    assert 'href="?page=2" rel="next"' in first.text
    second = await client.get(base, params={"page": "2"})
    assert _names(second.text) == [f"Person {i}" for i in range(25, 30)]
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text


async def test_create_and_edit_errors_keep_the_values(client, make_staff):  # type: ignore[no-untyped-def]
    staff, base, csrf = await _signed_in(client, make_staff)
    form = {"csrf_token": csrf, "name": "Jörg Müller", "email": "jörg@example.org",
            "kind": "person", "group": "verwaltung", "reach_tier": "2", "tags": "sport, kultur",
            "language": "de", "legal_basis": "", "consent_at": "", "consent_method": "",
            "accessibility_needs": "Gebärdensprache", "notes": "Vorsitz"}
    # The address rule: no umlaut before the @. The form comes back with what was typed.
    r = await client.post(f"{base}/new", data=form)
    assert r.status_code == 422 and 'class="error-summary"' in r.text
    assert "Vor dem @ sind keine Umlaute" in r.text and "E-Mail-Adresse:" in r.text
    assert 'value="Jörg Müller"' in r.text and 'value="sport, kultur"' in r.text
    assert ">Gebärdensprache</textarea>" in r.text
    assert '<option value="2" selected>' in r.text

    # pydantic's bounds answer in German too.
    r = await client.post(f"{base}/new", data={**form, "email": "joerg@example.org",
                                               "name": "x" * 201, "reach_tier": "9"})
    assert r.status_code == 422 and "Name: höchstens 200 Zeichen" in r.text
    assert "Erreichbarkeitsstufe: ungültige Auswahl" in r.text and "should" not in r.text

    # A group the organisation does not know, and consent without its date.
    r = await client.post(f"{base}/new", data={**form, "email": "joerg@example.org",
                                               "group": "unbekannt"})
    assert r.status_code == 422 and "Unbekannte Gruppe" in r.text
    r = await client.post(f"{base}/new", data={**form, "email": "joerg@example.org",
                                               "legal_basis": "consent"})
    assert r.status_code == 422 and "Für eine Einwilligung fehlt ihr Datum" in r.text

    r = await client.post(f"{base}/new", data={**form, "email": "joerg@example.org"})
    assert r.status_code == 303, r.text
    url = r.headers["location"].split("?")[0]
    page = await client.get(r.headers["location"])
    assert "Die Person wurde angelegt." in page.text and 'value="joerg@example.org"' in page.text
    other = await client.post(f"{base}/new", data={**form, "name": "Anna",
                                                   "email": "anna@example.org"})
    assert other.status_code == 303

    # Edit: taking another person's address is refused and the typed values stay.
    r = await client.post(url, data={**form, "name": "Jörg M.", "email": "anna@example.org"})
    assert r.status_code == 409 and "bereits erfasst" in r.text and 'value="Jörg M."' in r.text
    r = await client.post(url, data={**form, "name": "Jörg M.", "email": "joerg@example.org",
                                     "reach_tier": "3", "consent_at": "2026-02-01",
                                     "legal_basis": "consent"})
    assert r.status_code == 303 and r.headers["location"].endswith("ok=updated")
    page = await client.get(url)
    assert 'value="Jörg M."' in page.text and 'value="2026-02-01"' in page.text
    assert '<option value="3" selected>' in page.text
    listing = await client.get(base, params={"q": "jorg"})
    assert _names(listing.text) == ["Jörg M."]


BAD_FILE = (
    "Name;E-Mail;Gruppe;Stufe\n"
    "Gute Zeile;gut@example.org;verwaltung;1\n"
    "Falsche Adresse;keine-adresse;verwaltung;1\n"
    "=HYPERLINK(\"x\");hyper@example.org;nirgendwo;1\n"
    "Zu hoch;hoch@example.org;politik;7\n"
)


async def test_upload_shows_rejected_rows_and_the_error_file(client, make_staff):  # type: ignore[no-untyped-def]
    staff, base, csrf = await _signed_in(client, make_staff)
    form = await client.get(f"{base}/import")
    assert 'enctype="multipart/form-data"' in form.text and f"{base}/beispiel.csv" in form.text

    r = await client.post(f"{base}/import", data={"csrf_token": csrf},
                          files={"file": ("liste.csv", BAD_FILE.encode(), "text/csv")})
    assert r.status_code == 200
    assert "1 neu angelegt, 0 aktualisiert, 3 Zeilen abgelehnt" in r.text
    table = r.text.split("<tbody>")[1].split("</tbody>")[0]
    cells = re.findall(r"<tr><th scope=\"row\">(\d+)</th><td>([^<]+)</td><td>", table)
    # The column as the file names it ("E-Mail", "Gruppe"), not the API's field name.
    assert cells == [("3", "E-Mail"), ("4", "Gruppe"), ("5", "Stufe")]

    posted: dict[str, list[str]] = {"row": [], "column": [], "message": []}
    for name, value in re.findall(
            r'<input type="hidden" name="(row|column|message)" value="([^"]*)">', r.text):
        posted[name].append(html.unescape(value))
    errors = await client.post(f"{base}/import/fehler.csv",
                               data={"csrf_token": csrf, **posted})
    assert errors.status_code == 200 and "attachment" in errors.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(errors.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["zeile", "spalte", "meldung"]
    assert [(x[0], x[1]) for x in rows[1:]] == [("3", "E-Mail"), ("4", "Gruppe"), ("5", "Stufe")]
    assert "Bekannte Gruppen" in rows[2][2]

    # No file: the form again with the reason, not a 500 or the JSON body.
    r = await client.post(f"{base}/import", data={"csrf_token": csrf},
                          files={"file": ("leer.csv", b"", "text/csv")})
    assert r.status_code == 422 and 'class="error-summary"' in r.text


async def test_xlsx_upload_names_the_sheets_columns(client, make_staff):  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    staff, base, csrf = await _signed_in(client, make_staff)
    wb = Workbook()
    ws = wb.active
    ws.append(["Name", "Mail", "Gruppe", "Sprache"])
    ws.append(["Jörg Müller", "mueller@example.org", "verwaltung", "deutsch"])
    ws.append(["Zoe", "zoe@example.org", "verwaltung", "klingonisch"])
    buf = io.BytesIO()
    wb.save(buf)
    r = await client.post(f"{base}/import", data={"csrf_token": csrf}, files={"file": (
        "liste.xlsx", buf.getvalue(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    assert "1 neu angelegt, 0 aktualisiert, 1 Zeile abgelehnt" in r.text
    assert '<tr><th scope="row">3</th><td>Sprache</td>' in r.text


async def test_sample_file_imports_as_it_is(client, make_staff):  # type: ignore[no-untyped-def]
    staff, base, csrf = await _signed_in(client, make_staff)
    sample = await client.get(f"{base}/beispiel.csv")
    assert sample.status_code == 200 and sample.content.startswith("\ufeff".encode())
    r = await client.post(f"{base}/import", data={"csrf_token": csrf, "create_groups": "1"},
                          files={"file": ("beispiel.csv", sample.content, "text/csv")})
    assert "2 neu angelegt, 0 aktualisiert, 0 Zeilen abgelehnt" in r.text, r.text


async def test_list_export_is_formula_safe(client, make_staff):  # type: ignore[no-untyped-def]
    staff, base, csrf = await _signed_in(client, make_staff)
    form = {"csrf_token": csrf, "name": "=HYPERLINK(\"http://x\")", "email": "f@example.org",
            "kind": "person", "group": "verwaltung", "reach_tier": "1", "tags": "",
            "language": "de", "legal_basis": "", "consent_at": "", "consent_method": "",
            "accessibility_needs": "", "notes": "+49 30 1234"}
    assert (await client.post(f"{base}/new", data=form)).status_code == 303
    r = await client.get(f"{base}/export.csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][0] == "'=HYPERLINK(\"http://x\")" and rows[1][-1] == "'+49 30 1234"


async def test_dsgvo_export_and_erasure_needs_confirmation(client, make_staff):  # type: ignore[no-untyped-def]
    staff, base, csrf = await _signed_in(client, make_staff)
    form = {"csrf_token": csrf, "name": "Jörg Müller", "email": "joerg@example.org",
            "kind": "person", "group": "verwaltung", "reach_tier": "1", "tags": "sport",
            "language": "de", "legal_basis": "", "consent_at": "", "consent_method": "",
            "accessibility_needs": "", "notes": "Vorsitz"}
    r = await client.post(f"{base}/new", data=form)
    url = r.headers["location"].split("?")[0]
    page = await client.get(url)
    assert f'href="{url}/dsgvo.json"' in page.text and f'href="{url}/erase"' in page.text

    r = await client.get(f"{url}/dsgvo.json")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    body = json.loads(r.content)
    assert body["stakeholder"]["name"] == "Jörg Müller"
    assert body["stakeholder"]["notes"] == "Vorsitz"

    confirm = await client.get(f"{url}/erase")
    assert confirm.status_code == 200 and 'name="confirm" value="ja"' in confirm.text
    # Without the tick nothing is erased: the confirmation page again.
    r = await client.post(f"{url}/erase", data={"csrf_token": csrf})
    assert r.status_code == 422 and 'class="error-summary"' in r.text
    assert _names((await client.get(base)).text) == ["Jörg Müller"]

    r = await client.post(f"{url}/erase", data={"csrf_token": csrf, "confirm": "ja"})
    assert r.status_code == 303 and r.headers["location"].endswith("ok=erased")
    listing = await client.get(r.headers["location"])
    assert "Die personenbezogenen Daten wurden gelöscht." in listing.text
    assert "Jörg" not in listing.text and "Keine Beteiligten gefunden." in listing.text
    r = await client.get(f"{url}/dsgvo.json")
    assert json.loads(r.content)["stakeholder"]["name"] is None


async def test_steering_reads_but_cannot_change(client, make_staff):  # type: ignore[no-untyped-def]
    staff, base, csrf = await _signed_in(client, make_staff)
    steering = await make_staff(role=Role.steering, org_slug=staff.org_slug)
    client.cookies.set(SESSION_COOKIE, steering.token)
    page = await client.get(base)
    assert page.status_code == 200 and f"{base}/new" not in page.text
    r = await client.get(f"{base}/new")
    assert r.status_code == 403


async def test_api_search_has_the_same_folding_and_filters(client, make_staff):  # type: ignore[no-untyped-def]
    staff, base, csrf = await _signed_in(client, make_staff)
    await client.post(f"{base}/import", data={"csrf_token": csrf},
                      files={"file": ("liste.csv", PEOPLE.encode(), "text/csv")})
    url = f"/api/v1/orgs/{staff.org_slug}/stakeholders"
    r = await client.get(url, params={"q": "muller"}, headers=staff.headers)
    assert [i["name"] for i in r.json()["items"]] == ["Jörg Müller"]
    r = await client.get(url, params={"language": "en", "legal_basis": "consent"},
                         headers=staff.headers)
    assert [i["name"] for i in r.json()["items"]] == ["Anna Zander"]
    r = await client.get(url, params={"legal_basis": "vielleicht"}, headers=staff.headers)
    assert r.status_code == 422


async def test_another_organisations_people_stay_hidden(client, make_staff):  # type: ignore[no-untyped-def]
    staff, base, csrf = await _signed_in(client, make_staff)
    r = await client.post(f"{base}/new", data={
        "csrf_token": csrf, "name": "Jörg", "email": "joerg@example.org", "kind": "person",
        "group": "verwaltung", "reach_tier": "1", "tags": "", "language": "de",
        "legal_basis": "", "consent_at": "", "consent_method": "", "accessibility_needs": "",
        "notes": ""})
    person = r.headers["location"].split("?")[0].rsplit("/", 1)[1]
    other = await make_staff(role=Role.coordinator)
    client.cookies.set(SESSION_COOKIE, other.token)
    other_base = f"/app/orgs/{other.org_slug}/stakeholders"
    assert (await client.get(base)).status_code == 404
    for path in (f"{other_base}/{person}", f"{other_base}/{person}/dsgvo.json",
                 f"{other_base}/{person}/erase"):
        assert (await client.get(path)).status_code == 404, path
    token = await form_token(client, other_base)
    r = await client.post(f"{other_base}/{person}/erase",
                          data={"csrf_token": token, "confirm": "ja"})
    assert r.status_code == 404
