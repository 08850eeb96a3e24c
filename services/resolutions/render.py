"""The documents of a version: HTML (preview), PDF/UA-1 (WeasyPrint), DOCX (python-docx).

All three come from the same frozen content (sections + participation report), so they carry
the same text. User text reaches HTML only through Jinja's autoescape and DOCX only as text
runs, so markup typed into a section stays visible text and never becomes markup.
"""

from __future__ import annotations

import base64
import io
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.resolutions.schemas import ROLE_LABELS
from services.surveys.radar import radar_png, radar_svg

TEMPLATES = Path(__file__).parent / "templates"
PDF_MIME = "application/pdf"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def de(value: Any) -> str:
    """A date (or ISO string of one) as 01.12.2026; "–" for none."""
    if value in (None, ""):
        return "–"
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    return value.strftime("%d.%m.%Y")


def count(rate: dict[str, Any]) -> str:
    """A reach or response-rate cell: "7 von 12 (58 %)", with what is suppressed said so."""
    invited, answered = rate.get("invited"), rate.get("answered")
    if rate.get("suppressed") or answered is None:
        return "unterdrückt" if invited is None else f"unterdrückt (von {invited})"
    if invited is None:
        return f"{answered}"
    share = f" ({round(answered / invited * 100)} %)" if invited else ""
    return f"{answered} von {invited}{share}"


def summary(q: dict[str, Any]) -> str:
    if q.get("suppressed"):
        return "unterdrückt (weniger als 5 Antworten)"
    kind = q.get("kind")
    if kind in ("single", "multiple"):
        return "; ".join(f"{o['label']}: {o['count']} ({round(o['share'] * 100)} %)"
                         for o in q.get("options", []))
    if kind in ("likert", "number"):
        mean = q.get("mean")
        return f"Mittelwert {mean}" if mean is not None else "–"
    if kind == "ranking":
        return "; ".join(f"{i + 1}. {r['label']}" for i, r in enumerate(q.get("ranking", [])))
    if kind == "text":
        return f"{q.get('texts_total', 0)} Freitextantworten (im Ergebnisbericht der Umfrage)"
    return "–"


NO_EVENTS = "Dieser Prozess hat keine Veranstaltungen."


def event_facts(e: dict[str, Any]) -> list[tuple[str, str]]:
    """An event's facts and figures as (label, value) rows, the same in PDF and DOCX. A
    cancelled event is listed as cancelled, without figures."""
    place = (e.get("location") or "–") + (" (auch online)" if e.get("online") else "")
    rows = [("Phase", e["phase_title"]), ("Termin", e["when"]), ("Ort", place),
            ("Status", e["status_label"])]
    if e["cancelled"]:
        return rows
    rows += [
        ("Plätze", str(e["capacity"]) if e["capacity"] else "unbegrenzt"),
        ("Angemeldet", f"{e['registrations']} Anmeldungen mit {e['places_taken']} Personen "
                       "(einschließlich Begleitpersonen)"),
        ("Warteliste", f"{e['waitlisted']} Anmeldungen"),
        # Walk-ins are registered at the door and counted with everyone who came.
        ("Eingecheckt (teilgenommen)", f"{e['attended']} Personen (davon ohne Anmeldung: "
         f"{e['attended_walk_ins']}; Begleitpersonen: {e['attended_companions']})"),
    ]
    return rows


def diversity_note(e: dict[str, Any], min_group: int) -> str:
    d = e["diversity"]
    if d["total"] is None:
        return (f"Wer kam (freiwillige Selbstauskunft): weniger als {min_group} "
                "Selbstauskünfte, keine Auswertung, damit niemand erkennbar wird.")
    return (f"Wer kam (freiwillige Selbstauskunft): {d['total']} Selbstauskünfte. Zahlen "
            f"unter {min_group} (und was sie verraten würde) sind unterdrückt.")


def checklist_note(e: dict[str, Any]) -> str:
    met = "erfüllt" if e["diversity"]["checklist_met"] else "noch nicht erfüllt"
    return ("Teilnahme von Akteuren unterschiedlicher Gruppen, unterschiedlichen Alters, "
            f"verschiedener Geschlechter und Nationalitäten: {met}")


def shown(value: int | None) -> str:
    return "unterdrückt" if value is None else str(value)


def radar_uri(blocks: list[dict[str, Any]]) -> str:
    svg = radar_svg(blocks, title="Punktzahl je Handlungsfeld (0–100 %)")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


@lru_cache
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(
        ["html"], default_for_string=True), trim_blocks=False)
    env.globals.update(de=de, count=count, summary=summary, radar_uri=radar_uri,
                       role_labels=ROLE_LABELS, event_facts=event_facts,
                       diversity_note=diversity_note, checklist_note=checklist_note,
                       shown=shown, no_events=NO_EVENTS)
    return env


def title_of(content: dict[str, Any], *, report_only: bool = False) -> str:
    meta = content["meta"]
    if report_only:
        return f"Beteiligungsbericht zur Beschlussvorlage {meta['reference']}"
    betreff = content["sections"].get("betreff") or meta["process_title"]
    return f"Beschlussvorlage {meta['reference']}: {betreff}"


def document_html(content: dict[str, Any], content_hash: str, *,
                  report_only: bool = False) -> str:
    return _env().get_template("document.html").render(
        doc_title=title_of(content, report_only=report_only), meta=content["meta"],
        s=content["sections"], r=content["report"], amendments=content.get("amendments"),
        content_hash=content_hash, report_only=report_only)


def render_pdf(html: str) -> bytes:
    """PDF/UA-1: tagged, with language, title and bookmarks from the headings (BITV 2.0)."""
    from weasyprint import HTML  # heavy import, only where documents are made

    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf(  # type: ignore[no-any-return]
        pdf_variant="pdf/ua-1")


def render_docx(content: dict[str, Any], content_hash: str) -> bytes:
    """The same content as Word with heading styles, for the council's own system."""
    from docx import Document
    from docx.shared import Cm

    s, r, meta = content["sections"], content["report"], content["meta"]
    doc = Document()
    # Word's core properties hold at most 255 characters (python-docx refuses more).
    doc.core_properties.title = title_of(content)[:255]
    doc.core_properties.author = meta["org_name"][:255]
    doc.core_properties.language = "de-DE"
    doc.add_heading(title_of(content), level=0)

    def table(headers: list[str], rows: list[list[str]], caption: str | None = None) -> None:
        if caption:
            doc.add_paragraph(caption, style="Caption")
        t = doc.add_table(rows=1, cols=len(headers))
        t.style = "Table Grid"
        for cell, text in zip(t.rows[0].cells, headers, strict=True):
            cell.text = text
        for row in rows:
            cells = t.add_row().cells
            for cell, text in zip(cells, row, strict=True):
                cell.text = text

    table(["Angabe", "Wert"], [
        ["Vorlage", meta["reference"]],
        ["Fassung", str(meta["number"]) + (" (beschlossene Fassung)"
                                           if meta.get("kind") == "final" else "")],
        ["Datum", meta["date_de"]], ["Organisation", meta["org_name"]],
        ["Prozess", meta["process_title"]], ["Federführung", s.get("federfuehrung") or "–"]],
        "Angaben zur Vorlage")
    doc.add_heading("Betreff", level=1)
    doc.add_paragraph(s.get("betreff", ""))
    doc.add_heading("Beschlussvorschlag", level=1)
    if content.get("amendments"):
        doc.add_paragraph("Beschlossen mit Änderungen; der beschlossene Wortlaut:")
        doc.add_paragraph(content["amendments"])
    else:
        doc.add_paragraph(s.get("beschluss_intro", ""))
        for point in s.get("beschlussvorschlag", []):
            doc.add_paragraph(point, style="List Number")
    doc.add_heading("Sachverhalt / Begründung", level=1)
    for sec in s.get("sachverhalt", []):
        doc.add_heading(sec["title"], level=2)
        doc.add_paragraph(sec.get("text") or "–")
    doc.add_paragraph("Das Ergebnis der Beteiligung ist im Beteiligungsbericht unten "
                      "zusammengefasst.")
    doc.add_heading("Finanzielle Auswirkungen", level=1)
    doc.add_paragraph(s.get("finanzielle_auswirkungen") or "Keine.")
    doc.add_heading("Beratungsfolge", level=1)
    table(["Gremium", "Rolle", "Sitzung (geplant)"],
          [[c["body"], ROLE_LABELS[c["role"]], de(c.get("date"))]
           for c in s.get("beratungsfolge", [])])
    doc.add_heading("Federführung", level=1)
    doc.add_paragraph(s.get("federfuehrung", ""))
    doc.add_heading("Anlagen", level=1)
    doc.add_paragraph("Beteiligungsbericht (in diesem Dokument und als eigene Datei)",
                      style="List Number")
    for a in s.get("anlagen", []):
        doc.add_paragraph(a, style="List Number")

    doc.add_heading("Beteiligungsbericht", level=1)
    doc.add_paragraph(f"Aus den Daten des Prozesses erzeugt. Zahlen unter {r['min_group']} "
                      "Antworten werden nicht ausgewiesen („unterdrückt“), ebenso Zahlen, aus "
                      "denen sie sich errechnen ließen.")
    doc.add_heading("Phasen", level=2)
    table(["Phase", "Status", "Geplant", "Tatsächlich", "Abgeschlossen von"],
          [[p["title"], p["status"] + (f" ({p['skip_reason']})" if p.get("skip_reason") else ""),
            f"{de(p['planned_start'])} – {de(p['planned_end'])}",
            f"{de(p['actual_start'])} – {de(p['actual_end'])}", p.get("closed_by") or "–"]
           for p in r["phases"]])
    doc.add_heading("Checklisten", level=2)
    for p in r["phases"]:
        if p["checklist"]:
            table(["Punkt", "Erledigt"],
                  [[i["title"], (f"ja, {de(i['done_at'])}" + (f" ({i['done_by']})"
                                                             if i.get("done_by") else ""))
                    if i["done"] else "nein"] for i in p["checklist"]], p["title"])
    doc.add_heading("Eingeladen und beteiligt nach Gruppe und Erreichbarkeit", level=2)
    reach = r["reach"]
    if reach["groups"]:
        rows = []
        for g in reach["by_group"]:
            cells = [count(c) for c in reach["cells"] if c["group"] == g["group"]]
            rows.append([reach["group_labels"].get(g["group"], g["group"]), *cells, count(g)])
        rows.append(["Gesamt", *(count(t) for t in reach["by_tier"]), count(reach["overall"])])
        table(["Gruppe", *(reach["tier_labels"].get(str(t), str(t)) for t in reach["tiers"]),
               "Gesamt"], rows, "Eingeladen / beteiligt je Gruppe und Erreichbarkeitsstufe")
    else:
        doc.add_paragraph("Es wurden keine Einladungen versandt.")
    doc.add_heading("Umfragen", level=2)
    for sv in r["surveys"]:
        doc.add_heading(sv["survey"]["title"], level=3)
        responses = sv["responses"] if sv["responses"] is not None else "unterdrückt"
        doc.add_paragraph(f"Antworten: {responses}; Rücklauf: {count(sv['response_rate'])}")
        if sv["blocks"]:
            png = radar_png(sv["blocks"]) if sv.get("radar_alt") else b""
            if png:
                doc.add_picture(io.BytesIO(png), width=Cm(9))
                # The picture's text alternative (Word: "Alternativtext").
                inline = doc.inline_shapes[-1]._inline
                inline.docPr.set("descr", "Netzdiagramm der Punktzahl je Handlungsfeld: "
                                 + sv["radar_alt"])
                inline.docPr.set("title", "Punktzahl je Handlungsfeld")
            table(["Nr.", "Handlungsfeld", "Punktzahl"],
                  [[str(i + 1), b["title"],
                    "unterdrückt" if b.get("score") is None else f"{b['score']} %"]
                   for i, b in enumerate(sv["blocks"])], "Punktzahl je Handlungsfeld (0–100 %)")
        table(["Frage", "Antworten", "Ergebnis"],
              [[q["text"], str(q["answered"]) if q.get("answered") is not None
                else "unterdrückt", summary(q)] for q in sv["questions"]],
              "Ergebnisse je Frage")
    if not r["surveys"]:
        doc.add_paragraph("Keine Umfragen.")
    doc.add_heading("Veranstaltungen", level=2)
    for e in r["events"]:
        doc.add_heading(e["title"], level=3)
        table(["Angabe", "Wert"], [list(row) for row in event_facts(e)], "Termin und Teilnahme")
        if e["cancelled"]:
            continue
        doc.add_paragraph(diversity_note(e, r["min_group"]))
        if e["diversity"]["total"] is not None:
            for dim in e["diversity"]["dimensions"]:
                table(["Angabe", "Anzahl"], [[c["label"], shown(c["count"])]
                                             for c in dim["counts"]], dim["label"])
        doc.add_paragraph(checklist_note(e))
    if not r["events"]:
        doc.add_paragraph(NO_EVENTS)
    doc.add_heading("Freigaben der Steuerungsgruppe", level=2)
    for a in r["approvals"]:
        table(["Entscheidung", "Kommentar", "Datum"],
              [[v["decision"], v.get("comment") or "–", de(v.get("decided_at"))]
               for v in a["votes"]] or [["Noch keine Stimmen.", "", ""]],
              f"{a['title']}: {a['status']}"
              + (f", {de(a['decided_at'])}" if a.get("decided_at") else ""))
    if not r["approvals"]:
        doc.add_paragraph("Keine Freigaben.")
    doc.add_paragraph(f"Inhalts-Prüfsumme (SHA-256): {content_hash}")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
