"""The German texts the staff pages translate: every string marked in a template (`_()`,
`ngettext`, `{% trans %}`) and the labels and messages of api/pages that the templates show
through `|tr`. The catalog test (test_staff_language.py) holds api/locale/en.yaml to them."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from api import staff_language
from api.staff_language import GETTEXT_FUNCTIONS, catalog, context_key
from api.templating import TEMPLATES_DIR, templates

# Module-level dicts of api/pages (and api/errors) whose values a staff page shows as text.
PYTHON_TABLES: dict[str, tuple[str, ...]] = {
    "api.errors": ("PAGE_TEXTS", "CODE_TEXTS"),
    "api.pages.login": ("ROLE_LABELS",),
    "api.pages.processes": ("STATUS_LABELS", "KIND_LABELS", "TRANSITION_LABELS",
                            "APPROVAL_LABELS", "RULE_LABELS", "FLASH"),
    "api.pages.campaigns": ("STATUS_LABELS", "FLASH"),
    "api.pages.surveys": ("STATUS_LABELS", "KIND_LABELS", "ORIGIN_LABELS", "ANONYMITY_LABELS",
                          "FLASH", "DATETIME_HINT"),
    "api.pages.stakeholders": ("LEGAL_BASIS_LABELS", "KIND_LABELS", "LANGUAGE_LABELS", "FLASH"),
    "api.pages.templates": ("KIND_LABELS", "ORIGIN_LABELS", "FLASH"),
    "api.pages.staff": ("FLASH", "RESET_SENT"),
    "api.pages.survey_multipliers": ("FIELDS", "STATUS_LABELS", "FLASH"),
    "api.pages.meetings": ("STATUS", "FLASH", "DIMENSIONS"),
    "api.pages.resolutions": ("STATUS", "APPROVAL", "OUTCOMES", "FLASH", "ROLE_LABELS"),
    "api.pages.survey_entry": ("FIELDS",),
    "services.legal.service": ("FIELDS",),
    "services.surveys.assisted": ("CHANNEL_LABELS",),
    "services.surveys.results": ("CHANNEL_LABELS",),
    "services.meetings.service": ("CHANNEL_LABELS",),
}
# Values and markup a catalog entry must keep (the same on both sides).
PLACEHOLDERS = re.compile(r"%\(\w+\)s|%%|<[^>]+>")
# Texts of api/errors.py's way back (the error page's button).
BACK_LABELS = ("Zur Übersicht", "Zur Startseite")


def template_messages() -> Iterator[tuple[str, int, str]]:
    """(template, line, German text) for every marked text of every template."""
    for path in sorted(Path(TEMPLATES_DIR).rglob("*.html")):
        source = path.read_text(encoding="utf-8")
        name = str(path.relative_to(TEMPLATES_DIR))
        for line, function, message in templates.env.extract_translations(  # type: ignore[attr-defined]
                source, gettext_functions=GETTEXT_FUNCTIONS):
            if function == "pgettext":  # (context, text): one key for the pair
                yield name, line, context_key(*message)
                continue
            for text in (message if isinstance(message, tuple) else (message,)):
                if text:
                    yield name, line, text


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _strings(v)
    elif hasattr(value, "label"):  # a form field: its label and hint
        yield from _strings(value.label)
        yield from _strings(getattr(value, "hint", None))


def python_messages() -> set[str]:
    import importlib

    import api.routes  # noqa: F401 - the pages import each other through it, in its order
    from api.pages import ORG_LINKS
    from services.identity.service import OrgRole

    out: set[str] = set(BACK_LABELS)
    for module_name, names in PYTHON_TABLES.items():
        module = importlib.import_module(module_name)
        for name in names:
            out.update(s for s in _strings(getattr(module, name)) if s.strip())
    # The overview's links, as each role sees them.
    import uuid

    from services.models.organisation import Role
    for role in Role:
        org = OrgRole(organisation_id=uuid.uuid4(), slug="x", name="x", role=role)
        for links in ORG_LINKS:
            out.update(link.label for link in links(org))
    return out


def text_nodes(page: str) -> set[str]:
    """The page's visible texts, one per text node (scripts and styles left out)."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    nodes = {" ".join(html_lib.unescape(t).split()) for t in re.split(r"<[^>]*>", body)}
    attrs = {html_lib.unescape(v) for v in
             re.findall(r'(?:aria-label|placeholder|title|alt|label)="([^"]*)"', body)}
    return {t for t in nodes | attrs if t}


def german_left(page: str, data: set[str]) -> set[str]:
    """Texts of the page that are a German catalog key with a different English text -
    a marked text the page did not translate. `data` are the test's own records (titles
    and names are content, not page text)."""
    english = catalog()
    keys = {k for k, v in english.items() if isinstance(v, str) and v != k
            and not PLACEHOLDERS.search(k)}
    # The switch names each language in itself ("Deutsch" on an English page).
    own_names = set(staff_language.NAMES.values())
    return {t for t in text_nodes(page) if t in keys and t not in data | own_names}
