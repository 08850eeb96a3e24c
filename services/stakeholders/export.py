"""CSV files of the registry for German Excel: the list, a sample to import, rejected rows.

Semicolon, UTF-8 with BOM (Excel's hint), every text cell formula-safe (a name "=HYPERLINK(…)"
typed into a form must not run when a colleague opens the export).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from services.stakeholders.schemas import RejectedRow, StakeholderOut
from services.surveys.export import safe_cell

# The import's own column names: an exported list can be edited and imported again.
LIST_HEADER = ["name", "email", "kind", "group", "reach_tier", "tags", "language",
               "legal_basis", "consent_at", "consent_method", "accessibility_needs", "notes"]
SAMPLE_ROWS = [
    ["Erika Mustermann", "erika.mustermann@example.org", "person", "verwaltung", "1",
     "jugend;sport", "de", "consent", "2026-03-01", "Formular Bürgerfest", "", ""],
    ["Verein Miteinander e. V.", "info@miteinander.example", "organisation", "zivilgesellschaft",
     "2", "", "en", "public_task", "", "", "Rollstuhlzugang", ""],
]


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else safe_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def list_csv(items: Iterable[StakeholderOut]) -> bytes:
    return _csv(LIST_HEADER, ([
        s.name, s.email, s.kind, s.group, s.reach_tier, ";".join(s.tags), s.language,
        s.legal_basis, s.consent_at.date().isoformat() if s.consent_at else None,
        s.consent_method, s.accessibility_needs, s.notes] for s in items))


def sample_csv() -> bytes:
    return _csv(LIST_HEADER, SAMPLE_ROWS)


def rejected_csv(rows: Iterable[RejectedRow]) -> bytes:
    return _csv(["zeile", "spalte", "meldung"],
                ([r.row, r.column or r.field, r.message] for r in rows))
