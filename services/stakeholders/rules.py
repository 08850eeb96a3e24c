"""Normalisation rules for stakeholder fields, shared by the single create and the import.

Groups: the known groups are the union of the process templates' groups, which belong to the
process domain. The registry therefore accepts any non-empty group and normalises it to a key
(`"Engagierte Bürger*innen"` → `"engagierte-buergerinnen"`), so a label typed in a spreadsheet
and the template's key meet. A group's title in any shipped template maps to its key
(`"Zivilgesellschaftliche Gruppen mit politischem Mandat"` → `"zivilgesellschaft-mandat"`).
The organisation's known groups (organisation_groups: its processes' template groups and
those added) are what the single create, the import and campaign audiences check against.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

# The address and name rules live with the mail-safety rules they serve; re-exported here.
from services.i18n import ALIASES, LANGUAGES
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
# Every participant language by its code and its usual names (services/i18n).
LANGUAGE_ALIASES = {"german": "de", **{code: code for code in LANGUAGES}, **ALIASES}
LEGAL_BASIS_ALIASES = {
    "consent": "consent", "einwilligung": "consent", "art-6-1-a": "consent",
    "public-task": "public_task", "oeffentliche-aufgabe": "public_task",
    "art-6-1-e": "public_task",
}


class LegalBasisMissing(ValueError):
    """A stakeholder without a basis to be written to; `field` names the column to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def decide_legal_basis(value: str | None, has_consent_date: bool,
                       public_task_declared: bool) -> str:
    """The legal basis of one stakeholder (shared by the single create and the import).

    Given: 'consent' needs the date of the consent, 'public_task' a public task the
    organisation has declared. Not given: a consent date means consent, else the
    organisation's declared public task, else there is none and the row is refused.
    """
    if value:
        basis = LEGAL_BASIS_ALIASES.get(_slug(value))
        if basis is None:
            raise LegalBasisMissing("legal_basis", "Rechtsgrundlage muss 'consent' "
                                    "(Einwilligung) oder 'public_task' (öffentliche Aufgabe) "
                                    "sein.")
    elif has_consent_date:
        basis = "consent"
    elif public_task_declared:
        basis = "public_task"
    else:
        raise LegalBasisMissing("legal_basis", "Die Rechtsgrundlage fehlt: bitte das Datum "
                                "der Einwilligung (consent_at) angeben, oder die Organisation "
                                "erklärt eine öffentliche Aufgabe als Rechtsgrundlage.")
    if basis == "consent" and not has_consent_date:
        raise LegalBasisMissing("consent_at", "Für eine Einwilligung fehlt ihr Datum "
                                "(consent_at).")
    if basis == "public_task" and not public_task_declared:
        raise LegalBasisMissing("legal_basis", "Die Organisation hat keine öffentliche "
                                "Aufgabe als Rechtsgrundlage erklärt; ohne sie braucht es "
                                "eine Einwilligung.")
    return basis


def unknown_group_message(group: str, known: Iterable[str]) -> str:
    """Names the groups the organisation does know, so a typo is fixed on the spot."""
    names = sorted(known)
    if not names:
        return (f"Unbekannte Gruppe '{group}': die Organisation kennt noch keine Gruppen. "
                "Sie entstehen mit dem ersten Prozess aus einer Vorlage oder werden angelegt "
                "(POST /api/v1/orgs/{slug}/groups, beim Import: create_groups=true).")
    return f"Unbekannte Gruppe '{group}'. Bekannte Gruppen: {', '.join(names)}."


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
