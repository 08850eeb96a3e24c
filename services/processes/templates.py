"""Process templates: YAML files validated by pydantic, and the plan a process starts with.

A template is data: a new town's process is a new YAML file, not new code. Errors name the path
into the file (`phases[3] (bergfest).gate.quorum`) and the problem, so whoever writes a template
can fix it without reading this module.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.process import (
    ChecklistItemState,
    GateSpec,
    PhaseState,
    ReminderSpec,
)
from services.surveys.templates import builtin_survey_templates
from services.template_store.documents import (
    TemplateInvalid,
    TemplateIssue,
    load_yaml,
    validate_model,
)

TEMPLATE_PACKAGE = "services.templates.processes"

Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
OFFSET_RE = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


@dataclass(frozen=True)
class Offset:
    """A calendar offset from the start date: months first, then days (ISO 8601 style)."""

    months: int
    days: int

    @classmethod
    def parse(cls, text: str) -> Offset:
        m = OFFSET_RE.match(text or "")
        if not m or text == "P":
            raise ValueError(f"{text!r} ist keine Dauer wie P2M, P1M14D oder P10D")
        years, months, weeks, days = (int(g) if g else 0 for g in m.groups())
        return cls(years * 12 + months, weeks * 7 + days)

    def add_to(self, start: date) -> date:
        month0 = start.month - 1 + self.months
        year, month = start.year + month0 // 12, month0 % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return date(year, month, day) + timedelta(days=self.days)

    def sort_key(self) -> tuple[int, int]:
        return (self.months * 31 + self.days, 0)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TemplateWindow(_Strict):
    start: str = Field(description="Beginn relativ zum Start, z. B. P0M")
    end: str = Field(description="Ende (ausschließlich) relativ zum Start, z. B. P2M")

    def offsets(self) -> tuple[Offset, Offset]:
        return Offset.parse(self.start), Offset.parse(self.end)


class TemplateChecklistItem(_Strict):
    key: Key
    title: Text


class TemplateGate(_Strict):
    rule: Literal["any", "majority", "all", "quorum"]
    quorum: Annotated[int, Field(ge=1, le=100)] | None = None
    deadline_days: Annotated[int, Field(ge=1, le=365)] = 14
    title: Text | None = None


class TemplateReminders(_Strict):
    before_end_days: list[Annotated[int, Field(ge=0, le=365)]] = Field(default_factory=lambda: [7])
    overdue_after_days: list[Annotated[int, Field(ge=1, le=365)]] = Field(
        default_factory=lambda: [1])


class TemplatePhase(_Strict):
    key: Key
    title: Text
    kind: Literal["planning", "event", "participation", "evaluation", "resolution"]
    window: TemplateWindow
    description: str | None = None
    checklist: list[TemplateChecklistItem] = Field(default_factory=list)
    gate: TemplateGate | None = None
    auto_advance: bool = False
    reminders: TemplateReminders = Field(default_factory=TemplateReminders)


class TemplateGroup(_Strict):
    key: Key
    title: Text
    description: str | None = None


class TemplateRef(_Strict):
    """A survey or event the process expects in one of its phases."""

    key: Key
    title: Text
    phase: Key
    description: str | None = None


class TemplateSurveyRef(TemplateRef):
    """A survey the process expects: `key` names it in this process, `survey` is the survey
    template it starts from (one template may serve several, e.g. feedback after each day)."""

    survey: Key


class TemplateSection(_Strict):
    key: Key
    title: Text
    description: str | None = None


class ProcessTemplate(_Strict):
    key: Key
    version: Annotated[int, Field(ge=1)]
    title: Text
    description: str = ""
    source: str | None = None
    # The template this one was copied from, if any (kept for the record only).
    derived_from: Key | None = None
    steering_group: str | None = None
    stakeholder_groups: Annotated[list[TemplateGroup], Field(min_length=1)]
    phases: Annotated[list[TemplatePhase], Field(min_length=1)]
    surveys: list[TemplateSurveyRef] = Field(default_factory=list)
    events: list[TemplateRef] = Field(default_factory=list)
    draft_sections: list[TemplateSection] = Field(default_factory=list)

    def phase(self, key: str) -> TemplatePhase | None:
        return next((p for p in self.phases if p.key == key), None)


def _semantic_issues(t: ProcessTemplate, survey_keys: set[str]) -> list[TemplateIssue]:
    issues: list[TemplateIssue] = []

    def unique(items: list[Any], path: str) -> None:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.key in seen:
                issues.append(TemplateIssue(f"{path}[{i}] ({item.key}).key",
                                            f"Schlüssel {item.key!r} kommt doppelt vor"))
            seen.add(item.key)

    unique(t.stakeholder_groups, "stakeholder_groups")
    unique(t.phases, "phases")
    unique(t.surveys, "surveys")
    unique(t.events, "events")
    unique(t.draft_sections, "draft_sections")
    for i, p in enumerate(t.phases):
        where = f"phases[{i}] ({p.key})"
        unique(p.checklist, f"{where}.checklist")
        try:
            start, end = p.window.offsets()
        except ValueError as exc:
            field = "start"
            try:
                Offset.parse(p.window.start)
                field = "end"
            except ValueError:
                pass
            issues.append(TemplateIssue(f"{where}.window.{field}", str(exc)))
        else:
            if end.add_to(date(2001, 1, 31)) <= start.add_to(date(2001, 1, 31)):
                issues.append(TemplateIssue(f"{where}.window.end",
                                            "das Ende muss nach dem Beginn liegen"))
        if p.gate is not None:
            if p.gate.rule == "quorum" and p.gate.quorum is None:
                issues.append(TemplateIssue(f"{where}.gate.quorum",
                                            "die Regel quorum braucht eine Anzahl (quorum: n)"))
            if p.gate.rule != "quorum" and p.gate.quorum is not None:
                issues.append(TemplateIssue(f"{where}.gate.quorum",
                                            "quorum gilt nur für die Regel quorum"))
    phase_keys = {p.key for p in t.phases}
    for name, refs in (("surveys", t.surveys), ("events", t.events)):
        for i, ref in enumerate(refs):
            if ref.phase not in phase_keys:
                issues.append(TemplateIssue(f"{name}[{i}] ({ref.key}).phase",
                                            f"es gibt keine Phase {ref.phase!r}"))
    # A survey the process names must be one a coordinator can actually start from; a dangling
    # key would only surface when someone clicks it in the running process.
    for i, ref in enumerate(t.surveys):
        if ref.survey not in survey_keys:
            issues.append(TemplateIssue(f"surveys[{i}] ({ref.key}).survey",
                                        f"es gibt keine Umfragevorlage {ref.survey!r}"))
    return issues


def validate_template(data: Any, *, source: str | None = None,
                      survey_keys: set[str] | None = None) -> ProcessTemplate:
    """The template in `data`; `survey_keys` are the survey templates it may name (the shipped
    ones unless given: an organisation's template may also name its own)."""
    if not isinstance(data, dict):
        raise TemplateInvalid([TemplateIssue("", "die Datei muss ein YAML-Objekt enthalten")],
                              source)
    template = validate_model(ProcessTemplate, data, source=source)
    known = set(builtin_survey_templates()) if survey_keys is None else survey_keys
    issues = _semantic_issues(template, known)
    if issues:
        raise TemplateInvalid(issues, source)
    return template


def parse_template(text: str | bytes, *, source: str | None = None,
                   survey_keys: set[str] | None = None) -> ProcessTemplate:
    return validate_template(load_yaml(text, source=source), source=source,
                             survey_keys=survey_keys)


def load_template_file(path: Path) -> ProcessTemplate:
    return parse_template(path.read_text(encoding="utf-8"), source=str(path))


def builtin_template_source(key: str) -> str | None:
    """The shipped file's text (a starting point for an organisation's own template)."""
    for entry in resources.files(TEMPLATE_PACKAGE).iterdir():
        if entry.name.endswith((".yaml", ".yml")):
            text = entry.read_text(encoding="utf-8")
            if parse_template(text, source=entry.name).key == key:
                return text
    return None


@lru_cache(maxsize=1)
def builtin_templates() -> dict[str, ProcessTemplate]:
    """The templates shipped as package data (found from an installed package too)."""
    found: dict[str, ProcessTemplate] = {}
    for entry in sorted(resources.files(TEMPLATE_PACKAGE).iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            template = parse_template(entry.read_text(encoding="utf-8"), source=entry.name)
            found[template.key] = template
    return found


def build_phases(template: ProcessTemplate, starts_on: date) -> list[PhaseState]:
    """The plan of a process: each phase's window as dates (end inclusive) from the start."""
    phases = []
    for p in template.phases:
        start, end = p.window.offsets()
        phases.append(PhaseState(
            key=p.key, title=p.title, kind=p.kind,
            planned_start=start.add_to(starts_on),
            planned_end=end.add_to(starts_on) - timedelta(days=1),
            checklist=[ChecklistItemState(key=i.key, title=i.title) for i in p.checklist],
            gate=GateSpec(**p.gate.model_dump()) if p.gate else None,
            auto_advance=p.auto_advance,
            reminders=ReminderSpec(**p.reminders.model_dump()),
        ))
    return phases
