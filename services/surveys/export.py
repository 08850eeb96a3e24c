"""Results and individual responses as CSV (German Excel) and XLSX.

Aggregates: the tables of `compute_results` ("ergebnisse" per question and value, "handlungs-
felder" for a survey with scored blocks, "erreichbarkeit" the reach matrix with its totals,
"kanaele" the answers per channel when some came in other than by personal invitation),
every count as `as_dict()` shows it, so what services/surveys/suppression.py hides every
export hides too. One CSV per table (`to_csv`), all of them in a ZIP (`to_zip`), or one XLSX
with a sheet per table (`to_xlsx`).

CSV for a German Excel: semicolon, decimal comma, UTF-8 with BOM (without it Excel reads the
umlauts as cp1252), CRLF. XLSX: numbers as numbers with formats (counts "0", shares "0.0%",
means "0.000", scores "0.0"), a bold, frozen header row.

Cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR) are prefixed
with an apostrophe: free texts come from anyone holding a link.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from services.surveys.results import (
    CHANNEL_LABELS,
    UNINVITED,
    IndividualResponses,
    Rate,
    SurveyResults,
)
from services.surveys.schemas import DONT_KNOW, DONT_KNOW_LABELS
from services.surveys.suppression import MIN_GROUP, shown_count

Kind = Literal["text", "int", "share", "mean", "score", "number"]
FORMATS: dict[str, str] = {"int": "0", "share": "0.0%", "mean": "0.000", "score": "0.0",
                           "number": "General"}

TOTAL_LABEL = "gesamt"
SUPPRESSED = f"unterdrückt (weniger als {MIN_GROUP} Antworten)"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Table:
    key: str  # the file name (CSV) and the `tabelle` parameter
    sheet: str  # the XLSX sheet's title
    columns: list[Column]
    rows: list[list[Any]]


QUESTION_COLUMNS = [Column("bereich"), Column("frage_id"), Column("frage"), Column("typ"),
                    Column("wert"), Column("beschriftung"), Column("anzahl", "int"),
                    Column("anteil", "share"), Column("mittelwert", "mean"),
                    Column("punkte", "int")]
BLOCK_COLUMNS = [Column("nr", "int"), Column("handlungsfeld_id"), Column("handlungsfeld"),
                 Column("antworten", "int"), Column("weiss_nicht", "int"),
                 Column("mittelwert_1_5", "mean"), Column("punktzahl_prozent", "score"),
                 Column("unterdrueckt")]
REACH_COLUMNS = [Column("gruppe"), Column("stufe"), Column("eingeladen", "int"),
                 Column("geantwortet", "int"), Column("quote", "share"),
                 Column("unterdrueckt")]
CHANNEL_COLUMNS = [Column("kanal"), Column("gruppe"), Column("stufe"),
                   Column("antworten", "int"), Column("unterdrueckt")]
NO_VALUE = "ohne Angabe"  # an interview or paper answer entered without group or tier
# Kept for callers that name the headers (the first table's column names).
HEADER = [c.name for c in QUESTION_COLUMNS]
REACH_HEADER = [c.name for c in REACH_COLUMNS]


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def question_rows(results: SurveyResults) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for q in results.questions:
        base = ["frage", q.id, q.text, q.kind]
        if q.suppressed:
            rows.append(base + ["", SUPPRESSED, None, None, None, None])
            continue
        if q.kind in ("single", "multiple"):
            for o in q.options:
                rows.append(base + [o["value"], o["label"], o["count"], o["share"], None, None])
        elif q.kind in ("likert", "number"):
            for d in q.distribution:
                rows.append(base + [d["value"], d["label"], d["count"], d["share"], None, None])
            if q.dont_know is not None:
                # Counted apart: not in the shares above, not in the mean below.
                rows.append(base + [DONT_KNOW, DONT_KNOW_LABELS["de"], q.dont_know, None, None,
                                    None])
            rows.append(base + ["mittelwert", "", q.answered, None, q.mean, None])
        elif q.kind == "ranking":
            for item in q.ranking:
                rows.append(base + [item["value"], item["label"], q.answered, None,
                                    item["mean_rank"], item["points"]])
        elif q.kind == "text":
            for t in q.texts:
                rows.append(base + ["text", t, None, None, None, None])
    return rows


def block_rows(results: SurveyResults) -> list[list[Any]]:
    return [[i, b["key"], b["title"], b["answered"], b.get("dont_know"), b["mean"], b["score"],
             "ja" if b["suppressed"] else "nein"]
            for i, b in enumerate(results.blocks, 1)]


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
        out.append([g, t, d["invited"], d["answered"], d["rate"],
                    "ja" if d["suppressed"] else "nein"])
    return out


def _has_other_channels(results: SurveyResults) -> bool:
    """Answers came in through more than personal invitations (a link, interview, paper)."""
    return any(c["channel"] != "invitation" and (c["responses"] or c["suppressed"])
               for c in results.by_channel.get("channels", []))


def channel_rows(results: SurveyResults) -> list[list[Any]]:
    """Responses per channel ("gesamt"), then per channel without invitations its group x
    tier table with the totals: the counts and the hiding of `channel_breakdown`, as the API
    and the page show them."""
    ch = results.by_channel
    flag = {True: "ja", False: "nein"}
    out: list[list[Any]] = []
    for c in ch.get("channels", []):
        out.append([CHANNEL_LABELS.get(c["channel"], c["channel"]), TOTAL_LABEL, TOTAL_LABEL,
                    c["responses"], flag[c["suppressed"]]])
    for channel in UNINVITED:
        table = ch.get(channel) or {}
        if not table.get("groups"):
            continue
        label = CHANNEL_LABELS[channel]
        out += [[label, x["group"] or NO_VALUE, x["tier"] or NO_VALUE, x["responses"],
                 flag[x["suppressed"]]] for x in table["cells"]]
        out += [[label, x["group"] or NO_VALUE, TOTAL_LABEL, x["responses"],
                 flag[x["suppressed"]]] for x in table["by_group"]]
        out += [[label, TOTAL_LABEL, x["tier"] or NO_VALUE, x["responses"],
                 flag[x["suppressed"]]] for x in table["by_tier"]]
    return out


def result_tables(results: SurveyResults) -> list[Table]:
    tables = [Table("ergebnisse", "Ergebnisse", QUESTION_COLUMNS, question_rows(results))]
    if results.blocks:
        tables.append(Table("handlungsfelder", "Handlungsfelder", BLOCK_COLUMNS,
                            block_rows(results)))
    tables.append(Table("erreichbarkeit", "Erreichbarkeit", REACH_COLUMNS, reach_rows(results)))
    if _has_other_channels(results):
        tables.append(Table("kanaele", "Kanäle", CHANNEL_COLUMNS, channel_rows(results)))
    return tables


def table_keys(results: SurveyResults) -> list[str]:
    return [t.key for t in result_tables(results)]


# --- writing ---------------------------------------------------------------------------------

def german_number(value: Any) -> Any:
    """A float with a decimal comma (German Excel reads "0,75" as a number, "0.75" as a date or
    text); integers and everything else unchanged."""
    if isinstance(value, float) and not isinstance(value, bool):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value).replace(".", ",")
    return value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    return safe_cell(german_number(value))


def csv_bytes(columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow([safe_cell(c.name) for c in columns])
    for row in rows:
        writer.writerow([_csv_cell(c) for c in row])
    # BOM: Excel opens UTF-8 CSV with umlauts correctly only with it.
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _sheet(ws: Worksheet, columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> None:
    # Every cell through safe_cell: the survey's title went into "Info" raw once and openpyxl
    # stores a string starting with "=" as a live formula.
    ws.append([safe_cell(c.name) for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([safe_cell(v) for v in row])
    for i, column in enumerate(columns, 1):
        fmt = FORMATS.get(column.kind)
        if fmt is None:
            continue
        for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
            if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                cell.number_format = fmt
    ws.freeze_panes = "A2"  # the header stays in view while scrolling


def _workbook_bytes(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_csv(results: SurveyResults, table: str = "ergebnisse") -> bytes:
    """One table as CSV; KeyError for a table the survey does not have."""
    found = {t.key: t for t in result_tables(results)}[table]
    return csv_bytes(found.columns, found.rows)


def to_zip(results: SurveyResults) -> bytes:
    """Every table as its own CSV in one ZIP."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for t in result_tables(results):
            archive.writestr(f"{t.key}.csv", csv_bytes(t.columns, t.rows))
    return buf.getvalue()


def to_xlsx(results: SurveyResults) -> bytes:
    wb = Workbook()
    first = True
    for t in result_tables(results):
        ws = wb.active if first else wb.create_sheet()
        assert ws is not None
        ws.title = t.sheet
        _sheet(ws, t.columns, t.rows)
        first = False
    _sheet(wb.create_sheet("Info"), [Column("angabe"), Column("wert")],
           [["umfrage", results.title], ["version", results.version],
            ["antworten", shown_count(results.responses)], ["mindestgruppe", MIN_GROUP]])
    return _workbook_bytes(wb)


# --- individual responses --------------------------------------------------------------------

def _response_columns(data: IndividualResponses) -> list[Column]:
    return [Column(name, kind) for name, kind in data.columns]  # type: ignore[arg-type]


def responses_csv(data: IndividualResponses) -> bytes:
    return csv_bytes(_response_columns(data), data.rows)


def responses_xlsx(data: IndividualResponses) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Antworten"
    _sheet(ws, _response_columns(data), data.rows)
    return _workbook_bytes(wb)
