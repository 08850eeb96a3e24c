"""Paper forms of a survey (issue 12): the whole survey laid out for pen and paper as a PDF.

One copy of the form per `PaperSheet`; the first page of each copy carries its header:
- a personal sheet (an invitation): the participant link as a QR code (segno), the link
  printed and the invitation's 8-character short code, which staff type in when keying in;
- an anonymous sheet: its form number ("Bogen-Nr. 0007"), so each sheet is keyed in once;
- a blank template: neither, a field for the form number to be written in by hand.

The fixed words come from the catalogs' `paper` section (and `survey` for what the screen
form says alike: ranges, limits, "oder"), the survey's texts from the definition in the chosen
language with German where it has none (`pick`, as on the participant pages). Arabic is set
right to left. PDF/UA-1 like the poster and the council documents: tagged, with language and
title.

Pages are numbered per copy ("Seite 2 von 3"): CSS page groups (`@page :nth(k of form)`,
each copy starts a group) give the page within the copy. The total cannot come from a counter
(`counter(pages)` counts the whole document), so the header has the same fixed height on all
three kinds of sheet, every copy has the same number of pages, and one copy is laid out first
to count them.
"""

from __future__ import annotations

import asyncio
import base64
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from services import i18n
from services.errors import ValidationFailed
from services.identity.repository import IdentityRepository
from services.models.survey import Survey
from services.surveys.poster import DOCUMENTS
from services.surveys.schemas import DONT_KNOW, QuestionDef, SurveyDefinition, pick
from services.surveys.service import survey_questions
from services.surveys.validation import range_hint

# Writing lines for a free text: about one line per 120 characters allowed, within reason.
_CHARS_PER_LINE = 120
_MIN_LINES, _MAX_LINES = 3, 10


@dataclass(frozen=True)
class PaperSheet:
    """One printed copy. Personal: `code` and `link`; anonymous: `form_number`; blank: none."""

    form_number: int | None = None
    code: str | None = None
    link: str | None = None

    @property
    def kind(self) -> str:
        if self.code or self.link:
            return "personal"
        return "numbered" if self.form_number is not None else "blank"


BLANK = PaperSheet()


def form_number_text(number: int) -> str:
    """The printed form number: four digits at least ("0007"), as staff type it back."""
    return f"{number:04d}"


def _css_string(value: str) -> str:
    """A text for inside a quoted CSS string (the foot's page and sheet texts): without the
    characters that could end the string or escape out of it."""
    return re.sub(r"[\\'\"\n\r<>]", "", value)


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(DOCUMENTS), autoescape=select_autoescape(),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["css_string"] = _css_string
    return env


def _qr_png_data_uri(value: str) -> str:
    # A raster image (one image with its alt text in the PDF) rather than the poster's SVG,
    # which WeasyPrint draws as paths: a scanner reads either, a check of the PDF finds this.
    out = io.BytesIO()
    segno.make(value, error="m").save(out, kind="png", scale=8, border=2)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _writing_lines(q: QuestionDef) -> int:
    return max(_MIN_LINES, min(_MAX_LINES, -(-q.max_length // _CHARS_PER_LINE)))


def _hints(q: QuestionDef, lang: str, t: Any, st: Any) -> list[str]:
    """What the screen form says next to a field, in words for paper."""
    hints: list[str] = []
    if q.kind == "single":
        hints.append(t["single_hint"])
    elif q.kind == "multiple":
        hints.append(st["multiple_hint"] if q.max_choices is None
                     else i18n.plural(lang, "survey.choices_max", q.max_choices))
        if q.min_choices > 1:
            hints.append(i18n.plural(lang, "paper.choices_min", q.min_choices))
    elif q.kind == "ranking":
        hints.append(t["ranking_hint"].format(n=i18n.number(len(q.options), lang)))
    elif q.kind == "number":
        if (allowed := range_hint(q, lang)) is not None:
            hints.append(allowed)
        hints.append(t["integer_hint"] if q.integer else t["number_hint"])
    elif q.kind == "text":
        hints.append(t["text_hint"])
    return hints


def _condition(q: QuestionDef, numbers: dict[str, int], by_id: dict[str, QuestionDef],
               lang: str, t: Any, st: Any) -> str | None:
    """The condition in words: "Nur beantworten, wenn Sie bei Frage 3 „Ja“ angekreuzt haben."
    Choices and scale points by their printed labels, other answers by their value."""
    if q.show_if is None:
        return None
    target = by_id.get(q.show_if.question)
    if target is None:
        return None
    if target.kind in ("single", "multiple", "ranking"):
        labels = {o.value: pick(o.label, lang) for o in target.options}
    elif target.kind == "likert":
        scale = target.likert_labels(lang)
        labels = {str(i + 1): f"{i + 1} ({label})" for i, label in enumerate(scale)}
        labels[DONT_KNOW] = st["dont_know"]
    else:
        labels = {}
    wanted = f" {st['or']} ".join(f"„{labels.get(v, v)}“" for v in q.show_if.in_)
    key = "condition" if target.kind in ("single", "multiple", "likert") else "condition_given"
    return str(t[key].format(n=i18n.number(numbers[target.id], lang), v=wanted))



def _question(q: QuestionDef, number: int, numbers: dict[str, int],
              by_id: dict[str, QuestionDef], lang: str, t: Any, st: Any) -> dict[str, Any]:
    return {
        "id": q.id, "kind": q.kind, "number": i18n.number(number, lang),
        "text": pick(q.text, lang), "help": pick(q.help, lang), "required": q.required,
        "hints": _hints(q, lang, t, st),
        "condition": _condition(q, numbers, by_id, lang, t, st),
        "options": [pick(o.label, lang) for o in q.options],
        "labels": q.likert_labels(lang) if q.kind == "likert" else [],
        "dont_know": q.kind == "likert" and q.dont_know,
        "lines": _writing_lines(q) if q.kind == "text" else 0,
        "scale": [i18n.number(i, lang) for i in range(1, 6)],
    }


def _sections(survey: SurveyDefinition, lang: str) -> list[dict[str, Any]]:
    """The questions in runs of the same block (a block's run under its title, as on the
    screen form); inside a run, consecutive Likert statements with the same scale form one
    grid (the scale's words once above the columns, a row per statement)."""
    t, st = i18n.texts(lang, "paper"), i18n.texts(lang, "survey")
    numbers = {q.id: i + 1 for i, q in enumerate(survey.questions)}
    by_id = {q.id: q for q in survey.questions}
    titles = {b.key: pick(b.title, lang) for b in survey.blocks}
    sections: list[dict[str, Any]] = []
    for q in survey.questions:
        block = q.block if q.block in titles else None
        if not sections or sections[-1]["key"] != block:
            sections.append({"key": block, "title": titles[block] if block else None,
                             "groups": []})
        groups = sections[-1]["groups"]
        view = _question(q, numbers[q.id], numbers, by_id, lang, t, st)
        if q.kind == "likert":
            scale = (tuple(view["labels"]), view["dont_know"])
            if groups and groups[-1]["kind"] == "grid" and groups[-1]["scale"] == scale:
                groups[-1]["questions"].append(view)
                continue
            groups.append({"kind": "grid", "scale": scale, "labels": view["labels"],
                           "dont_know": view["dont_know"], "numbers": view["scale"],
                           "questions": [view]})
        else:
            groups.append({"kind": "single", "questions": [view]})
    return sections


def paper_html(survey: SurveyDefinition, *, language: str, sheets: Sequence[PaperSheet],
               organisation_name: str, return_to: str | None = None,
               pages_per_copy: int | None = None) -> str:
    lang = i18n.supported(language)
    t = i18n.texts(lang, "paper")
    title = pick(survey.title, lang)
    copies = []
    for sheet in sheets:
        copies.append({
            "kind": sheet.kind, "code": sheet.code, "link": sheet.link,
            "qr": _qr_png_data_uri(sheet.link) if sheet.link else None,
            "number": None if sheet.form_number is None
            else form_number_text(sheet.form_number),
        })
    pages = [t["page"].format(n=i18n.number(k, lang), m=i18n.number(pages_per_copy, lang))
             if pages_per_copy else t["page_short"].format(n=i18n.number(k, lang))
             for k in range(1, (pages_per_copy or _MAX_NUMBERED_PAGES) + 1)]
    return _env().get_template("paper.html").render(
        lang=lang, dir=i18n.direction(lang), t=t, st=i18n.texts(lang, "survey"),
        doc_title=t["doc_title"].format(title=title), title=title,
        introduction=pick(survey.introduction, lang), anonymous=survey.anonymity == "anonymous",
        sections=_sections(survey, lang), copies=copies, org=organisation_name,
        return_text=t["return"].format(org=organisation_name),
        return_to=return_to, pages=pages,
        has_required=any(q.required for q in survey.questions),
        has_conditions=any(q.show_if is not None for q in survey.questions))


# Without a known total, page numbers are printed for this many pages of a copy (the rule per
# page is one line of CSS; no survey of 300 questions is longer).
_MAX_NUMBERED_PAGES = 120


def render_paper_forms(survey: SurveyDefinition, *, language: str,
                       sheets: Sequence[PaperSheet] = (BLANK,), organisation_name: str,
                       return_to: str | None = None) -> bytes:
    """The PDF: one copy of the whole form per sheet, in `language` (German where the survey
    has no text in it). `return_to`: where the sheet goes back to (an address or room),
    printed under the instructions; without it the organisation's name is said."""
    from weasyprint import HTML  # heavy import, only where documents are made

    if not sheets:
        raise ValueError("no sheets")

    def layout(chosen: Sequence[PaperSheet], pages_per_copy: int | None) -> Any:
        html = paper_html(survey, language=language, sheets=chosen,
                          organisation_name=organisation_name, return_to=return_to,
                          pages_per_copy=pages_per_copy)
        return HTML(string=html, base_url=str(DOCUMENTS)).render(pdf_variant="pdf/ua-1")

    # Every kind of header has the same height, so one copy tells every copy's length.
    per_copy = len(layout(sheets[:1], None).pages)
    document = layout(sheets, per_copy)
    if len(document.pages) != per_copy * len(sheets):
        # Should a copy ever break differently, a wrong total would mislead: number only.
        document = layout(sheets, None)
    return document.write_pdf(pdf_variant="pdf/ua-1")  # type: ignore[no-any-return]


# --- a stored survey's forms --------------------------------------------------------------


def paper_language(code: str | None, *, field: str = "sprache") -> str:
    """The catalog language a request names (`de`, `EN`, `ls` ...); anything else a 422 that
    names the field."""
    lang = i18n.normalise(code)
    if lang is None:
        raise ValidationFailed(
            "Diese Sprache gibt es nicht. Möglich sind: " + ", ".join(i18n.LANGUAGES) + ".",
            code="unknown_language",
            details=[{"field": field, "message": "unbekannte Sprache", "code": "language"}])
    return lang


async def survey_paper_forms(session: AsyncSession, survey: Survey, *, language: str,
                             sheets: Sequence[PaperSheet] = (BLANK,),
                             return_to: str | None = None) -> bytes:
    """The paper forms of a stored survey (its current questions) for `sheets`, laid out off
    the event loop (WeasyPrint takes seconds for a batch). The caller has checked access."""
    definition = SurveyDefinition(
        title=survey.title, introduction=survey.introduction or {},
        anonymity=survey.anonymity,  # type: ignore[arg-type]
        allow_edits=survey.allow_edits, blocks=survey.blocks or [],
        questions=await survey_questions(session, survey))
    org = await IdentityRepository.from_session(session).org_by_id(survey.organisation_id)
    return await asyncio.to_thread(
        render_paper_forms, definition, language=language, sheets=list(sheets),
        organisation_name=org.name if org else "", return_to=return_to)
