"""Results as CSV and XLSX (the same rows in both; free texts only above the threshold).

Cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR) are prefixed
with an apostrophe: free texts come from anyone holding a link.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

from services.surveys.results import Rate, SurveyResults
from services.surveys.suppression import MIN_GROUP, shown_count

HEADER = ["bereich", "frage_id", "frage", "typ", "wert", "beschriftung", "anzahl", "anteil",
          "mittelwert", "punkte"]
TOTAL_LABEL = "gesamt"
REACH_HEADER = ["gruppe", "stufe", "eingeladen", "geantwortet", "quote", "unterdrueckt"]


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def question_rows(results: SurveyResults) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for q in results.questions:
        base = ["frage", q.id, q.text, q.kind]
        if q.suppressed:
            rows.append(base + ["", "unterdrückt (weniger als 5 Antworten)", None, None, None,
                                None])
            continue
        if q.kind in ("single", "multiple"):
            for o in q.options:
                rows.append(base + [o["value"], o["label"], o["count"], o["share"], None, None])
        elif q.kind in ("likert", "number"):
            for d in q.distribution:
                rows.append(base + [d["value"], d["label"], d["count"], d["share"], None, None])
            rows.append(base + ["mittelwert", "", q.answered, None, q.mean, None])
        elif q.kind == "ranking":
            for item in q.ranking:
                rows.append(base + [item["value"], item["label"], q.answered, None,
                                    item["mean_rank"], item["points"]])
        elif q.kind == "text":
            for t in q.texts:
                rows.append(base + ["text", t, None, None, None, None])
    for b in results.blocks:
        rows.append(["handlungsfeld", b["key"], b["title"], "score", "", "",
                     b["answered"], None, b["mean"], b["score"]])
    return rows


def reach_rows(results: SurveyResults) -> list[list[Any]]:
    """The matrix, then the totals per group, per tier and overall ("gesamt"): the same counts,
    hidden by the same rule (`suppress_reach`), as the API and the page."""
    rates: list[tuple[Any, Any, Rate]] = [(g, t, r) for (g, t), r in results.matrix.items()]
    rates += [(g, TOTAL_LABEL, r) for g, r in results.by_group.items()]
    rates += [(TOTAL_LABEL, t, r) for t, r in results.by_tier.items()]
    rates.append((TOTAL_LABEL, TOTAL_LABEL, results.overall))
    out: list[list[Any]] = []
    for g, t, r in rates:
        d = r.as_dict()
        out.append([g, t, d["invited"], d["answered"], d["rate"], d["suppressed"]])
    return out


def _plain(value: Any) -> Any:
    return "" if value is None else value


def _csv_rows(writer: Any, rows: list[list[Any]]) -> None:
    for row in rows:
        writer.writerow([safe_cell(_plain(c)) for c in row])


def _sheet_rows(sheet: Any, rows: list[list[Any]]) -> None:
    # Every cell of every sheet through safe_cell: the survey's title went into "Info" raw and
    # openpyxl stores a string starting with "=" as a live formula.
    for row in rows:
        sheet.append([safe_cell(c) for c in row])


def to_csv(results: SurveyResults) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    _csv_rows(writer, [HEADER, *question_rows(results), [], REACH_HEADER,
                       *reach_rows(results)])
    # BOM: Excel opens UTF-8 CSV with umlauts correctly only with it.
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(results: SurveyResults) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Ergebnisse"
    _sheet_rows(ws, [HEADER, *question_rows(results)])
    _sheet_rows(wb.create_sheet("Erreichbarkeit"), [REACH_HEADER, *reach_rows(results)])
    _sheet_rows(wb.create_sheet("Info"), [["umfrage", results.title],
                                          ["antworten", shown_count(results.responses)],
                                          ["mindestgruppe", MIN_GROUP]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
