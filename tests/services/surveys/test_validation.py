"""Answer validation without a database: each kind, conditions, partial drafts."""

from __future__ import annotations

from services.surveys.schemas import QuestionDef
from services.surveys.validation import check_answers

QS = [QuestionDef.model_validate(q) for q in [
    {"id": "zahl", "kind": "number", "text": "Zahl"},
    {"id": "frei", "kind": "text", "text": "Frei", "required": True},
    {"id": "ja", "kind": "single", "text": "Ja?", "options": [
        {"value": "ja", "label": "Ja"}, {"value": "nein", "label": "Nein"}]},
    {"id": "warum", "kind": "text", "text": "Warum?", "required": True,
     "show_if": {"question": "ja", "in": ["ja"]}},
]]


def test_unbounded_number_and_german_decimal_comma():
    norm, rows, errors = check_answers(QS, {"zahl": "3,5", "frei": "x"})
    assert errors == [] and norm["zahl"] == 3.5 and rows[0].num == 3.5
    _, _, errors = check_answers(QS, {"zahl": 1e300, "frei": "x"})
    assert [e.field for e in errors] == ["zahl"]


def test_text_is_stripped_and_nul_removed():
    norm, _, errors = check_answers(QS, {"frei": "  a\x00b  "})
    assert errors == [] and norm["frei"] == "ab"
    _, _, errors = check_answers(QS, {"frei": "   "})
    assert [(e.field, e.code) for e in errors] == [("frei", "required")]


def test_condition_and_partial():
    _, _, errors = check_answers(QS, {"frei": "x", "ja": "ja"})
    assert [e.field for e in errors] == ["warum"]
    _, _, errors = check_answers(QS, {"ja": "ja"}, partial=True)
    assert errors == []
    _, _, errors = check_answers(QS, {"frei": "x"}, lang="en")
    assert errors == []
    _, _, errors = check_answers(QS, {}, lang="en")
    assert errors[0].message == "Please answer this question."
