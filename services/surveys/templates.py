"""Survey templates: YAML files (package data `services/templates/surveys/`), one per survey.

A file is a `SurveyDefinition` (title, introduction, anonymity, blocks, questions) with its
`key`; process templates name a survey by that key (`surveys: - survey: <key>`). Organisations
upload their own through the same reader (services/template_store); `survey_template` here
knows only the shipped ones, `template_store.service.resolve_survey_template` all of them.
Sources of the shipped texts: /work/shared/sources (named in each file's head comment).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

from services.errors import NotFound
from services.surveys.schemas import Block, Condition, Option, QuestionDef, SurveyDefinition
from services.template_store.documents import (
    TemplateInvalid,
    TemplateIssue,
    issue_path,
    load_yaml,
    validate_model,
)

TEMPLATE_PACKAGE = "services.templates.surveys"

Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]


class SurveyTemplate(SurveyDefinition):
    """A survey template file: the definition and the key it is found by."""

    model_config = ConfigDict(extra="forbid")

    key: Key
    # The template this one was copied from, if any (kept for the record only).
    derived_from: Key | None = None

    def definition(self) -> SurveyDefinition:
        return SurveyDefinition.model_validate(
            self.model_dump(mode="json", by_alias=True, exclude={"key", "derived_from"}))


def _fields(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


# The API's definitions ignore unknown fields; a template file is written by hand, where an
# unknown field is a typo (`requird: true`) that would otherwise be dropped without a word.
_NESTED: dict[str, tuple[set[str], dict[str, set[str]]]] = {
    "questions": (_fields(QuestionDef), {"options": _fields(Option),
                                         "show_if": _fields(Condition) | {"equals"}}),
    "blocks": (_fields(Block), {}),
}


def _file_issues(data: dict[str, Any]) -> list[TemplateIssue]:
    """What the definition's validation would not name by path: unknown fields in nested
    entries and a repeated question id."""
    issues: list[TemplateIssue] = []

    def check(node: Any, allowed: set[str], path: str) -> None:
        if isinstance(node, dict):
            issues.extend(TemplateIssue(f"{path}.{k}", "unbekanntes Feld")
                          for k in node if k not in allowed)

    # The definition's own check says only "doppelt"; here the second one is named.
    seen: set[str] = set()
    questions = data.get("questions")
    for i, q in enumerate(questions if isinstance(questions, list) else []):
        qid = q.get("id") if isinstance(q, dict) else None
        if isinstance(qid, str):
            if qid in seen:
                issues.append(TemplateIssue(f"{issue_path(('questions', i), data)}.id",
                                            f"Kennung {qid!r} kommt doppelt vor"))
            seen.add(qid)
    for name, (allowed, children) in _NESTED.items():
        items = data.get(name)
        for i, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                continue
            path = issue_path((name, i), data)
            check(item, allowed, path)
            for child, child_allowed in children.items():
                value = item.get(child)
                for j, sub in enumerate(value if isinstance(value, list) else [value]):
                    sub_path = f"{path}.{child}" + (f"[{j}]" if isinstance(value, list) else "")
                    check(sub, child_allowed, sub_path)
    return issues


def validate_survey_template(data: Any, *, source: str | None = None) -> SurveyTemplate:
    """The template in `data`, or `TemplateInvalid` whose issues name the path of each problem
    (`questions[2] (themen).options`)."""
    unknown = _file_issues(data) if isinstance(data, dict) else []
    try:
        template = validate_model(SurveyTemplate, data, source=source)
    except TemplateInvalid as exc:
        raise TemplateInvalid(unknown + exc.issues, source) from None
    if unknown:
        raise TemplateInvalid(unknown, source)
    return template


def parse_survey_template(text: str | bytes, *, source: str | None = None) -> SurveyTemplate:
    return validate_survey_template(load_yaml(text, source=source), source=source)


@lru_cache(maxsize=1)
def builtin_survey_templates() -> dict[str, SurveyTemplate]:
    """The shipped survey templates by key (an invalid file fails here, at start-up)."""
    found: dict[str, SurveyTemplate] = {}
    for entry in sorted(resources.files(TEMPLATE_PACKAGE).iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            template = parse_survey_template(entry.read_text(encoding="utf-8"),
                                             source=entry.name)
            found[template.key] = template
    return found


def builtin_survey_source(key: str) -> str | None:
    """The shipped file's text (a starting point for an organisation's own template)."""
    for entry in resources.files(TEMPLATE_PACKAGE).iterdir():
        if entry.name in (f"{key}.yaml", f"{key}.yml"):
            return entry.read_text(encoding="utf-8")
    return None


def has_template(key: str) -> bool:
    return key in builtin_survey_templates()


def survey_template(key: str) -> SurveyDefinition:
    template = builtin_survey_templates().get(key)
    if template is None:
        raise NotFound(f"Die Umfragevorlage {key!r} gibt es nicht.", code="template_not_found",
                       details={"available": sorted(builtin_survey_templates())})
    return template.definition()
