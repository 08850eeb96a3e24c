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
from typing import Annotated

from pydantic import ConfigDict, StringConstraints

from services.errors import NotFound
from services.surveys.schemas import SurveyDefinition
from services.template_store.documents import load_yaml, validate_model

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


def parse_survey_template(text: str | bytes, *, source: str | None = None) -> SurveyTemplate:
    """The template in `text`, or `TemplateInvalid` whose issues name the path of each problem
    (`questions[2] (themen).options`)."""
    return validate_model(SurveyTemplate, load_yaml(text, source=source), source=source)


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
