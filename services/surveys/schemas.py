"""Survey definitions (what a coordinator sends) and what the API returns.

Texts are per language from the start (DESIGN.md section 7): a dict lang -> text with German
required; a plain string is taken as German.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, field_validator, model_validator

from contracts.input_rules import BoundedDateTime
from services import i18n

LANGS = i18n.LANGUAGES
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

# The answer "weiß nicht / keine Angabe" to a Likert statement that offers it (`dont_know`):
# stored as a choice without a number, counted apart and never part of a mean or score.
DONT_KNOW = "weiss_nicht"
DONT_KNOW_LABELS = {"de": "weiß nicht / keine Angabe", "en": "don't know / no answer"}

# The scale's words when a question brings none: the catalogs' `likert`, per language.
DEFAULT_LIKERT_LABELS: dict[str, list[str]] = {
    lang: list(i18n.texts(lang, "likert")["items"]) for lang in LANGS}


def _i18n(value: Any) -> Any:
    if isinstance(value, str):
        return {"de": value}
    return value


def _check_i18n(value: dict[str, str]) -> dict[str, str]:
    unknown = set(value) - set(LANGS)
    if unknown:
        raise ValueError(f"unbekannte Sprache: {', '.join(sorted(unknown))}")
    if not (value.get("de") or "").strip():
        raise ValueError("der deutsche Text fehlt")
    return {k: v.strip() for k, v in value.items() if v and v.strip()}


def _check_i18n_optional(value: dict[str, str]) -> dict[str, str]:
    return _check_i18n(value) if value else {}


I18n = Annotated[dict[str, str], BeforeValidator(_i18n)]


def pick(texts: dict[str, str] | None, lang: str) -> str:
    """The text in `lang`, falling back to German."""
    texts = texts or {}
    return texts.get(lang) or texts.get("de") or ""


class Option(BaseModel):
    value: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,100}$")
    label: I18n

    _label = field_validator("label")(_check_i18n)


class Condition(BaseModel):
    """Show this question only if question `question` was answered with one of `in_`
    (for multiple choice: if any of them was chosen)."""

    question: str
    in_: list[str] = Field(alias="in", min_length=1)

    model_config = {"populate_by_name": True}

    @model_validator(mode="before")
    @classmethod
    def _equals(cls, data: Any) -> Any:
        if isinstance(data, dict) and "equals" in data and "in" not in data:
            data = {**data, "in": [data["equals"]]}
            data.pop("equals")
        if isinstance(data, dict) and isinstance(data.get("in"), list):
            data["in"] = [str(v) for v in data["in"]]
        return data


QuestionKind = Literal["single", "multiple", "likert", "text", "number", "ranking"]


class QuestionDef(BaseModel):
    id: str
    kind: QuestionKind
    text: I18n
    help: I18n = Field(default_factory=dict)
    required: bool = False
    options: list[Option] = Field(default_factory=list)
    # Likert: five labels per language (1 = first); defaults to agreement labels.
    labels: dict[str, list[str]] = Field(default_factory=dict)
    max_length: int = Field(default=2000, ge=1, le=20000)
    min: float | None = None
    max: float | None = None
    integer: bool = False
    min_choices: int = Field(default=0, ge=0)
    max_choices: int | None = Field(default=None, ge=1)
    show_if: Condition | None = None
    # Which scored block (self-check field of action) a Likert question belongs to.
    block: str | None = None
    # Likert only: offer "weiß nicht / keine Angabe" (DONT_KNOW) besides 1..5.
    dont_know: bool = False

    _text = field_validator("text")(_check_i18n)
    _help = field_validator("help")(_check_i18n_optional)

    @field_validator("id")
    @classmethod
    def _key(cls, v: str) -> str:
        if not KEY_RE.match(v):
            raise ValueError("Kennung: Kleinbuchstaben, Ziffern, _ (höchstens 40 Zeichen)")
        return v

    @model_validator(mode="after")
    def _kind_rules(self) -> QuestionDef:
        if self.kind in ("single", "multiple", "ranking"):
            if len(self.options) < 2:
                raise ValueError("mindestens zwei Antwortmöglichkeiten nötig")
            values = [o.value for o in self.options]
            if len(set(values)) != len(values):
                raise ValueError("Antwortmöglichkeiten doppelt")
        elif self.options:
            raise ValueError(f"Fragen vom Typ {self.kind} haben keine Antwortmöglichkeiten")
        if self.kind == "likert":
            for lang, labels in self.labels.items():
                if lang not in LANGS or len(labels) != 5:
                    raise ValueError("Likert: fünf Beschriftungen je Sprache")
            if self.labels and "de" not in self.labels:
                raise ValueError("Likert: deutsche Beschriftungen fehlen")
        if self.dont_know and self.kind != "likert":
            raise ValueError("„weiß nicht“ (dont_know) gibt es nur bei Likert-Fragen")
        if self.kind == "number" and self.min is not None and self.max is not None:
            if self.min > self.max:
                raise ValueError("min ist größer als max")
        if self.max_choices is not None and self.max_choices < self.min_choices:
            raise ValueError("max_choices ist kleiner als min_choices")
        if self.kind == "multiple" and self.min_choices > len(self.options):
            # No answer could ever pass the participant's check (validation.py), so nobody
            # could submit the survey (or this question, if optional, could never be answered).
            raise ValueError(
                f"Frage {self.id}: min_choices ({self.min_choices}) ist größer als die Zahl der "
                f"Antwortmöglichkeiten ({len(self.options)}); sie könnte nie beantwortet werden")
        return self

    def likert_labels(self, lang: str) -> list[str]:
        labels = self.labels or DEFAULT_LIKERT_LABELS
        return labels.get(lang) or labels["de"]

    def option_values(self) -> list[str]:
        return [o.value for o in self.options]

    def config(self) -> dict[str, Any]:
        """What goes into the `config` column (everything but id/kind/text/help/required)."""
        return self.model_dump(
            mode="json", by_alias=True,
            exclude={"id", "kind", "text", "help", "required"},
        )


class Block(BaseModel):
    key: str
    title: I18n

    _title = field_validator("title")(_check_i18n)


class SurveyDefinition(BaseModel):
    """A survey's content: used by templates and by `POST /processes/{id}/surveys`."""

    title: I18n
    introduction: I18n = Field(default_factory=dict)
    anonymity: Literal["anonymous", "identified"] = "anonymous"
    allow_edits: bool = False
    blocks: list[Block] = Field(default_factory=list)
    questions: list[QuestionDef] = Field(min_length=1, max_length=300)

    _title = field_validator("title")(_check_i18n)
    _intro = field_validator("introduction")(_check_i18n_optional)

    @model_validator(mode="after")
    def _consistent(self) -> SurveyDefinition:
        keys = [q.id for q in self.questions]
        if len(set(keys)) != len(keys):
            raise ValueError("Fragen-Kennungen doppelt")
        if self.allow_edits and self.anonymity == "anonymous":
            raise ValueError(
                "Anonyme Antworten können nicht nachträglich geändert werden: dafür bräuchte es "
                "einen Weg vom Link zur Antwort (allow_edits nur bei identified)."
            )
        block_keys = {b.key for b in self.blocks}
        seen: dict[str, QuestionDef] = {}
        for q in self.questions:
            if q.block is not None and q.block not in block_keys:
                raise ValueError(f"Frage {q.id}: unbekannter Block {q.block}")
            if q.show_if is not None:
                target = seen.get(q.show_if.question)
                if target is None:
                    raise ValueError(f"Frage {q.id}: Bedingung verweist auf keine frühere Frage")
                if target.kind in ("single", "multiple"):
                    bad = set(q.show_if.in_) - set(target.option_values())
                    if bad:
                        raise ValueError(f"Frage {q.id}: Bedingung nennt unbekannte Werte")
            seen[q.id] = q
        return self


class SurveyCreate(BaseModel):
    """`POST /api/v1/processes/{id}/surveys`: a definition or `from_template`."""

    phase: str | None = None
    from_template: str | None = None
    title: I18n | None = None
    introduction: I18n | None = None
    anonymity: Literal["anonymous", "identified"] | None = None
    allow_edits: bool | None = None
    blocks: list[Block] | None = None
    questions: list[dict[str, Any]] | None = None
    # With an offset and inside 2000-2100: PostgreSQL stores years far out as ±infinity,
    # which nothing reading the survey can handle.
    opens_at: BoundedDateTime | None = None
    closes_at: BoundedDateTime | None = None

    @model_validator(mode="after")
    def _times(self) -> SurveyCreate:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValueError("closes_at liegt nicht nach opens_at")
        return self


class SurveyOut(BaseModel):
    id: uuid.UUID
    process_id: uuid.UUID
    phase: str | None
    template_key: str | None
    title: dict[str, str]
    introduction: dict[str, str]
    anonymity: str
    allow_edits: bool
    opens_at: datetime | None
    closes_at: datetime | None
    version: int
    lineage_id: uuid.UUID
    status: str
    blocks: list[dict[str, Any]]
    questions: list[dict[str, Any]]
    responses: int


class ParticipationOut(BaseModel):
    """`GET /api/v1/participation/{token}`: what the token is for."""

    kind: Literal["survey"] = "survey"
    status: Literal["open", "answered", "not_yet_open"]
    language: str
    survey: dict[str, Any]
    draft: dict[str, Any] | None = None
    can_edit: bool = False
    closes_at: datetime | None = None


class SubmitIn(BaseModel):
    answers: dict[str, Any]


class SubmitOut(BaseModel):
    status: Literal["submitted", "updated"]
    survey_id: uuid.UUID
    submitted_on: date
