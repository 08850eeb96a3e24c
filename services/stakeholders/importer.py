"""Reading and validating a stakeholder import file (CSV or XLSX).

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row is 2.
Every bad row is reported with its row, field and message and skipped; the rest is imported.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.errors import ValidationFailed
from services.stakeholders.errors import UnsupportedFileType
from services.stakeholders.rules import (
    KIND_ALIASES,
    LANGUAGE_ALIASES,
    LegalBasisMissing,
    decide_legal_basis,
    normalise_email,
    normalise_group,
    normalise_name,
    split_tags,
    unknown_group_message,
)
from services.stakeholders.schemas import RejectedRow

REQUIRED_COLUMNS = ("name", "email", "group")
KNOWN_COLUMNS = (
    "name", "email", "kind", "group", "reach_tier", "tags", "language",
    "accessibility_needs", "consent_at", "consent_method", "legal_basis", "notes",
)
# German headers a coordinator's spreadsheet may carry instead of the API names.
HEADER_ALIASES = {
    "e-mail": "email", "mail": "email", "art": "kind", "gruppe": "group",
    "group_key": "group", "erreichbarkeit": "reach_tier", "stufe": "reach_tier",
    "tier": "reach_tier", "schlagworte": "tags", "sprache": "language",
    "barrierefreiheit": "accessibility_needs", "einwilligung_am": "consent_at",
    "einwilligung_wie": "consent_method", "notizen": "notes",
    "rechtsgrundlage": "legal_basis",
}
MAX_ROWS = 200_000
BERLIN = ZoneInfo("Europe/Berlin")
XLSX_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass
class ParsedImport:
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)


def _header_key(value: Any) -> str:
    key = str(value or "").strip().lower().replace(" ", "_")
    return HEADER_ALIASES.get(key, key)


def detect_format(filename: str | None, content_type: str | None, data: bytes) -> str:
    """'csv' or 'xlsx'; anything else is refused with 415 before a single row is read."""
    name = (filename or "").lower()
    ctype = (content_type or "").split(";")[0].strip().lower()
    if data[:4] == b"PK\x03\x04" and (name.endswith(".xlsx") or ctype in XLSX_TYPES
                                       or not name.endswith(".csv")):
        return "xlsx"
    if name.endswith(".xlsx") or ctype in XLSX_TYPES:
        raise UnsupportedFileType("Die Datei ist keine gültige XLSX-Datei.",
                                  code="unsupported_media_type")
    looks_binary = b"\x00" in data[:4096]
    if not looks_binary and (name.endswith((".csv", ".txt")) or ctype in
                             ("text/csv", "text/plain", "application/csv",
                              "application/vnd.ms-excel", "application/octet-stream", "")):
        return "csv"
    raise UnsupportedFileType(
        "Bitte laden Sie eine CSV- oder XLSX-Datei hoch.", code="unsupported_media_type",
        details={"filename": filename, "content_type": content_type},
    )


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnsupportedFileType("Die CSV-Datei ist weder UTF-8 noch Windows-1252.",
                              code="unsupported_media_type")


def _csv_rows(data: bytes) -> Iterator[list[Any]]:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    # German spreadsheet exports use ';'; pick whichever separator the header uses most.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _xlsx_rows(data: bytes) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnsupportedFileType("Die Datei ist keine gültige XLSX-Datei.",
                                  code="unsupported_media_type") from exc
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        workbook.close()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).strip()


def parse(filename: str | None, content_type: str | None, data: bytes,
          known_groups: set[str] | None = None, *,
          public_task_declared: bool = False) -> ParsedImport:
    """`known_groups` None accepts any group (the caller creates the new ones);
    `public_task_declared`: the organisation may invite without consent (see rules)."""
    fmt = detect_format(filename, content_type, data)
    rows = _xlsx_rows(data) if fmt == "xlsx" else _csv_rows(data)
    try:
        header = [_header_key(h) for h in next(rows)]
    except StopIteration:
        raise ValidationFailed("Die Datei ist leer.", code="empty_file") from None
    except csv.Error as exc:
        raise UnsupportedFileType("Die Datei ist keine lesbare CSV-Datei.",
                                  code="unsupported_media_type") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ValidationFailed(
            "Der Datei fehlen Pflichtspalten: " + ", ".join(missing) + ".",
            code="missing_columns",
            details=[{"field": c, "message": "Spalte fehlt."} for c in missing],
        )
    index = {name: header.index(name) for name in KNOWN_COLUMNS if name in header}
    out = ParsedImport()
    first_row_of: dict[str, int] = {}
    try:
        for row_no, raw in enumerate(rows, start=2):
            if row_no - 1 > MAX_ROWS:
                raise ValidationFailed(f"Höchstens {MAX_ROWS} Zeilen je Datei.",
                                       code="too_many_rows")
            cells = {k: _cell(raw[i]) if i < len(raw) else "" for k, i in index.items()}
            if not any(cells.values()):
                continue  # blank lines at the end of a spreadsheet are not errors
            value, error = _validate(cells, known_groups, public_task_declared)
            if error:
                out.rejected.append(RejectedRow(row=row_no, field=error[0], message=error[1]))
                continue
            first = first_row_of.setdefault(value["email"], row_no)
            if first != row_no:
                out.rejected.append(RejectedRow(
                    row=row_no, field="email",
                    message=f"Diese E-Mail-Adresse steht schon in Zeile {first}.",
                ))
                continue
            out.rows.append(value)
    except csv.Error as exc:
        raise UnsupportedFileType("Die Datei ist keine lesbare CSV-Datei.",
                                  code="unsupported_media_type") from exc
    return out


def _validate(cells: dict[str, str], known_groups: set[str] | None,
              public_task_declared: bool) -> tuple[dict[str, Any], tuple[str, str] | None]:
    try:
        name = normalise_name(cells.get("name", ""))
    except ValueError as exc:
        return {}, ("name", str(exc))
    if len(name) > 200:
        return {}, ("name", "Der Name ist länger als 200 Zeichen.")
    try:
        email = normalise_email(cells.get("email", ""))
    except ValueError as exc:  # the reason says what is wrong (umlaut, invisible mark …)
        return {}, ("email", str(exc))
    kind = KIND_ALIASES.get(cells.get("kind", "").lower() or "person")
    if kind is None:
        return {}, ("kind", "Art muss 'person' oder 'organisation' sein.")
    try:
        group = normalise_group(cells.get("group", ""))
    except ValueError:
        return {}, ("group", "Die Gruppe fehlt.")
    if known_groups is not None and group not in known_groups:
        return {}, ("group", unknown_group_message(group, known_groups))
    tier_cell = cells.get("reach_tier", "") or "1"
    if tier_cell not in ("1", "2", "3"):
        return {}, ("reach_tier", "Erreichbarkeit muss 1, 2 oder 3 sein.")
    language = LANGUAGE_ALIASES.get(cells.get("language", "").lower() or "de")
    if language is None:
        return {}, ("language", "Sprache muss 'de' oder 'en' sein.")
    consent_at = None
    if cells.get("consent_at"):
        try:
            consent_at = datetime.fromisoformat(cells["consent_at"])
            if consent_at.tzinfo is None:
                consent_at = consent_at.replace(tzinfo=BERLIN)
        except ValueError:
            return {}, ("consent_at", "Datum der Einwilligung ist kein ISO-8601-Datum.")
    try:
        legal_basis = decide_legal_basis(cells.get("legal_basis"), consent_at is not None,
                                         public_task_declared)
    except LegalBasisMissing as exc:
        return {}, (exc.field, exc.message)
    return {
        "name": name,
        "email": email,
        "kind": kind,
        "group_key": group,
        # The spreadsheet's own wording, as the label of a group this import creates.
        "group_label": cells.get("group", "")[:300],
        "reach_tier": int(tier_cell),
        "tags": split_tags(cells.get("tags", "")),
        "language": language,
        "accessibility_needs": cells.get("accessibility_needs") or None,
        "consent_at": consent_at,
        "consent_method": (cells.get("consent_method") or None),
        "legal_basis": legal_basis,
        "notes": cells.get("notes") or None,
    }, None
