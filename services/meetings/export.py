"""Registrations, waitlist and attendance of an event as CSV (semicolons, BOM: German Excel)
and XLSX. Names and notes come from anyone with a link: every cell goes through the results
export's `safe_cell`, so nothing is run as a formula."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

from services.meetings.schemas import RegistrationRow
from services.surveys.export import safe_cell

LISTS = ("registrations", "waitlist", "attendance")
TITLES = {"registrations": "Anmeldungen", "waitlist": "Warteliste", "attendance": "Anwesenheit"}
HEADER = ["name", "e_mail", "status", "begleitpersonen", "wartelistenplatz", "rollstuhl",
          "gebaerdensprache", "kinderbetreuung", "dolmetschen", "anmerkung", "check_in_code",
          "angemeldet_am", "eingecheckt_am", "ohne_anmeldung"]


def select(rows: list[RegistrationRow], which: str) -> list[RegistrationRow]:
    if which == "waitlist":
        return [r for r in rows if r.status == "waitlisted"]
    if which == "attendance":
        return [r for r in rows if r.checked_in_at is not None]
    return [r for r in rows if r.status in ("registered", "waitlisted")]


def _yes(value: object) -> str:
    return "ja" if value else ""


def table(rows: list[RegistrationRow], tz: str) -> list[list[Any]]:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)

    def when(value: Any) -> str:
        return value.astimezone(zone).strftime("%d.%m.%Y %H:%M") if value else ""

    out = []
    for r in rows:
        n = r.needs
        out.append([r.name or "", r.email or "", r.status, r.companions,
                    r.waitlist_position or "", _yes(n.get("wheelchair")),
                    _yes(n.get("sign_language")), _yes(n.get("childcare")),
                    n.get("interpreter") or "", n.get("note") or "", r.checkin_code,
                    when(r.registered_at), when(r.checked_in_at), _yes(r.walk_in)])
    return out


def to_csv(rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([safe_cell(c) for c in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(rows: list[list[Any]], title: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(HEADER)
    for row in rows:
        ws.append([safe_cell(c) for c in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


ATTENDANCE_COLUMNS = ("code", "check_in_code", "e_mail", "email", "e-mail")


def attendance_values(data: bytes) -> list[str]:
    """The codes or addresses of an uploaded attendance list (CSV with `;` or `,`, a header
    row naming a column `code` / `check_in_code` or `e_mail` / `email`; without such a
    header, the first column). Raises ValueError with a German reason."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError("Die Datei ist keine UTF-8-CSV-Datei.") from exc
    lines = text.splitlines()
    if not lines:
        raise ValueError("Die Datei ist leer.")
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    rows = list(csv.reader(lines, delimiter=delimiter))
    header = [h.strip().lower() for h in rows[0]]
    column = next((header.index(c) for c in ATTENDANCE_COLUMNS if c in header), None)
    body = rows[1:] if column is not None else rows
    index = column or 0
    return [r[index] if index < len(r) else "" for r in body]
