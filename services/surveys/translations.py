"""Which texts of a survey lack a language (issue 12): for the author, before the survey opens.

A participant never sees a hole: `pick` shows the German text where a language has none. The
author should know where that happens, so this lists, per participant language, the fields
that fall back: `title`, `introduction`, `blocks.<key>.title`, `questions.<id>.text`,
`questions.<id>.help`, `questions.<id>.options.<value>` and `questions.<id>.labels` (own
Likert words; the default scale is in every language's catalog).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from services.i18n import DEFAULT, LANGUAGES
from services.surveys.schemas import QuestionDef


def _fields(title: Mapping[str, str], introduction: Mapping[str, str] | None,
            blocks: Iterable[Mapping[str, Any]], questions: Iterable[QuestionDef]
            ) -> list[tuple[str, Mapping[str, Any]]]:
    """(path, texts per language) of every translatable field that has a German text."""
    out: list[tuple[str, Mapping[str, Any]]] = [("title", title)]
    if introduction and introduction.get(DEFAULT):
        out.append(("introduction", introduction))
    for b in blocks:
        out.append((f"blocks.{b['key']}.title", b.get("title") or {}))
    for q in questions:
        out.append((f"questions.{q.id}.text", q.text))
        if q.help.get(DEFAULT):
            out.append((f"questions.{q.id}.help", q.help))
        out += [(f"questions.{q.id}.options.{o.value}", o.label) for o in q.options]
        if q.kind == "likert" and q.labels:
            out.append((f"questions.{q.id}.labels", q.labels))
    return out


def missing_translations(title: Mapping[str, str], introduction: Mapping[str, str] | None,
                         blocks: Iterable[Mapping[str, Any]], questions: Iterable[QuestionDef]
                         ) -> dict[str, list[str]]:
    """Per language other than German: the fields shown in German for want of a text."""
    fields = _fields(title, introduction, blocks, questions)
    return {lang: [path for path, texts in fields if not texts.get(lang)]
            for lang in LANGUAGES if lang != DEFAULT}


def translation_report(title: Mapping[str, str], introduction: Mapping[str, str] | None,
                       blocks: Iterable[Mapping[str, Any]], questions: Iterable[QuestionDef]
                       ) -> dict[str, Any]:
    """What the API returns: how many texts there are, and per language what is missing and
    whether the language is complete."""
    fields = _fields(title, introduction, blocks, questions)
    missing = missing_translations(title, introduction, blocks, questions)
    return {"fallback": DEFAULT, "texts": len(fields),
            "languages": [{"language": lang, "complete": not missing[lang],
                           "missing": missing[lang]} for lang in missing]}
