"""Reading a template document: YAML, safely, with every problem named by its path.

Shipped files and uploads go through the same reader, so a file that is fine in the package is
fine as an upload and the other way round. The reader is `yaml.safe_load` (no Python objects)
and refuses anchors and aliases outright: a template never needs them, and an alias "bomb"
(a few hundred bytes that expand to gigabytes) is only possible with them. A node limit bounds
what a file of the allowed size can still make the parser build.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

# An upload is a hand-written file; the largest shipped one has under 10 kB.
MAX_BYTES = 256 * 1024
MAX_NODES = 20_000

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class TemplateIssue:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def as_detail(self) -> dict[str, str]:
        return {"field": self.path, "message": self.message}


class TemplateInvalid(ValueError):
    def __init__(self, issues: list[TemplateIssue], source: str | None = None) -> None:
        self.issues = issues
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(head + "; ".join(str(i) for i in issues))


def _where(mark: Any) -> str:
    return f"Zeile {mark.line + 1}, Spalte {mark.column + 1}" if mark is not None else ""


def _check_events(text: str, source: str | None) -> None:
    """Refuse anchors/aliases and oversized documents before anything is built from them."""
    nodes = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise TemplateInvalid([TemplateIssue(
                _where(event.start_mark),
                "Anker und Verweise (&name, *name) sind in Vorlagen nicht erlaubt")], source)
        if isinstance(event, yaml.ScalarEvent) and "\x00" in event.value:
            # PostgreSQL stores no NUL in text or JSONB; a quoted "\0" would reach it.
            raise TemplateInvalid([TemplateIssue(
                _where(event.start_mark), "Nullzeichen sind nicht erlaubt")], source)
        if isinstance(event, (yaml.ScalarEvent, yaml.MappingStartEvent,
                              yaml.SequenceStartEvent)):
            nodes += 1
            if nodes > MAX_NODES:
                raise TemplateInvalid([TemplateIssue(
                    _where(event.start_mark),
                    f"die Vorlage ist zu groß (mehr als {MAX_NODES} Einträge)")], source)


def load_yaml(text: str | bytes, *, source: str | None = None) -> Any:
    """The document's data, or `TemplateInvalid` naming the line of the problem."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise TemplateInvalid([TemplateIssue(
                "", f"die Datei ist zu groß (höchstens {MAX_BYTES // 1024} kB)")], source)
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise TemplateInvalid([TemplateIssue("", "die Datei ist nicht UTF-8-kodiert")],
                                  source) from None
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise TemplateInvalid([TemplateIssue(
            "", f"die Datei ist zu groß (höchstens {MAX_BYTES // 1024} kB)")], source)
    try:
        _check_events(text, source)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        raise TemplateInvalid([TemplateIssue(_where(getattr(exc, "problem_mark", None)),
                                             f"kein gültiges YAML: {problem}")],
                              source) from None
    if not isinstance(data, dict):
        raise TemplateInvalid([TemplateIssue("", "die Datei muss ein YAML-Objekt enthalten")],
                              source)
    return data


def issue_path(loc: tuple[Any, ...], data: Any) -> str:
    """`('phases', 3, 'gate', 'quorum')` → `phases[3] (bergfest).gate.quorum`; list items that
    have a `key` (or a survey question's `id`) are named by it."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict):
                name = node.get("key", node.get("id"))
                if isinstance(name, str):
                    out += f" ({name})"
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
        # pydantic prefixes messages of our own validators ("Value error, …").
        return str(error["msg"]).removeprefix("Value error, ")
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return str(error["msg"])


def validate_model(model: type[M], data: Any, *, source: str | None = None) -> M:
    """`model` from `data`, or `TemplateInvalid` with one issue per field, each by its path."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        issues = [TemplateIssue(issue_path(tuple(e["loc"]), data), _message(e))
                  for e in exc.errors()]
        raise TemplateInvalid(issues, source) from None
