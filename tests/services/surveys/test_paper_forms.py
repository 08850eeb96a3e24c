"""The paper forms (issue 12, services/surveys/paper.py): read back with pypdf, every built-in
template's questions and options are in the PDF in German, English and Arabic; personal sheets
carry their code, link and QR image, numbered ones their number; one copy per sheet.

WeasyPrint takes about a second per document: one document per template and language, the
sheet cases together in one document."""

from __future__ import annotations

import io
import re
import unicodedata
from functools import cache
from typing import Any

import pypdf
import pytest

from services import i18n
from services.surveys.paper import PaperSheet, render_paper_forms
from services.surveys.schemas import SurveyDefinition, pick
from services.surveys.templates import builtin_survey_templates

TEMPLATES = sorted(builtin_survey_templates())
ORG = "Stadt Musterstadt"


def _squash(text: str) -> str:
    """Whitespace-free and NFC: a text the PDF wraps over lines, cells or pages still
    matches (WeasyPrint does not hyphenate here: no `hyphens: auto`)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text.replace("\u00ad", "")))


def _words(text: str) -> set[str]:
    """The words of a text, punctuation and digits dropped: Arabic extraction keeps each
    word's letters in order but may move punctuation, brackets and Latin runs of a line."""
    # Letters only: a question's number lands next to its first word (".3كانت").
    return set(re.findall(r"[^\W\d_]+", unicodedata.normalize("NFKC", text)))


@cache
def _pdf(key: str, lang: str) -> tuple[pypdf.PdfReader, list[str]]:
    survey = builtin_survey_templates()[key].definition()
    data = render_paper_forms(survey, language=lang, organisation_name=ORG)
    reader = pypdf.PdfReader(io.BytesIO(data))
    return reader, [page.extract_text() for page in reader.pages]


def _root(reader: pypdf.PdfReader) -> Any:
    """The document catalog (its /Lang and /MarkInfo)."""
    return reader.trailer["/Root"].get_object()


def _figure_alts(reader: pypdf.PdfReader) -> list[str]:
    """The alternative texts of the figures in the structure tree."""
    out: list[str] = []

    def walk(node: Any) -> None:
        node = node.get_object()
        if isinstance(node, list):
            for kid in node:
                walk(kid)
        elif isinstance(node, dict):
            if node.get("/S") == "/Figure":
                out.append(str(node.get("/Alt")))
            if node.get("/K") is not None:
                walk(node["/K"])

    walk(_root(reader)["/StructTreeRoot"])
    return out


def _drawn_images(page: pypdf.PageObject) -> list[str]:
    """The images a page draws (`/name Do` in its content). `page.images` lists the
    resources, which WeasyPrint shares between all pages of a document."""
    resources: Any = page["/Resources"]
    xobjects: Any = resources.get_object().get("/XObject") or {}
    content = page.get_contents().get_data()  # type: ignore[union-attr]
    return [name for name, ref in xobjects.items()
            if ref.get_object().get("/Subtype") == "/Image"
            and re.search(re.escape(name.encode()) + rb"\s+Do\b", content)]


def _texts(survey: SurveyDefinition, lang: str) -> list[str]:
    """Every text of the form that a participant must read: question texts and help, option
    labels, block titles, the Likert scale's words and the title."""
    out = [pick(survey.title, lang)]
    out += [pick(b.title, lang) for b in survey.blocks]
    for q in survey.questions:
        out.append(pick(q.text, lang))
        if q.help:
            out.append(pick(q.help, lang))
        out += [pick(o.label, lang) for o in q.options]
        if q.kind == "likert":
            out += q.likert_labels(lang)
    return out


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("key", TEMPLATES)
def test_every_question_and_option_parses_back(key: str, lang: str) -> None:
    survey = builtin_survey_templates()[key].definition()
    reader, pages = _pdf(key, lang)
    whole = _squash(" ".join(pages))
    missing = [t for t in _texts(survey, lang) if _squash(t) not in whole]
    assert not missing, missing
    # Numbered in order, and nothing shows the other language's fixed words.
    positions = [whole.find(f"{n}.") for n in range(1, len(survey.questions) + 1)]
    assert all(p >= 0 for p in positions)
    fixed = i18n.texts(lang, "paper")
    assert _squash(fixed["how_heading"]) in whole
    other = i18n.texts("en" if lang == "de" else "de", "paper")["how_heading"]
    assert _squash(other) not in whole
    # The document's language and title (PDF/UA-1: tagged).
    root = _root(reader)
    assert root["/Lang"] == lang and root["/MarkInfo"]["/Marked"]
    assert reader.metadata is not None
    assert reader.metadata.title == fixed["doc_title"].format(title=pick(survey.title, lang))
    # A blank template: "Seite 1 von N" on each page, no code, no QR image.
    n = len(pages)
    for k, page in enumerate(pages, start=1):
        assert _squash(fixed["page"].format(n=k, m=n)) in _squash(page), (k, page[-200:])
    assert not any(_drawn_images(page) for page in reader.pages)


@pytest.mark.parametrize("key", TEMPLATES)
def test_arabic_form_has_every_text_right_to_left(key: str) -> None:
    """Arabic: every word of every text is there (word order within a line holds, but
    pypdf may move punctuation, brackets and Latin runs, so words are compared, not whole
    texts); the document is Arabic and mirrored (the form number field on the left, where a
    German page has it on the right)."""
    survey = builtin_survey_templates()[key].definition()
    reader, pages = _pdf(key, "ar")
    found = _words(" ".join(pages))
    missing = {w for t in _texts(survey, "ar") for w in _words(t)} - found
    assert not missing, missing
    assert _root(reader)["/Lang"] == "ar"

    # The form number's field: on the right of a German page, on the left of an Arabic one.
    de_reader, _ = _pdf(key, "de")
    de_x = _x_of(de_reader, i18n.texts("de", "paper")["form_number_blank"])
    ar_x = _x_of(reader, i18n.texts("ar", "paper")["form_number_blank"])
    assert de_x > _MIDDLE > ar_x, (de_x, ar_x)


# The middle of an A4 page in WeasyPrint's text coordinates (CSS pixels, 793.7 wide).
_MIDDLE = 793.7 / 2


def _x_of(reader: pypdf.PdfReader, text: str) -> float:
    """Where on the first page the piece (8 letters at least) that begins `text` starts."""
    xs: list[float] = []

    def visit(piece, cm, tm, font, size):  # type: ignore[no-untyped-def]
        piece = piece.strip()
        if len(piece) >= 8 and text.startswith(piece):
            xs.append(cm[4] + tm[4])

    reader.pages[0].extract_text(visitor_text=visit)
    assert xs, text
    return xs[0]


SHEETS = [PaperSheet(code="K7M2Q9XA", link="https://mitwirken.example/t/tok-abcdefghijklmnopqrstuv"),
          PaperSheet(form_number=7), PaperSheet(form_number=123)]


def test_personal_and_numbered_sheets_one_copy_each() -> None:
    key = "weiterstadt-beteiligung-2"
    survey = builtin_survey_templates()[key].definition()
    per_copy = len(_pdf(key, "de")[1])
    data = render_paper_forms(survey, language="de", sheets=SHEETS, organisation_name=ORG)
    reader = pypdf.PdfReader(io.BytesIO(data))
    pages = [p.extract_text() for p in reader.pages]
    assert len(pages) == per_copy * len(SHEETS)
    copies = [pages[i * per_copy:(i + 1) * per_copy] for i in range(len(SHEETS))]
    firsts = [c[0] for c in copies]
    # Personal: the code, the link printed (it wraps: compared without whitespace) and the QR
    # code as an image (its payload is the link: segno makes it from exactly that string).
    assert "K7M2Q9XA" in firsts[0] and _squash(SHEETS[0].link or "") in _squash(firsts[0])
    assert [len(_drawn_images(page)) for page in reader.pages] == [1] + [0] * (len(pages) - 1)
    # Tagged as a figure whose alternative text names the link (PDF/UA).
    assert _figure_alts(reader) == [f"QR-Code mit Ihrem persönlichen Link: {SHEETS[0].link}"]
    assert "Bogen-Nr. 0007" not in " ".join(copies[0])
    # Numbered: the number on the first page and in every page's foot, never a code.
    assert "Bogen-Nr." in firsts[1] and "0007" in firsts[1]
    assert all("Bogen-Nr. 0007" in p for p in copies[1])
    assert all("Bogen-Nr. 0123" in p for p in copies[2])
    assert "K7M2Q9XA" not in " ".join(copies[1] + copies[2])
    # Each copy is the whole form, numbered from its own first page.
    for copy in copies:
        whole = _squash(" ".join(copy))
        assert all(_squash(t) in whole for t in _texts(survey, "de"))
        for k, page in enumerate(copy, start=1):
            assert f"Seite {k} von {per_copy}" in page


# One survey with every kind and rule the definitions know, for the words on paper.
ALL_KINDS = SurveyDefinition.model_validate({
    "title": {"de": "Alle Fragearten", "en": "All kinds"},
    "anonymity": "identified",
    "blocks": [{"key": "skala", "title": {"de": "Ihre Einschätzung"}}],
    "questions": [
        {"id": "ja", "kind": "single", "text": "Waren Sie dabei?", "required": True,
         "options": [{"value": "ja", "label": "Ja"}, {"value": "nein", "label": "Nein"}]},
        {"id": "warum", "kind": "text", "text": "Warum nicht?", "max_length": 500,
         "show_if": {"question": "ja", "equals": "nein"}},
        {"id": "themen", "kind": "multiple", "text": "Welche Themen?", "min_choices": 2,
         "max_choices": 3, "options": [{"value": f"t{i}", "label": f"Thema {i}"}
                                       for i in range(1, 9)]},
        {"id": "alter", "kind": "number", "text": "Wie alt sind Sie?", "min": 14, "max": 120,
         "integer": True},
        {"id": "note", "kind": "likert", "text": "Das Angebot ist gut.", "block": "skala",
         "dont_know": True, "help": "Denken Sie an das letzte Jahr."},
        {"id": "laut", "kind": "likert", "text": "Es ist laut.", "block": "skala",
         "labels": {"de": ["nie", "selten", "manchmal", "oft", "immer"]}},
        {"id": "wieso", "kind": "text", "text": "Was stört Sie?",
         "show_if": {"question": "laut", "in": [4, 5]}},
        {"id": "rang", "kind": "ranking", "text": "Was ist Ihnen wichtig?",
         "options": [{"value": "a", "label": "Ruhe"}, {"value": "b", "label": "Grün"},
                     {"value": "c", "label": "Busse"}]},
    ],
})


def test_every_kind_and_rule_is_said_in_words() -> None:
    data = render_paper_forms(ALL_KINDS, language="de", organisation_name=ORG,
                              return_to="Rathaus, Zimmer 12, Marktplatz 1")
    whole = _squash(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages))
    for expected in [
        "1. Waren Sie dabei? * Pflichtfrage", "Bitte nur ein Kästchen ankreuzen.",
        "Fragen mit * Pflichtfrage müssen Sie beantworten.",
        "Nur beantworten, wenn Sie bei Frage 1 „Nein“ angekreuzt haben.",
        "Bis zu 3 Antworten möglich.", "Bitte mindestens 2 Antworten ankreuzen.",
        "Zahl von 14 bis 120", "Bitte eine ganze Zahl eintragen.",
        "Ihre Einschätzung", "weiß nicht / keine Angabe", "Denken Sie an das letzte Jahr.",
        "nie", "immer", "trifft voll zu",
        "Nur beantworten, wenn Sie bei Frage 6 „4 (oft)“ oder „5 (immer)“ angekreuzt haben.",
        "bis 3. Jede Zahl nur einmal.", "Bitte auf die Linien schreiben.",
        "Bitte geben Sie den ausgefüllten Bogen bei Stadt Musterstadt ab",
        "Anschrift: Rathaus, Zimmer 12, Marktplatz 1",
        "Diese Umfrage ist nicht anonym",
        *[f"Thema {i}" for i in range(1, 9)], "Ruhe", "Grün", "Busse",
    ]:
        assert _squash(expected) in whole, expected
    # The two scales differ: two grids, each with its own words.
    assert whole.count(_squash("Bitte in jeder Zeile ein Kästchen ankreuzen.")) == 2


def test_leichte_sprache_has_its_own_instructions() -> None:
    data = render_paper_forms(ALL_KINDS, language="de-x-ls", organisation_name=ORG,
                              sheets=[PaperSheet(form_number=1)])
    reader = pypdf.PdfReader(io.BytesIO(data))
    whole = _squash(" ".join(p.extract_text() for p in reader.pages))
    assert _squash("Machen Sie nur ein Kreuz.") in whole
    assert _squash("Bogen-Nummer 0001") in whole
    assert _squash("Waren Sie dabei?") in whole  # the survey's German where it has no own text
    assert _root(reader)["/Lang"] == "de-x-ls"
