"""Impressum, privacy notice and contact of an organisation: validated input from its admin
(page form and API share `save`), and the views the public pages render, with default texts
where the admin has not filled something in (the page says so, it never stays blank)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.input_rules import has_control_chars
from services.errors import ValidationFailed
from services.events.service import record_event
from services.legal.repository import LegalRepository
from services.models.legal import OrganisationLegal
from services.models.organisation import Organisation


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    max_length: int
    required: bool = False
    multiline: bool = False
    email: bool = False
    hint: str = ""


# The form's fields in their order; the API body has the same names.
FIELDS: tuple[Field, ...] = (
    Field("responsible", "Verantwortliche Stelle (Name und Anschrift)", 2000, required=True,
          multiline=True, hint="Wie im Impressum: Name der Organisation, Straße, PLZ und Ort."),
    Field("represented_by", "Vertreten durch", 200, required=True,
          hint="Die vertretungsberechtigte Person, z. B. die Bürgermeisterin."),
    Field("email", "E-Mail-Adresse für Anfragen", 320, required=True, email=True),
    Field("phone", "Telefon", 50),
    Field("imprint_extra", "Weitere Angaben im Impressum", 4000, multiline=True,
          hint="Z. B. Aufsichtsbehörde, Umsatzsteuer-ID, inhaltlich Verantwortliche."),
    Field("dpo_name", "Datenschutzbeauftragte*r (Name oder Stelle)", 200, required=True),
    Field("dpo_email", "E-Mail-Adresse der/des Datenschutzbeauftragten", 320, required=True,
          email=True),
    Field("purpose", "Zweck der Verarbeitung", 4000, multiline=True,
          hint="Leer lassen für den Standardtext."),
    Field("legal_basis", "Rechtsgrundlage", 4000, multiline=True,
          hint="Leer lassen für den Standardtext (Einwilligung bzw. öffentliche Aufgabe)."),
    Field("retention", "Speicherdauer", 4000, multiline=True,
          hint="Leer lassen für den Standardtext."),
    Field("supervisory_authority", "Zuständige Aufsichtsbehörde", 2000, multiline=True,
          hint="Z. B. die Landesbeauftragte für Datenschutz Ihres Landes."),
    Field("contact_note", "Hinweis auf der Kontaktseite", 4000, multiline=True,
          hint="Z. B. Sprechzeiten oder eine Ansprechperson."),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

DEFAULT_PURPOSE = (
    "Wir verarbeiten Ihren Namen, Ihre E-Mail-Adresse, Ihre Sprache und Ihre Antworten, um "
    "Sie zu Befragungen und Veranstaltungen eines Beteiligungsverfahrens einzuladen, Sie an "
    "Fristen zu erinnern und die Ergebnisse auszuwerten. Anonyme Befragungen speichern Ihre "
    "Antworten ohne Bezug zu Ihrer Person.")
DEFAULT_RETENTION = (
    "Ihre Kontaktdaten speichern wir bis zum Abschluss des Beteiligungsverfahrens oder bis Sie "
    "sich abmelden oder der Verarbeitung widersprechen; danach werden sie gelöscht, soweit "
    "keine gesetzliche Aufbewahrungspflicht besteht. Ausgewertete Ergebnisse enthalten keine "
    "personenbezogenen Daten.")


def default_legal_basis(public_task_basis: str | None) -> str:
    text = ("Art. 6 Abs. 1 lit. a DSGVO (Ihre Einwilligung, die Sie jederzeit mit Wirkung für "
            "die Zukunft widerrufen können)")
    if public_task_basis:
        text += (f" sowie Art. 6 Abs. 1 lit. e DSGVO in Verbindung mit {public_task_basis} "
                 "(Wahrnehmung einer öffentlichen Aufgabe)")
    return text + "."


def validate(data: dict[str, Any]) -> dict[str, str]:
    """The cleaned values, or ValidationFailed naming every bad field (German messages)."""
    unknown = sorted(set(data) - set(FIELD_NAMES))
    details: list[dict[str, str]] = [
        {"field": name, "message": "Unbekanntes Feld."} for name in unknown]
    clean: dict[str, str] = {}
    for f in FIELDS:
        raw = data.get(f.name)
        if raw is not None and not isinstance(raw, str):
            details.append({"field": f.name, "message": "Bitte einen Text angeben."})
            continue
        value = (raw or "").strip()
        if not f.multiline:
            value = " ".join(value.split())
        if f.required and not value:
            details.append({"field": f.name, "message": f"Bitte „{f.label}“ ausfüllen."})
        elif len(value) > f.max_length:
            details.append({"field": f.name,
                            "message": f"Höchstens {f.max_length} Zeichen erlaubt."})
        elif has_control_chars(value):
            details.append({"field": f.name, "message": "Steuerzeichen sind nicht erlaubt."})
        elif f.email and value and not _EMAIL.match(value):
            details.append({"field": f.name,
                            "message": "Bitte eine gültige E-Mail-Adresse angeben."})
        clean[f.name] = value
    if details:
        raise ValidationFailed("Bitte die markierten Angaben prüfen.", details=details)
    return clean


async def load(session: AsyncSession, organisation_id: uuid.UUID) -> OrganisationLegal | None:
    return await LegalRepository.from_session(session).get(organisation_id)


async def save(session: AsyncSession, organisation_id: uuid.UUID, data: dict[str, Any], *,
               actor: str) -> OrganisationLegal:
    values = validate(data)
    repo = LegalRepository.from_session(session)
    row = await repo.get(organisation_id)
    if row is None:
        row = OrganisationLegal(organisation_id=organisation_id)
        repo.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = datetime.now(UTC)
    row.updated_by = actor
    await repo.flush()
    await record_event(session, organisation_id=organisation_id,
                       type="organisation.legal_updated", data={"fields": list(values)},
                       actor=actor)
    return row


def values_of(row: OrganisationLegal | None) -> dict[str, str]:
    """The form's values: what is stored, empty strings otherwise."""
    return {name: (getattr(row, name) or "") if row else "" for name in FIELD_NAMES}


@dataclass(frozen=True)
class LegalView:
    """What the public pages show; `filled` False: the admin has not entered anything yet."""

    org_name: str
    slug: str
    filled: bool
    values: dict[str, str]
    purpose: str
    legal_basis: str
    retention: str


async def public_view(session: AsyncSession, org: Organisation) -> LegalView:
    row = await load(session, org.id)
    values = values_of(row)
    return LegalView(
        org_name=org.name, slug=org.slug, filled=row is not None, values=values,
        purpose=values["purpose"] or DEFAULT_PURPOSE,
        legal_basis=values["legal_basis"] or default_legal_basis(org.public_task_basis),
        retention=values["retention"] or DEFAULT_RETENTION)


async def slug_of(session: AsyncSession, organisation_id: uuid.UUID) -> str | None:
    """For the participant pages' footer links."""
    return await LegalRepository.from_session(session).slug_of(organisation_id)


def page_links(base: str, slug: str, lang: str = "de") -> dict[str, str]:
    """The three public addresses of an organisation (absolute when `base` is a URL, as in
    mails; "" gives paths for pages)."""
    root = f"{base.rstrip('/')}/o/{slug}"
    suffix = "?lang=en" if lang == "en" else ""
    return {"impressum": f"{root}/impressum{suffix}", "datenschutz": f"{root}/datenschutz{suffix}",
            "kontakt": f"{root}/kontakt{suffix}"}
