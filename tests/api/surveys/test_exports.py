"""Exports for German Excel and for people: CSV (semicolon, decimal comma, BOM) per table or
as a ZIP, XLSX (a sheet per table, number formats, frozen header), the radar chart as SVG and
PNG, the individual responses (anonymous: answers only), suppression in every aggregate export,
and who may download what."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime

from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from services.models.organisation import Role
from services.models.stakeholder import Stakeholder
from services.models.survey import SurveyAnswer, SurveyResponse
from services.surveys import service
from services.surveys.templates import survey_template
from tests.support.surveys import make_campaign, make_invites, make_process, make_survey

BOM = b"\xef\xbb\xbf"
QUESTIONS = [
    {"id": "wahl", "kind": "single", "text": "Wahl",
     "options": [{"value": "a", "label": "Ja, gern"}, {"value": "b", "label": "Nein"}]},
    {"id": "skala", "kind": "likert", "text": "Skala"},
    {"id": "zahl", "kind": "number", "text": "Zahl"},
    {"id": "frei", "kind": "text", "text": "Frei"},
]
SELF_CHECK = "weltoffene-kommune-selbstcheck"


def _csv(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(BOM)  # Excel reads UTF-8 only with it
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def _de_float(value: str) -> float:
    assert "." not in value, value  # a decimal comma, never a point
    return float(value.replace(",", "."))


async def _answer(session, campaign, answers_list, **kw):
    invites = await make_invites(session, campaign, len(answers_list), **kw)
    for inv, answers in zip(invites, answers_list, strict=True):
        await service.submit(session, inv.token, answers)
    return invites


async def _survey(session, staff, n: int = 6, **kw):
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, title="Export", questions=QUESTIONS, **kw)
    campaign = await make_campaign(session, survey)
    answers = [{"wahl": "a" if i < 2 else "b", "skala": i % 5 + 1, "zahl": i + 0.5,
                "frei": f"Text {i}"} for i in range(n)]
    await _answer(session, campaign, answers, group="buerger", tier=1)
    return survey, campaign


def _self_check_answers(value_of) -> dict:
    return {q.id: value_of(q) for q in survey_template(SELF_CHECK).questions
            if q.kind == "likert"}


async def _self_check(session, staff, n: int = 6):
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, from_template=SELF_CHECK)
    campaign = await make_campaign(session, survey)
    await _answer(session, campaign, [_self_check_answers(lambda q: 4)] * n)
    return survey


async def test_csv_per_table_for_german_excel(client, session, make_staff):
    staff = await make_staff()
    survey, _ = await _survey(session, staff)
    base = f"/api/v1/surveys/{survey.id}"
    r = await client.get(f"{base}/results.csv", headers=staff.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="ergebnisse-' in r.headers["content-disposition"]
    rows = _csv(r.content)
    assert b"\r\n" in r.content and "anteil" in rows[0]
    wahl = {row["wert"]: row for row in rows if row["frage_id"] == "wahl"}
    assert wahl["a"]["beschriftung"] == "Ja, gern" and wahl["a"]["anzahl"] == "2"
    assert _de_float(wahl["a"]["anteil"]) == round(2 / 6, 4)
    zahl = next(row for row in rows if row["frage_id"] == "zahl" and row["wert"] == "mittelwert")
    assert zahl["mittelwert"] == "3,0" or _de_float(zahl["mittelwert"]) == 3.0
    values = [row["wert"] for row in rows if row["frage_id"] == "zahl" and row["anzahl"] == "1"]
    assert values == ["0,5", "1,5", "2,5", "3,5", "4,5", "5,5"]

    r = await client.get(f"{base}/results.csv?tabelle=erreichbarkeit", headers=staff.headers)
    reach = {(x["gruppe"], x["stufe"]): x for x in _csv(r.content)}
    assert reach[("buerger", "1")]["geantwortet"] == "6"
    assert reach[("buerger", "1")]["quote"] == "1"  # 100 %: a whole number stays one

    r = await client.get(f"{base}/results.csv?tabelle=handlungsfelder", headers=staff.headers)
    assert r.status_code == 422  # this survey has no scored fields
    assert r.json()["error"]["details"][0]["field"] == "tabelle"

    r = await client.get(f"{base}/results.zip", headers=staff.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        assert sorted(archive.namelist()) == ["ergebnisse.csv", "erreichbarkeit.csv"]
        assert _csv(archive.read("ergebnisse.csv")) == rows


async def test_xlsx_sheets_formats_and_frozen_header(client, session, make_staff):
    staff = await make_staff(role=Role.steering)
    survey = await _self_check(session, staff)
    r = await client.get(f"/api/v1/surveys/{survey.id}/results.xlsx", headers=staff.headers)
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["Ergebnisse", "Handlungsfelder", "Erreichbarkeit", "Info"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert all(c.font.b for c in ws[1] if c.value is not None), ws.title

    def column(ws, name):
        header = [c.value for c in ws[1]]
        return [row[header.index(name)] for row in ws.iter_rows(min_row=2)]

    results = wb["Ergebnisse"]
    shares = [c for c in column(results, "anteil") if isinstance(c.value, int | float)]
    assert shares and {c.number_format for c in shares} == {"0.0%"}
    counts = [c for c in column(results, "anzahl") if c.value is not None]
    assert all(isinstance(c.value, int) and c.number_format == "0" for c in counts)
    means = [c for c in column(results, "mittelwert") if c.value is not None]
    assert means and {c.number_format for c in means} == {"0.000"}
    fields = wb["Handlungsfelder"]
    scores = column(fields, "punktzahl_prozent")
    assert len(scores) == 7 and {c.value for c in scores} == {75.0}
    assert {c.number_format for c in scores} == {"0.0"}
    assert [c.value for c in column(fields, "handlungsfeld")][-1] == \
        "Kommunikation und Konfliktmanagement"
    rates = [c for c in column(wb["Erreichbarkeit"], "quote") if c.value is not None]
    assert rates and {c.number_format for c in rates} == {"0.0%"}


async def test_suppression_holds_in_every_aggregate_export(client, session, make_staff):
    staff = await make_staff()
    small = await _self_check(session, staff, n=4)  # fewer than 5: nothing may show
    base = f"/api/v1/surveys/{small.id}"
    rows = _csv((await client.get(f"{base}/results.csv", headers=staff.headers)).content)
    assert rows and all(row["anzahl"] == "" and row["mittelwert"] == "" for row in rows)
    assert all("unterdrückt" in row["beschriftung"] for row in rows if row["bereich"] == "frage")
    r = await client.get(f"{base}/results.csv?tabelle=handlungsfelder", headers=staff.headers)
    fields = _csv(r.content)
    assert len(fields) == 7
    assert all(f["punktzahl_prozent"] == "" and f["antworten"] == "" and
               f["weiss_nicht"] == "" and f["unterdrueckt"] == "ja" for f in fields)
    wb = load_workbook(io.BytesIO(
        (await client.get(f"{base}/results.xlsx", headers=staff.headers)).content))
    info = {row[0]: row[1] for row in wb["Info"].iter_rows(min_row=2, values_only=True)}
    assert info["antworten"] is None
    assert all(row[3] is None and row[6] is None
               for row in wb["Handlungsfelder"].iter_rows(min_row=2, values_only=True))
    with zipfile.ZipFile(io.BytesIO(
            (await client.get(f"{base}/results.zip", headers=staff.headers)).content)) as z:
        reach = _csv(z.read("erreichbarkeit.csv"))
    assert all(x["geantwortet"] == "" for x in reach)

    # Complementary: 6 + 2 answers; the 2 are hidden, and so is whatever gives them back.
    survey, campaign = await _survey(session, staff)
    await _answer(session, campaign, [{"wahl": "a"}] * 2, group="verwaltung", tier=2)
    base = f"/api/v1/surveys/{survey.id}"
    r = await client.get(f"{base}/results.csv?tabelle=erreichbarkeit", headers=staff.headers)
    reach = {(x["gruppe"], x["stufe"]): x for x in _csv(r.content)}
    assert reach[("verwaltung", "2")]["geantwortet"] == ""
    assert reach[("verwaltung", "gesamt")]["geantwortet"] == ""
    assert reach[("gesamt", "2")]["geantwortet"] == ""
    api = (await client.get(f"{base}/results", headers=staff.headers)).json()
    cells = {(c["group"], c["tier"]): c["answered"] for c in api["reach_matrix"]["cells"]}
    for (g, t), answered in cells.items():
        assert reach[(g, str(t))]["geantwortet"] == ("" if answered is None else str(answered))


async def test_radar_svg_and_png(client, session, make_staff):
    staff = await make_staff()
    survey = await _self_check(session, staff)
    base = f"/api/v1/surveys/{survey.id}"
    r = await client.get(f"{base}/radar.svg", headers=staff.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    svg = r.text
    assert '<title id="radar-title">' in svg and '<desc id="radar-desc">' in svg
    for block in survey_template(SELF_CHECK).blocks:
        # Each name is on the chart (wrapped into lines) and in the description.
        assert block.title["de"] in svg
        first_word = block.title["de"].split()[0]
        assert f">{first_word}" in svg
    assert "(75,0 %)" in svg
    for ring in ("25 %", "50 %", "75 %", "100 %"):
        assert f">{ring}</text>" in svg  # the scale

    r = await client.get(f"{base}/radar.png", headers=staff.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(r.content))
    assert image.size == (1280, 1040)
    # Something is drawn: the shape's blue and dark text, not a blank canvas.
    colours = {c for _, c in image.getcolors(maxcolors=1 << 20) or []}
    assert (11, 83, 148) in colours and len(colours) > 10

    page = await client.get(f"/app/surveys/{survey.id}/results", headers=staff.headers)
    assert f'href="{base}/radar.png"' in page.text and f'href="{base}/radar.svg"' in page.text

    plain, _ = await _survey(session, staff)
    r = await client.get(f"/api/v1/surveys/{plain.id}/radar.png", headers=staff.headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "no_radar"
    stranger = await make_staff()
    r = await client.get(f"{base}/radar.svg", headers=stranger.headers)
    assert r.status_code == 404


async def test_individual_responses_of_an_anonymous_survey(client, session, make_staff):
    staff = await make_staff()
    survey, _ = await _survey(session, staff)
    base = f"/api/v1/surveys/{survey.id}"
    r = await client.get(f"{base}/responses.csv", headers=staff.headers)
    assert r.status_code == 200
    rows = _csv(r.content)
    assert list(rows[0]) == ["nr", "wahl – Wahl", "skala – Skala", "zahl – Zahl",
                             "frei – Frei"]  # answers only: no date, group, name, token
    text = r.content.decode("utf-8-sig")
    today = datetime.now(UTC).date()
    for leak in (f"{today:%d.%m.%Y}", today.isoformat(), "buerger", "invitation"):
        assert leak not in text
    assert [row["nr"] for row in rows] == ["1", "2", "3", "4", "5", "6"]
    assert sorted(row["frei – Frei"] for row in rows) == [f"Text {i}" for i in range(6)]
    assert {row["wahl – Wahl"] for row in rows} == {"Ja, gern", "Nein"}
    # The order is the random response id's, not the order of submission.
    by_id = list(await session.scalars(
        select(SurveyAnswer.text).join(SurveyResponse, SurveyResponse.id ==
                                       SurveyAnswer.response_id)
        .where(SurveyResponse.survey_id == survey.id, SurveyAnswer.question_key == "frei")
        .order_by(SurveyResponse.id)))
    assert [row["frei – Frei"] for row in rows] == by_id

    r = await client.get(f"{base}/responses.xlsx", headers=staff.headers)
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb["Antworten"]
    assert ws.freeze_panes == "A2" and ws.max_row == 7
    header = [c.value for c in ws[1]]
    zahl = [row[header.index("zahl – Zahl")] for row in ws.iter_rows(min_row=2)]
    assert sorted(c.value for c in zahl) == [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]
    skala = [row[header.index("skala – Skala")].value for row in ws.iter_rows(min_row=2)]
    assert all(isinstance(v, int) for v in skala)

    # Below five answers an anonymous survey's rows would name the few who answered.
    few, _ = await _survey(session, staff, n=3)
    r = await client.get(f"/api/v1/surveys/{few.id}/responses.csv", headers=staff.headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "too_few_responses"


async def test_individual_responses_of_an_identified_survey(client, session, make_staff):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, title="Namentlich", questions=QUESTIONS,
                               anonymity="identified")
    campaign = await make_campaign(session, survey)
    people = []
    for name, basis in (("Zora Ziegler", "consent"), ("Ärzteverein", "consent"),
                        ("Ohne Grundlage", None)):
        st = Stakeholder(organisation_id=staff.org_id, name=name, email=None,
                         group_key="buerger", legal_basis=basis,
                         consent_at=datetime.now(UTC) if basis else None)
        session.add(st)
        people.append(st)
    await session.flush()
    invites = await make_invites(session, campaign, 3)
    for inv, st, i in zip(invites, people, range(3), strict=True):
        inv.invitation.stakeholder_id = st.id
        await session.flush()
        await service.submit(session, inv.token, {"wahl": "a", "frei": f"Antwort {i}"})
    r = await client.get(f"/api/v1/surveys/{survey.id}/responses.csv", headers=staff.headers)
    assert r.status_code == 200  # identified: no minimum, the names are the point
    rows = _csv(r.content)
    assert list(rows[0])[:3] == ["nr", "name", "eingereicht_am"]
    # Sorted by name; without a legal basis the name stays out.
    assert [row["name"] for row in rows] == ["Ärzteverein", "Zora Ziegler", ""]
    assert [row["frei – Frei"] for row in rows] == ["Antwort 1", "Antwort 0", "Antwort 2"]
    assert {row["eingereicht_am"] for row in rows} == {f"{datetime.now(UTC).date():%d.%m.%Y}"}


async def test_who_may_download(client, session, make_staff):
    owner = await make_staff()
    survey, _ = await _survey(session, owner)
    base = f"/api/v1/surveys/{survey.id}"
    stranger = await make_staff()
    admin = await make_staff(role=Role.admin, org_slug=owner.org_slug)
    steering = await make_staff(role=Role.steering, org_slug=owner.org_slug)
    clerk = await make_staff(role=Role.clerk, org_slug=owner.org_slug)
    aggregates = ("results.csv", "results.zip", "results.xlsx")
    responses = ("responses.csv", "responses.xlsx")
    for path in aggregates + responses:
        assert (await client.get(f"{base}/{path}", headers=owner.headers)).status_code == 200
        assert (await client.get(f"{base}/{path}", headers=admin.headers)).status_code == 200
        assert (await client.get(f"{base}/{path}",
                                 headers=stranger.headers)).status_code == 404, path
        assert (await client.get(f"{base}/{path}", headers=clerk.headers)).status_code == 403
        assert (await client.get(f"{base}/{path}")).status_code == 401  # a participant
    for path in aggregates:
        assert (await client.get(f"{base}/{path}", headers=steering.headers)).status_code == 200
    for path in responses:
        r = await client.get(f"{base}/{path}", headers=steering.headers)
        assert r.status_code == 403, path
    # The page offers the individual responses only to those who may have them.
    page = await client.get(f"/app/surveys/{survey.id}/results", headers=owner.headers)
    assert f"{base}/responses.csv" in page.text and f"{base}/results.zip" in page.text
    page = await client.get(f"/app/surveys/{survey.id}/results", headers=steering.headers)
    assert f"{base}/responses.csv" not in page.text
