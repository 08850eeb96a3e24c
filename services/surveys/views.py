"""Read models of a survey for participants (texts in their language)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.surveys.schemas import (
    DONT_KNOW,
    DONT_KNOW_LABELS,
    ParticipationOut,
    QuestionDef,
    pick,
)
from services.surveys.service import Participation, current_answers, load_draft


def localized_question(q: QuestionDef, lang: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": q.id, "kind": q.kind, "text": pick(q.text, lang),
                           "required": q.required}
    if q.help:
        out["help"] = pick(q.help, lang)
    if q.options:
        out["options"] = [{"value": o.value, "label": pick(o.label, lang)} for o in q.options]
    if q.kind == "likert":
        out["labels"] = q.likert_labels(lang)
        if q.dont_know:
            out["dont_know"] = {"value": DONT_KNOW, "label": pick(DONT_KNOW_LABELS, lang)}
    if q.kind == "text":
        out["max_length"] = q.max_length
    if q.kind == "number":
        out.update({"min": q.min, "max": q.max, "integer": q.integer})
    if q.kind == "multiple":
        out.update({"min_choices": q.min_choices, "max_choices": q.max_choices})
    if q.show_if is not None:
        out["show_if"] = {"question": q.show_if.question, "in": q.show_if.in_}
    return out


async def participation_view(session: AsyncSession, p: Participation) -> ParticipationOut:
    lang = p.language
    now = datetime.now(UTC)
    if p.survey.opens_at is not None and now < p.survey.opens_at:
        state = "not_yet_open"
    elif p.answered:
        state = "answered"
    else:
        state = "open"
    draft = await load_draft(session, p)
    if draft is None and p.answered and p.can_edit:
        draft = await current_answers(session, p)
    return ParticipationOut(
        status=state,  # type: ignore[arg-type]
        language=lang,
        survey={
            "id": str(p.survey.id),
            "title": pick(p.survey.title, lang),
            "introduction": pick(p.survey.introduction, lang),
            "anonymity": p.survey.anonymity,
            "questions": [localized_question(q, lang) for q in p.questions],
        },
        draft=draft, can_edit=p.can_edit, closes_at=p.survey.closes_at,
    )
