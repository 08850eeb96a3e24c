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

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from services.surveys.templates import has_template as has_survey_template
from workflows.contracts import (
    ChecklistItemState,
    GateSpec,
    PhaseState,
    ReminderSpec,
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
    steering_group: str | None = None
    stakeholder_groups: Annotated[list[TemplateGroup], Field(min_length=1)]
    phases: Annotated[list[TemplatePhase], Field(min_length=1)]
    surveys: list[TemplateRef] = Field(default_factory=list)
    events: list[TemplateRef] = Field(default_factory=list)
    draft_sections: list[TemplateSection] = Field(default_factory=list)

    def phase(self, key: str) -> TemplatePhase | None:
        return next((p for p in self.phases if p.key == key), None)


@dataclass(frozen=True)
class TemplateIssue:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class TemplateInvalid(ValueError):
    def __init__(self, issues: list[TemplateIssue], source: str | None = None) -> None:
        self.issues = issues
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(head + "; ".join(str(i) for i in issues))


def _path(loc: tuple[Any, ...], data: Any) -> str:
    """`('phases', 3, 'gate', 'quorum')` → `phases[3] (bergfest).gate.quorum`."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("key"), str):
                out += f" ({node['key']})"
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


_MESSAGES = {
    "missing": "Pflichtfeld fehlt",
    "extra_forbidden": "unbekanntes Feld",
    "string_pattern_mismatch": "nur Kleinbuchstaben, Ziffern und Bindestriche erlaubt",
    "literal_error": "ungültiger Wert",
    "too_short": "darf nicht leer sein",
    "greater_than_equal": "muss mindestens {ge} sein",
    "less_than_equal": "darf höchstens {le} sein",
    "int_parsing": "muss eine ganze Zahl sein",
    "int_type": "muss eine ganze Zahl sein",
    "bool_parsing": "muss true oder false sein",
    "bool_type": "muss true oder false sein",
    "string_type": "muss ein Text sein",
    "list_type": "muss eine Liste sein",
    "model_type": "muss ein Objekt (Schlüssel: Wert) sein",
    "dict_type": "muss ein Objekt (Schlüssel: Wert) sein",
}


def _message(error: Any) -> str:
    template = _MESSAGES.get(error["type"])
    if template is None:
        return str(error["msg"])
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return str(error["msg"])


def _semantic_issues(t: ProcessTemplate) -> list[TemplateIssue]:
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
        if not has_survey_template(ref.key):
            issues.append(TemplateIssue(f"surveys[{i}] ({ref.key}).key",
                                        f"es gibt keine Umfragevorlage {ref.key!r}"))
    return issues


def validate_template(data: Any, *, source: str | None = None) -> ProcessTemplate:
    if not isinstance(data, dict):
        raise TemplateInvalid([TemplateIssue("", "die Datei muss ein YAML-Objekt enthalten")],
                              source)
    try:
        template = ProcessTemplate.model_validate(data)
    except ValidationError as exc:
        issues = [
            TemplateIssue(_path(tuple(e["loc"]), data), _message(e))
            for e in exc.errors()
        ]
        raise TemplateInvalid(issues, source) from None
    issues = _semantic_issues(template)
    if issues:
        raise TemplateInvalid(issues, source)
    return template


def parse_template(text: str, *, source: str | None = None) -> ProcessTemplate:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"Zeile {mark.line + 1}, Spalte {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise TemplateInvalid([TemplateIssue(where, f"kein gültiges YAML: {problem}")],
                              source) from None
    return validate_template(data, source=source)


def load_template_file(path: Path) -> ProcessTemplate:
    return parse_template(path.read_text(encoding="utf-8"), source=str(path))


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
