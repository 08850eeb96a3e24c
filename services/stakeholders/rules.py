"""Normalisation rules for stakeholder fields, shared by the single create and the import.

Groups: the known groups are the union of the process templates' groups, which belong to the
process domain. The registry therefore accepts any non-empty group and normalises it to a key
(`"Engagierte Bürger*innen"` → `"engagierte-buergerinnen"`), so a label typed in a spreadsheet
and the template's key meet. A group's title in any shipped template maps to its key
(`"Zivilgesellschaftliche Gruppen mit politischem Mandat"` → `"zivilgesellschaft-mandat"`).
Callers that know the valid keys pass `known_groups` to the import to reject anything else.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

# The address and name rules live with the mail-safety rules they serve; re-exported here.
from services.stakeholders.addresses import normalise_email, normalise_name

__all__ = ["normalise_email", "normalise_name", "normalise_group", "normalise_tags",
           "split_tags", "template_group_aliases", "KIND_ALIASES", "LANGUAGE_ALIASES"]

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "*": "", "_": "-"})
_NON_KEY = re.compile(r"[^a-z0-9]+")
_TAG_SPLIT = re.compile(r"[;,|]")

KIND_ALIASES = {
    "person": "person", "personen": "person", "p": "person",
    "organisation": "organisation", "organization": "organisation", "org": "organisation",
    "o": "organisation", "verein": "organisation", "institution": "organisation",
}
LANGUAGE_ALIASES = {"de": "de", "deutsch": "de", "german": "de", "en": "en",
                    "englisch": "en", "english": "en"}


def _slug(value: str) -> str:
    return _NON_KEY.sub("-", value.strip().lower().translate(_UMLAUTS)).strip("-")


@functools.cache
def template_group_aliases() -> dict[str, str]:
    """Slug of each group title in the shipped process templates → the group's key."""
    try:
        from services.processes.templates import builtin_templates
    except ImportError:  # the process domain is optional for the registry
        return {}
    aliases: dict[str, str] = {}
    for template in builtin_templates().values():
        for group in template.stakeholder_groups:
            aliases.setdefault(_slug(group.title), group.key)
    return aliases


def normalise_group(value: str) -> str:
    key = _slug(value)
    if not key:
        raise ValueError("Die Gruppe fehlt.")
    return template_group_aliases().get(key, key)[:100]


def normalise_tags(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        tag = value.strip().lower()
        if tag:
            seen.setdefault(tag[:60], None)
    return list(seen)


def split_tags(cell: str) -> list[str]:
    return normalise_tags(_TAG_SPLIT.split(cell))
