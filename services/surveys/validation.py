"""Checking a participant's answers against the questions (pure: no I/O).

Values as the API takes them (`{answers: {question_id: value}}`):
single "opt"; multiple ["a", "b"]; likert 1..5 (or "weiss_nicht" where offered); text "...";
number 42 / 3.5; ranking ["first", "second", ...] (every option exactly once). Form posts
send strings; numbers are parsed leniently (also "3,5"). Answers to questions hidden by their
condition are dropped, so a participant who changes their mind without JavaScript never gets
an error for a field they cannot see.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from services import i18n
from services.surveys.schemas import DONT_KNOW, QuestionDef

# The participant reads these on the form: the texts are in the catalogs (section
# `validation`), in every participant language.


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    code: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "code": self.code}


@dataclass(frozen=True)
class AnswerRow:
    """One row of `survey_answers` (without ids)."""

    question_key: str
    ordinal: int
    choice: str | None = None
    num: Decimal | None = None
    text: str | None = None


def _fmt(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else str(n).replace(".", ",")


class _Invalid(Exception):
    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


# Larger magnitudes are no survey answer and would overflow double precision in storage.
MAX_MAGNITUDE = Decimal(10) ** 15


def _number(value: Any) -> Decimal:
    d = _parse_number(value)
    if abs(d) > MAX_MAGNITUDE:
        raise _Invalid("number")
    return d


def _parse_number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise _Invalid("number")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise _Invalid("number")
        return Decimal(str(value))
    if isinstance(value, str):
        cleaned = value.strip().replace(" ", "").replace(",", ".")
        try:
            d = Decimal(cleaned)
        except InvalidOperation as exc:
            raise _Invalid("number") from exc
        if not d.is_finite():
            raise _Invalid("number")
        return d
    raise _Invalid("number")


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Invalid("list")
    return value


def _one(q: QuestionDef, value: Any) -> tuple[Any, list[AnswerRow]]:
    """Normalise one non-empty answer; raise _Invalid."""
    key = q.id
    if q.kind == "single":
        if not isinstance(value, str) or value not in q.option_values():
            raise _Invalid("option")
        return value, [AnswerRow(key, 0, choice=value)]
    if q.kind == "multiple":
        chosen = _as_list(value)
        allowed = q.option_values()
        if any(v not in allowed for v in chosen) or len(set(chosen)) != len(chosen):
            raise _Invalid("list")
        if len(chosen) < q.min_choices:
            raise _Invalid("min_choices", n=q.min_choices)
        if q.max_choices is not None and len(chosen) > q.max_choices:
            raise _Invalid("max_choices", n=q.max_choices)
        ordered = [v for v in allowed if v in chosen]
        return ordered, [AnswerRow(key, i, choice=v) for i, v in enumerate(ordered)]
    if q.kind == "likert":
        if q.dont_know and value == DONT_KNOW:
            # A choice without a number: results count it apart and score only 1..5.
            return DONT_KNOW, [AnswerRow(key, 0, choice=DONT_KNOW)]
        try:
            d = _number(value)
        except _Invalid as exc:
            raise _Invalid("likert") from exc
        if d != d.to_integral_value() or not 1 <= d <= 5:
            raise _Invalid("likert")
        return int(d), [AnswerRow(key, 0, num=Decimal(int(d)))]
    if q.kind == "text":
        if not isinstance(value, str):
            raise _Invalid("text")
        text = value.strip().replace("\r\n", "\n").replace("\x00", "")
        if len(text) > q.max_length:
            raise _Invalid("too_long", n=q.max_length, m=len(text))
        return text, [AnswerRow(key, 0, text=text)]
    if q.kind == "number":
        d = _number(value)
        if q.integer and d != d.to_integral_value():
            raise _Invalid("integer")
        if q.min is not None and d < Decimal(str(q.min)):
            raise _Invalid("min", n=_fmt(q.min))
        if q.max is not None and d > Decimal(str(q.max)):
            raise _Invalid("max", n=_fmt(q.max))
        out: int | float = int(d) if d == d.to_integral_value() else float(d)
        return out, [AnswerRow(key, 0, num=d)]
    # ranking: every option exactly once, best first
    order = _as_list(value)
    allowed = q.option_values()
    if sorted(order) != sorted(allowed):
        raise _Invalid("ranking", n=len(allowed))
    return order, [
        AnswerRow(key, i, choice=v, num=Decimal(i + 1)) for i, v in enumerate(order)
    ]


def range_hint(q: QuestionDef, lang: str) -> str | None:
    """A number question's allowed range in words ("zwischen 0 und 10"), as this module
    checks it; None without limits. The page's hint and the paper form say the same."""
    t = i18n.texts(lang, "survey")
    a = "" if q.min is None else i18n.number(q.min, lang)
    b = "" if q.max is None else i18n.number(q.max, lang)
    if a and b:
        return str(t["range"].format(a=a, b=b))
    if a:
        return str(t["range_min"].format(a=a))
    if b:
        return str(t["range_max"].format(b=b))
    return None


def visible(q: QuestionDef, answers: dict[str, Any]) -> bool:
    """Whether `q` is shown given the (normalised) answers so far."""
    if q.show_if is None:
        return True
    given = answers.get(q.show_if.question)
    if given is None:
        return False
    values = given if isinstance(given, list) else [given]
    return any(str(v) in q.show_if.in_ for v in values)


def check_answers(
    questions: list[QuestionDef],
    answers: dict[str, Any],
    *,
    lang: str = "de",
    partial: bool = False,
) -> tuple[dict[str, Any], list[AnswerRow], list[FieldError]]:
    """Validate `answers`. Returns (normalised answers, rows to store, errors).

    `partial` (saving a draft): required questions may be empty; invalid values still fail.
    """
    msgs = i18n.texts(lang, "validation")
    known = {q.id for q in questions}
    errors = [
        FieldError(key, msgs["unknown"], "unknown_question")
        for key in answers
        if key not in known
    ]
    normalised: dict[str, Any] = {}
    rows: list[AnswerRow] = []
    for q in questions:
        if not visible(q, normalised):
            continue
        value = answers.get(q.id)
        if isinstance(value, str) and q.kind != "text":
            value = value.strip()
        if _empty(value) or (q.kind == "text" and isinstance(value, str) and not value.strip()):
            if q.required and not partial:
                errors.append(FieldError(q.id, msgs["required"], "required"))
            continue
        try:
            norm, q_rows = _one(q, value)
        except _Invalid as exc:
            errors.append(FieldError(q.id, msgs[exc.code].format(**exc.params), exc.code))
            continue
        normalised[q.id] = norm
        rows.extend(q_rows)
    return normalised, rows, errors
