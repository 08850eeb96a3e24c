"""Reading and validating a stakeholder import file (CSV or XLSX).

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row is 2.
Every bad row is reported with its row, field and message and skipped; the rest is imported.
"""

from __future__ import annotations

import csv
import io
import os
import re
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import anyio

from services.errors import ValidationFailed
from services.i18n import normalise as normalise_language
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
# A contact list has a dozen columns; 16,384 columns or millions of cells are an attack (or a
# mistake) that would keep a worker busy for minutes. Checked before parsing where the file
# declares its size, and again while streaming where it does not (or lies).
MAX_COLUMNS = 64
MAX_CELLS = 2_500_000
MAX_SHARED_STRINGS = MAX_CELLS
# Uncompressed sizes inside the zip (the zip module never inflates past the declared size, so
# these bound the work) and the inflation ratio of one member (a zip bomb packs ~1000:1).
MAX_PART_BYTES = 150_000_000
# openpyxl reads the whole shared-strings part when it opens the workbook (not interruptible):
# its size is what bounds that step. 800k distinct names and addresses are ~35 MB.
MAX_SST_BYTES = 60_000_000
MAX_TOTAL_BYTES = 250_000_000
MAX_PARTS = 1000
MAX_RATIO = 250
RATIO_FROM_BYTES = 5_000_000  # small parts may compress well without being a bomb
# Wall-clock bound of one parse (checked per row, so it also stops a slow CSV).
PARSE_SECONDS = float(os.environ.get("MITWIRKEN_IMPORT_PARSE_SECONDS", "30"))
# At most this many parses at a time: each is CPU-bound and holds the GIL in turns with the
# event loop; more in parallel would only slow every request down.
_PARSE_SLOTS = anyio.CapacityLimiter(2)
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


def _too_large(message: str, code: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(message, code=code,
                            details=[{"field": "file", "message": message, **details}])


def _invalid_xlsx(reason: str) -> ValidationFailed:
    return ValidationFailed("Die Datei ist keine gültige XLSX-Datei.", code="invalid_xlsx",
                            details=[{"field": "file", "message": reason}])


def _csv_rows(data: bytes) -> Iterator[list[Any]]:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    # German spreadsheet exports use ';'; pick whichever separator the header uses most.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    # csv builds a list of every field of a line: a 50 MB line of separators would be tens of
    # millions of strings before the first row reaches the column check. Counted in C first.
    if text.count(delimiter) > MAX_CELLS:
        raise _too_large(f"Höchstens {MAX_CELLS} Zellen je Datei.", "too_many_cells")
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]{0,3})(\d*)(?::([A-Z]{1,3})(\d+))?"')
_SST_COUNTS = re.compile(rb'\b(count|uniqueCount)="(\d{1,12})"')
_CHUNK = 1 << 20
# The first element of a part (after the declaration, comments, a DOCTYPE): which part it is.
_ROOT = re.compile(rb"<(?![?!])(?:([A-Za-z_][\w.-]*):)?([A-Za-z_][\w.-]*)")
_BINARY_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".emf", ".wmf",
                    ".bin")


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _check_dimension(head: bytes) -> None:
    """The sheet's declared used range (`<dimension ref="A1:XFD300"/>`), checked before a
    single row is parsed: openpyxl pads every row to it and fills gaps with empty rows."""
    match = _DIMENSION.search(head)
    if match is None:
        return  # optional; the streaming checks still apply
    first_col, first_row, last_col, last_row = match.groups()
    if last_col is None:
        last_col, last_row = first_col, first_row
    cols = _column_number(last_col or b"A") - _column_number(first_col or b"A") + 1
    rows = int(last_row or 1) - int(first_row or 1) + 1
    ref = match.group(0).split(b'"')[1].decode()
    if cols > MAX_COLUMNS:
        raise _too_large(f"Die Tabelle hat {cols} Spalten ({ref}); höchstens {MAX_COLUMNS}.",
                         "too_many_columns")
    if rows - 1 > MAX_ROWS:
        raise _too_large(f"Die Tabelle hat {rows} Zeilen ({ref}); höchstens {MAX_ROWS}.",
                         "too_many_rows")
    if rows * cols > MAX_CELLS:
        raise _too_large(f"Die Tabelle hat {rows * cols} Zellen ({ref}); höchstens "
                         f"{MAX_CELLS}.", "too_many_cells")


def _is_xml_part(name: str) -> bool:
    # By content, not by name: a relationship may point a sheet or the shared strings at any
    # part name, so everything but the known binary media is scanned.
    return not name.startswith("xl/media/") and not name.lower().endswith(_BINARY_SUFFIXES)


def _scan_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, deadline: float) -> None:
    """Inflate one XML part once, in chunks, before openpyxl sees it: no DTD (entity expansion,
    external entities), and the real number of shared strings, rows and cells within bounds
    whatever the file declares about itself."""
    name = info.filename
    patterns = {b"<!DOCTYPE": 0, b"<!ENTITY": 0}
    is_sheet = is_sst = False
    tail = b""
    first = True
    with archive.open(info) as part:
        while chunk := part.read(_CHUNK):
            if first:
                first = False
                # Excel writes UTF-8; another encoding would hide the markers from this scan.
                if chunk[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in chunk[:64]:
                    raise _invalid_xlsx(f"{name}: nur UTF-8 wird gelesen.")
                root = _ROOT.search(chunk[:65536])
                prefix = (root.group(1) + b":") if root and root.group(1) else b""
                is_sheet = root is not None and root.group(2) == b"worksheet"
                is_sst = root is not None and root.group(2) == b"sst"
                if is_sheet:
                    _check_dimension(chunk[:65536])
                    for tag in (b"row", b"c"):
                        patterns[b"<" + prefix + tag + b" "] = 0
                        patterns[b"<" + prefix + tag + b">"] = 0
                if is_sst:
                    if info.file_size > MAX_SST_BYTES:
                        raise _too_large("Die Texte der Datei sind entpackt zu groß.",
                                         "too_many_strings", part=name)
                    counts = {k.decode(): int(v) for k, v in _SST_COUNTS.findall(chunk[:4096])}
                    declared = max(counts.values(), default=0)
                    if declared > MAX_SHARED_STRINGS:
                        raise _too_large(f"Die Datei hat {declared} Texte; höchstens "
                                         f"{MAX_SHARED_STRINGS}.", "too_many_strings")
                    patterns[b"<" + prefix + b"si>"] = patterns[b"<" + prefix + b"si "] = 0
                keep = max(len(p) for p in patterns) - 1
            window = tail + chunk
            for pattern in patterns:
                patterns[pattern] += window.count(pattern)
            tail = window[-keep:]
            if patterns[b"<!DOCTYPE"] or patterns[b"<!ENTITY"]:
                raise _invalid_xlsx(f"{name}: Dokumenttyp-Deklarationen (DTD) sind nicht "
                                    "erlaubt.")
            if time.monotonic() > deadline:
                raise _timed_out()
            _yield_gil()
    counted = sum(n for p, n in patterns.items() if not p.startswith(b"<!"))
    if is_sst and counted > MAX_SHARED_STRINGS:
        raise _too_large(f"Die Datei hat mehr als {MAX_SHARED_STRINGS} Texte.",
                         "too_many_strings")
    if is_sheet:
        rows = sum(n for p, n in patterns.items() if p[1 + len(prefix):].startswith(b"row"))
        if rows - 1 > MAX_ROWS:
            raise _too_large(f"Höchstens {MAX_ROWS} Zeilen je Datei.", "too_many_rows")
        if counted - rows > MAX_CELLS:
            raise _too_large(f"Höchstens {MAX_CELLS} Zellen je Datei.", "too_many_cells")


def _check_xlsx(data: bytes, deadline: float) -> None:
    """Everything openpyxl would do unbounded, bounded first (zip bomb, XML bomb, sheet size)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _invalid_xlsx("Das ZIP-Archiv ist beschädigt.") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_PARTS:
            raise _too_large(f"Das Archiv hat {len(infos)} Teile; höchstens {MAX_PARTS}.",
                             "too_many_parts")
        total = 0
        for info in infos:
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > MAX_PART_BYTES or total > MAX_TOTAL_BYTES or (
                    info.file_size > RATIO_FROM_BYTES and ratio > MAX_RATIO):
                raise _too_large("Die Datei ist entpackt zu groß.", "archive_too_large",
                                 part=info.filename, uncompressed_bytes=info.file_size)
        try:
            for info in infos:
                if _is_xml_part(info.filename):
                    _scan_part(archive, info, deadline)
        except ValidationFailed:
            raise
        except Exception as exc:  # BadZipFile, zlib.error, CRC mismatch, encrypted part, ...
            raise _invalid_xlsx("Das ZIP-Archiv ist beschädigt.") from exc


def _xlsx_rows(data: bytes, deadline: float) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    _check_xlsx(data, deadline)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # any parser failure of a hostile or broken file is bad input
        raise _invalid_xlsx("Die Arbeitsmappe lässt sich nicht lesen.") from exc
    try:
        if not workbook.worksheets:
            raise _invalid_xlsx("Die Arbeitsmappe hat kein Tabellenblatt.")
        sheet = workbook.worksheets[0]
        try:
            # max_col: openpyxl pads every row to the sheet's width; a contact list is narrow.
            for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1):
                if len(row) > MAX_COLUMNS and row[MAX_COLUMNS] is not None:
                    raise _too_large(f"Höchstens {MAX_COLUMNS} Spalten je Datei.",
                                     "too_many_columns")
                yield list(row[:MAX_COLUMNS])
        except ValidationFailed:
            raise
        except Exception as exc:
            raise _invalid_xlsx("Das Tabellenblatt lässt sich nicht lesen.") from exc
    finally:
        workbook.close()


# The parse runs in a worker thread but holds the GIL: the event loop thread, which gives it up
# at every socket call, would otherwise wait a switch interval (5 ms) to get it back each time,
# and a request with a few dozen such calls took seconds. A short sleep hands it over at once.
_YIELD_EVERY = 100


def _yield_gil() -> None:
    time.sleep(0.0005)


def _timed_out() -> ValidationFailed:
    return ValidationFailed(
        "Die Datei ließ sich nicht in der vorgesehenen Zeit lesen; bitte teilen Sie sie in "
        "kleinere Dateien auf.", code="import_too_slow",
        details=[{"field": "file", "message": "Zeitlimit überschritten."}])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).strip()


async def parse_bounded(filename: str | None, content_type: str | None, data: bytes,
                        known_groups: set[str] | None = None, *,
                        public_task_declared: bool = False,
                        seconds: float | None = None) -> ParsedImport:
    """`parse` in a worker thread, so a large or hostile file never stalls the event loop
    (every other request of this process), bounded by `seconds` of wall-clock time."""
    limit = PARSE_SECONDS if seconds is None else seconds
    return await anyio.to_thread.run_sync(
        lambda: parse(filename, content_type, data, known_groups,
                      public_task_declared=public_task_declared,
                      deadline=time.monotonic() + limit),
        limiter=_PARSE_SLOTS)


def parse(filename: str | None, content_type: str | None, data: bytes,
          known_groups: set[str] | None = None, *,
          public_task_declared: bool = False, deadline: float | None = None) -> ParsedImport:
    """Blocking; the API calls it through `parse_bounded`. `known_groups` None accepts any
    group (the caller creates the new ones); `public_task_declared`: the organisation may
    invite without consent (see rules)."""
    deadline = deadline if deadline is not None else time.monotonic() + PARSE_SECONDS
    fmt = detect_format(filename, content_type, data)
    rows = _xlsx_rows(data, deadline) if fmt == "xlsx" else _csv_rows(data)
    try:
        raw_header = [_cell(h) for h in next(rows)]
        header = [_header_key(h) for h in raw_header]
    except StopIteration:
        raise ValidationFailed("Die Datei ist leer.", code="empty_file") from None
    except csv.Error as exc:
        raise UnsupportedFileType("Die Datei ist keine lesbare CSV-Datei.",
                                  code="unsupported_media_type") from exc
    if len(header) > MAX_COLUMNS:
        raise _too_large(f"Höchstens {MAX_COLUMNS} Spalten je Datei.", "too_many_columns")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ValidationFailed(
            "Der Datei fehlen Pflichtspalten: " + ", ".join(missing) + ".",
            code="missing_columns",
            details=[{"field": c, "message": "Spalte fehlt."} for c in missing],
        )
    index = {name: header.index(name) for name in KNOWN_COLUMNS if name in header}
    # A rejected row names the column as the file's header spells it ("E-Mail", "Gruppe").
    named = {name: raw_header[i] or name for name, i in index.items()}
    out = ParsedImport()
    first_row_of: dict[str, int] = {}
    try:
        for row_no, raw in enumerate(rows, start=2):
            if row_no - 1 > MAX_ROWS:
                raise _too_large(f"Höchstens {MAX_ROWS} Zeilen je Datei.", "too_many_rows")
            if len(raw) > MAX_COLUMNS:
                raise _too_large(f"Höchstens {MAX_COLUMNS} Spalten je Datei (Zeile {row_no}).",
                                 "too_many_columns")
            if time.monotonic() > deadline:
                raise _timed_out()
            if row_no % _YIELD_EVERY == 0:
                _yield_gil()
            cells = {k: _cell(raw[i]) if i < len(raw) else "" for k, i in index.items()}
            if not any(cells.values()):
                continue  # blank lines at the end of a spreadsheet are not errors
            value, error = _validate(cells, known_groups, public_task_declared)
            if error:
                out.rejected.append(RejectedRow(row=row_no, field=error[0], message=error[1],
                                                column=named.get(error[0], error[0])))
                continue
            first = first_row_of.setdefault(value["email"], row_no)
            if first != row_no:
                out.rejected.append(RejectedRow(
                    row=row_no, field="email", column=named["email"],
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
    cell = cells.get("language", "").strip().lower() or "de"
    # Names and codes ("Türkisch", "tr", "tr-TR", "Leichte Sprache", "de-x-ls").
    language = LANGUAGE_ALIASES.get(cell) or normalise_language(cell)
    if language is None:
        return {}, ("language", "Sprache muss de, en, tr, ar, uk oder de-x-ls "
                                "(Leichte Sprache) sein.")
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
