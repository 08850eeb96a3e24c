"""Results: suppression below 5, the self-check's scoring, CSV and XLSX round trip, scoping."""

from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook

from services.models.organisation import Role
from services.surveys import service
from services.surveys.results import compute_results
from services.surveys.templates import survey_template
from tests.support.surveys import make_campaign, make_invites, make_process, make_survey

QUESTIONS = [
    {"id": "wahl", "kind": "single", "text": "Wahl",
     "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
    {"id": "skala", "kind": "likert", "text": "Skala"},
    {"id": "rang", "kind": "ranking", "text": "Rang",
     "options": [{"value": "r1", "label": "R1"}, {"value": "r2", "label": "R2"},
                 {"value": "r3", "label": "R3"}]},
    {"id": "frei", "kind": "text", "text": "Frei"},
    {"id": "selten", "kind": "text", "text": "Selten"},
    {"id": "zahl", "kind": "number", "text": "Zahl"},
]


async def _answer(session, campaign, answers_list, **kw):
    invites = await make_invites(session, campaign, len(answers_list), **kw)
    for inv, answers in zip(invites, answers_list, strict=True):
        await service.submit(session, inv.token, answers)


async def _setup(session, staff):
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, title="Ergebnis", questions=QUESTIONS)
    campaign = await make_campaign(session, survey)
    six = [{"wahl": "a" if i < 4 else "b", "skala": i % 5 + 1,
            "rang": ["r1", "r2", "r3"] if i < 5 else ["r3", "r2", "r1"],
            "frei": f"=HYPERLINK(\"x\") <b>{i}</b>", "zahl": i * 10,
            **({"selten": "nur einmal"} if i == 0 else {})} for i in range(6)]
    await _answer(session, campaign, six, group="buerger", tier=1)
    await _answer(session, campaign, six[:2], group="verwaltung", tier=2)
    await make_invites(session, campaign, 4, group="jugend", tier=3)  # nobody answers
    return survey


async def test_aggregates_and_suppression(session, make_staff):
    staff = await make_staff()
    survey = await _setup(session, staff)
    r = (await compute_results(session, survey)).as_dict()
    assert r["responses"] == 8
    q = {x["id"]: x for x in r["questions"]}
    assert q["wahl"]["options"] == [
        {"value": "a", "label": "A", "count": 6, "share": 0.75},
        {"value": "b", "label": "B", "count": 2, "share": 0.25}]
    # skala values: 1,2,3,4,5,1 + 1,2 -> mean 19/8
    assert q["skala"]["mean"] == round(19 / 8, 3)
    assert [d["count"] for d in q["skala"]["distribution"]] == [3, 2, 1, 1, 1]
    # Borda (k=3): r1 first 7 times, last once -> 7*2 + 0 = 14 points
    ranking = {x["value"]: x for x in q["rang"]["ranking"]}
    assert ranking["r1"]["points"] == 14 and ranking["r3"]["points"] == 2
    assert q["rang"]["ranking"][0]["value"] == "r1"
    assert q["frei"]["texts_total"] == 8 and len(q["frei"]["texts"]) == 8
    assert q["selten"]["suppressed"] is True and "texts" not in q["selten"]
    assert q["zahl"]["mean"] == round((0 + 10 + 20 + 30 + 40 + 50 + 0 + 10) / 8, 3)
    # response rates: buerger 6/6, verwaltung 2 answers -> suppressed; jugend 0/4 hidden too,
    # or verwaltung would be 8 - 6 - 0 (the only other count with room to move, issue 8)
    groups = {g["group"]: g for g in r["by_group"]}
    assert groups["buerger"]["answered"] == 6 and groups["buerger"]["rate"] == 1.0
    assert groups["verwaltung"]["suppressed"] and groups["verwaltung"]["answered"] is None
    assert groups["jugend"]["suppressed"] and groups["jugend"]["answered"] is None
    cells = {(c["group"], c["tier"]): c for c in r["reach_matrix"]["cells"]}
    assert cells[("jugend", 3)]["invited"] == 4 and cells[("jugend", 3)]["rate"] is None
    assert cells[("buerger", 2)]["invited"] == 0
    assert r["response_rate"] == {"invited": 12, "answered": 8, "rate": round(8 / 12, 4),
                                  "suppressed": False}


async def test_everything_suppressed_below_five(session, make_staff):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, title="Klein", questions=QUESTIONS)
    campaign = await make_campaign(session, survey)
    await _answer(session, campaign, [{"wahl": "a", "skala": 2, "frei": "geheim"}] * 4)
    r = (await compute_results(session, survey)).as_dict()
    assert r["suppressed"] is True
    assert all(q["suppressed"] for q in r["questions"])
    assert all("options" not in q and "texts" not in q and "mean" not in q
               for q in r["questions"])
    assert r["response_rate"]["answered"] is None


async def test_self_check_scores_per_field(session, make_staff):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, from_template="weltoffene-kommune-selbstcheck")
    campaign = await make_campaign(session, survey)
    questions = [q.id for q in survey_template(survey.template_key or "").questions]
    # Field "management" always 5 (100 %), "oeffnung" always 1 (0 %), the rest 3 (50 %),
    # except "kommunikation": 2 and 4 alternating (mean 3.0 over 6 answers -> 50 %).
    answers = []
    for i in range(6):
        a = {}
        for key in questions:
            field = key.rsplit("_", 1)[0]
            a[key] = {"management": 5, "oeffnung": 1}.get(field, 3)
            if field == "kommunikation":
                a[key] = 2 if i % 2 else 4
        a.pop("anmerkungen", None)
        answers.append(a)
    await _answer(session, campaign, answers)
    r = (await compute_results(session, survey)).as_dict()
    scores = {b["key"]: b["score"] for b in r["blocks"]}
    assert len(scores) == 7
    assert scores["management"] == 100.0 and scores["oeffnung"] == 0.0
    assert scores["zugang"] == 50.0 and scores["kommunikation"] == 50.0


async def test_exports_round_trip(client, session, make_staff):
    staff = await make_staff(role=Role.steering)
    survey = await _setup(session, staff)
    results = (await client.get(f"/api/v1/surveys/{survey.id}/results",
                                headers=staff.headers)).json()
    r = await client.get(f"/api/v1/surveys/{survey.id}/results.csv", headers=staff.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    wahl = {row["wert"]: row for row in rows if row["frage_id"] == "wahl"}
    assert int(wahl["a"]["anzahl"]) == 6 and wahl["a"]["anteil"] == "0,75"
    mean = next(row for row in rows if row["frage_id"] == "skala" and row["wert"] == "mittelwert")
    q = {x["id"]: x for x in results["questions"]}
    assert float(mean["mittelwert"].replace(",", ".")) == q["skala"]["mean"]
    texts = [row["beschriftung"] for row in rows if row["frage_id"] == "frei"]
    assert len(texts) == 8 and all(t.startswith("'=HYPERLINK") for t in texts)
    assert any(row["frage_id"] == "selten" and "unterdrückt" in row["beschriftung"]
               for row in rows)
    r = await client.get(f"/api/v1/surveys/{survey.id}/results.csv?tabelle=erreichbarkeit",
                         headers=staff.headers)
    reach_rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert {(x["gruppe"], x["stufe"]): x["eingeladen"] for x in reach_rows}[("jugend", "3")] \
        == "4"

    r = await client.get(f"/api/v1/surveys/{survey.id}/results.xlsx", headers=staff.headers)
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    sheet = list(wb["Ergebnisse"].iter_rows(values_only=True))
    header, body = sheet[0], sheet[1:]
    xrows = [dict(zip(header, row, strict=True)) for row in body]
    assert len(xrows) == len(rows)
    for c, x in zip(rows, xrows, strict=True):
        for column in ("frage_id", "wert", "anzahl", "anteil", "mittelwert", "punkte"):
            if isinstance(x[column], int | float) and not isinstance(x[column], bool):
                assert float(c[column].replace(",", ".")) == float(x[column]), column
            else:
                assert c[column] == ("" if x[column] is None else str(x[column])), column
    # The formula-looking free text arrives as text, never as a formula.
    assert all(str(x["beschriftung"]).startswith("'=") for x in xrows if x["frage_id"] == "frei")


async def test_results_scoped_and_role_checked(client, session, make_staff):
    owner = await make_staff()
    survey = await _setup(session, owner)
    stranger = await make_staff()
    r = await client.get(f"/api/v1/surveys/{survey.id}/results", headers=stranger.headers)
    assert r.status_code == 404
    r = await client.get(f"/api/v1/surveys/{survey.id}", headers=stranger.headers)
    assert r.status_code == 404
    clerk = await make_staff(role=Role.clerk, org_slug=owner.org_slug)
    r = await client.get(f"/api/v1/surveys/{survey.id}/results.csv", headers=clerk.headers)
    assert r.status_code == 403
    assert (await client.get(f"/api/v1/surveys/{survey.id}/results")).status_code == 401


async def test_results_page_renders_escaped(client, session, make_staff):
    staff = await make_staff()
    survey = await _setup(session, staff)
    r = await client.get(f"/app/surveys/{survey.id}/results",
                         headers=staff.headers)
    assert r.status_code == 200
    assert "&lt;b&gt;0&lt;/b&gt;" in r.text and "<b>0</b>" not in r.text
    # The jugend/tier 3 cell (0 of 4) would give verwaltung's 2 back: hidden, not "nicht
    # erreicht" (tests/services/surveys/test_suppression.py shows a "nicht erreicht" that stays).
    assert "nicht erreicht" not in r.text and "unterdrückt" in r.text
    other = await make_staff()
    r = await client.get(f"/app/surveys/{survey.id}/results",
                         headers=other.headers)
    assert r.status_code == 404


async def test_self_check_page_has_accessible_radar(client, session, make_staff):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, from_template="weltoffene-kommune-selbstcheck")
    r = await client.get(f"/app/surveys/{survey.id}/results",
                         headers=staff.headers)
    assert r.status_code == 200
    assert '<svg' in r.text and 'role="img"' in r.text and "<title id=\"radar-title\">" in r.text
    assert "Kommunikation und Konfliktmanagement" in r.text


async def test_survey_list_page_and_overview_link(client, session, make_staff):
    staff = await make_staff()
    survey = await _setup(session, staff)
    r = await client.get("/app/surveys", headers=staff.headers)
    assert r.status_code == 200 and f"/app/surveys/{survey.id}/results" in r.text
    r = await client.get("/app", headers=staff.headers)
    assert f"/app/surveys?org={staff.org_slug}" in r.text
    clerk = await make_staff(role=Role.clerk)
    r = await client.get("/app/surveys", headers=clerk.headers)
    assert f"/app/surveys/{survey.id}/results" not in r.text


async def test_no_exported_cell_is_a_formula(client, session, make_staff):
    # Found in review: the survey's title went into the XLSX "Info" sheet as a live formula.
    staff = await make_staff(role=Role.steering)
    process = await make_process(session, staff.org_id)
    questions = [{"id": "q1", "kind": "single", "text": "+1+1",
                  "options": [{"value": "a", "label": "@SUM(A1)"},
                              {"value": "b", "label": "-2+3"}]}]
    survey = await make_survey(session, process, title='=HYPERLINK("http://x.example","Klick")',
                               questions=questions)
    await make_campaign(session, survey)
    dangerous = ("=", "+", "-", "@", "\t", "\r")

    r = await client.get(f"/api/v1/surveys/{survey.id}/results.xlsx", headers=staff.headers)
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    seen = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(dangerous), (ws.title, cell.value)
                    seen.append(cell.value)
    assert "'=HYPERLINK(\"http://x.example\",\"Klick\")" in seen and "'+1+1" in seen

    r = await client.get(f"/api/v1/surveys/{survey.id}/results.csv", headers=staff.headers)
    cells = [c for row in csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";")
             for c in row]
    assert cells and not any(c.startswith(dangerous) for c in cells)
    assert "'+1+1" in cells


async def test_results_page_shows_number_answers_in_german_format(client, session, make_staff):
    """The distribution of a number question on the page: German numbers ("2,5", "1.500"),
    not Python's floats ("2.5", "1500.0") - found by the coordinator journey in Chromium."""
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, title="Zahlen", questions=[
        {"id": "zahl", "kind": "number", "text": "Zahl"}])
    campaign = await make_campaign(session, survey)
    await _answer(session, campaign, [{"zahl": v} for v in (1, 2.5, 2.5, 3, 1500)])
    r = await client.get(f"/app/surveys/{survey.id}/results", headers=staff.headers)
    assert r.status_code == 200
    rows = re.findall(r"<tr><td>([^<]*)</td><td>(\d+)</td>", r.text)
    assert rows == [("1", "1"), ("2,5", "2"), ("3", "1"), ("1.500", "1")], rows
