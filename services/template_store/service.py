"""Uploading templates and finding the one a key means for an organisation.

Resolution, in one place for process start, survey creation and the listings: the
organisation's own newest version, else the newest platform-shared one, else the shipped one.
Another organisation's templates are never found (the caller answers 404, as for anything of
another tenant).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import Conflict, NotFound, TooLarge, ValidationFailed
from services.events.service import record_event
from services.models.template import OrgTemplate
from services.processes.templates import (
    ProcessTemplate,
    builtin_template_source,
    builtin_templates,
    validate_template,
)
from services.surveys.schemas import SurveyDefinition, pick
from services.surveys.templates import (
    SurveyTemplate,
    builtin_survey_source,
    builtin_survey_templates,
    validate_survey_template,
)
from services.template_store.documents import (
    MAX_BYTES,
    TemplateInvalid,
    load_yaml,
)
from services.template_store.repository import TemplateRepository

Kind = Literal["process", "survey"]
KINDS: tuple[Kind, ...] = ("process", "survey")
Origin = Literal["shipped", "platform", "organisation"]


@dataclass(frozen=True)
class TemplateEntry:
    """One template as listings show it (the version a key resolves to)."""

    kind: Kind
    key: str
    version: int
    title: str
    origin: Origin
    organisation_id: uuid.UUID | None = None
    derived_from: str | None = None
    created_by: str | None = None
    created_at: datetime | None = None
    phases: int = 0
    gates: int = 0
    questions: int = 0
    description: str = ""


def check_shipped_templates() -> None:
    """Load every shipped survey and process template (a broken file or a survey key that
    names nothing raises `TemplateInvalid` naming the file and path): called at start-up."""
    builtin_survey_templates()
    builtin_templates()


def _not_found(kind: Kind, key: str) -> NotFound:
    what = "Prozessvorlage" if kind == "process" else "Umfragevorlage"
    return NotFound(f"Die {what} {key!r} gibt es nicht.", code="template_not_found")


async def _stored(session: AsyncSession, org_ids: list[uuid.UUID], kind: Kind,
                  key: str) -> OrgTemplate | None:
    """The newest version of `key` the first of these organisations owns, else the newest
    platform-shared one."""
    repo = TemplateRepository.from_session(session)
    owners: list[uuid.UUID | None] = [*org_ids, None]
    for owner in owners:
        row = await repo.latest(owner, kind, key)
        if row is not None:
            return row
    return None


def _ids(org_id: uuid.UUID | None) -> list[uuid.UUID]:
    return [org_id] if org_id is not None else []


async def resolve_process_template(session: AsyncSession, org_id: uuid.UUID | None,
                                   key: str) -> ProcessTemplate:
    return await visible_process_template(session, _ids(org_id), key)


async def visible_process_template(session: AsyncSession, org_ids: list[uuid.UUID],
                                   key: str) -> ProcessTemplate:
    """What `key` means to a member of these organisations (the first that has its own)."""
    row = await _stored(session, org_ids, "process", key)
    if row is not None:
        # Stored already validated; no survey check again (a later survey upload only adds).
        return ProcessTemplate.model_validate(row.parsed)
    template = builtin_templates().get(key)
    if template is None:
        raise _not_found("process", key)
    return template


async def resolve_survey_template(session: AsyncSession, org_id: uuid.UUID | None,
                                  key: str) -> SurveyDefinition:
    return (await visible_survey_template(session, _ids(org_id), key)).definition()


async def visible_survey_template(session: AsyncSession, org_ids: list[uuid.UUID],
                                  key: str) -> SurveyTemplate:
    row = await _stored(session, org_ids, "survey", key)
    if row is not None:
        return SurveyTemplate.model_validate(row.parsed)
    template = builtin_survey_templates().get(key)
    if template is None:
        raise NotFound(f"Die Umfragevorlage {key!r} gibt es nicht.", code="template_not_found",
                       details={"available": sorted(await survey_keys(session, org_ids))})
    return template


async def survey_keys(session: AsyncSession, org_ids: list[uuid.UUID]) -> set[str]:
    """Every survey template key these organisations can start a survey from."""
    rows = await TemplateRepository.from_session(session).latest_of_owners(org_ids, "survey")
    return set(builtin_survey_templates()) | {r.key for r in rows}


async def template_source(session: AsyncSession, org_ids: list[uuid.UUID], kind: Kind,
                          key: str) -> str:
    """The YAML of the template `key` resolves to: a starting point for one's own."""
    row = await _stored(session, org_ids, kind, key)
    if row is not None:
        return row.source_yaml
    text = builtin_template_source(key) if kind == "process" else builtin_survey_source(key)
    if text is None:
        raise _not_found(kind, key)
    return text


# --- listings --------------------------------------------------------------------------


def _entry(kind: Kind, data: ProcessTemplate | SurveyTemplate, origin: Origin,
           row: OrgTemplate | None = None) -> TemplateEntry:
    extra: dict[str, Any] = {}
    if row is not None:
        extra = {"organisation_id": row.organisation_id, "derived_from": row.derived_from,
                 "created_by": row.created_by, "created_at": row.created_at}
    if isinstance(data, ProcessTemplate):
        return TemplateEntry(kind, data.key, data.version, data.title, origin,
                             phases=len(data.phases), gates=sum(1 for p in data.phases if p.gate),
                             description=data.description, **extra)
    return TemplateEntry(kind, data.key, row.version if row else 1, pick(data.title, "de"),
                         origin, questions=len(data.questions), **extra)


def _parsed(kind: Kind, row: OrgTemplate) -> ProcessTemplate | SurveyTemplate:
    if kind == "process":
        return ProcessTemplate.model_validate(row.parsed)
    return SurveyTemplate.model_validate(row.parsed)


async def visible_templates(session: AsyncSession, org_ids: list[uuid.UUID],
                            kind: Kind) -> list[TemplateEntry]:
    """Shipped, platform-shared and the organisations' own templates (newest version each),
    as `resolve_*` finds them: a platform-shared key hides the shipped one, and a key every
    one of these organisations has its own of hides both."""
    rows = await TemplateRepository.from_session(session).latest_of_owners(org_ids, kind)
    shared = {r.key: r for r in rows if r.organisation_id is None}
    own = [r for r in rows if r.organisation_id is not None]
    owners_of: dict[str, set[uuid.UUID]] = {}
    for r in own:
        owners_of.setdefault(r.key, set()).add(r.organisation_id)  # type: ignore[arg-type]
    hidden = {k for k, owners in owners_of.items() if owners >= set(org_ids)}
    shipped: dict[str, ProcessTemplate | SurveyTemplate] = dict(
        builtin_templates() if kind == "process" else builtin_survey_templates())
    out = [_entry(kind, t, "shipped") for k, t in shipped.items()
           if k not in shared and k not in hidden]
    out += [_entry(kind, _parsed(kind, r), "platform", r) for r in shared.values()
            if r.key not in hidden]
    out += [_entry(kind, _parsed(kind, r), "organisation", r) for r in own]
    return sorted(out, key=lambda e: (e.key, e.origin != "organisation"))


async def uploaded_versions(session: AsyncSession,
                            org_id: uuid.UUID | None) -> list[TemplateEntry]:
    """Every version an organisation (None: the platform) uploaded, newest first per key."""
    rows = await TemplateRepository.from_session(session).versions(org_id)
    return [uploaded_entry(r) for r in rows]


def uploaded_entry(row: OrgTemplate) -> TemplateEntry:
    kind = check_kind(row.kind)
    origin: Origin = "organisation" if row.organisation_id else "platform"
    return _entry(kind, _parsed(kind, row), origin, row)


# --- uploading -------------------------------------------------------------------------


@dataclass(frozen=True)
class Uploaded:
    row: OrgTemplate
    created: bool  # False: the same content as the newest version, nothing new stored


def check_kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise ValidationFailed("Unbekannte Art der Vorlage.", code="invalid_template",
                               details=[{"field": "kind", "message": "process oder survey"}])
    return kind  # type: ignore[return-value]


async def _validated(session: AsyncSession, org_id: uuid.UUID | None, kind: Kind,
                     data: dict[str, Any]) -> ProcessTemplate | SurveyTemplate:
    if kind == "survey":
        return validate_survey_template(data)
    # The store numbers the versions; a file copied from a shipped template carries its
    # number, which says nothing about this organisation's versions.
    data = {**data, "version": 1}
    return validate_template(data, survey_keys=await survey_keys(session, _ids(org_id)))


async def upload_template(session: AsyncSession, org_id: uuid.UUID | None, kind: str,
                          text: str | bytes, *, actor: str | None) -> Uploaded:
    """Validate and store a template as the next version of its key for its owner (the
    organisation, or None: shared by the platform). Invalid: 422 whose details name the path
    of each problem."""
    kind = check_kind(kind)
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8"))
    if size > MAX_BYTES:
        raise TooLarge(f"Die Vorlage ist zu groß (höchstens {MAX_BYTES // 1024} kB).",
                       code="template_too_large")
    try:
        data = load_yaml(text)
        template = await _validated(session, org_id, kind, data)
    except TemplateInvalid as exc:
        raise ValidationFailed("Die Vorlage ist ungültig.", code="invalid_template",
                               details=[i.as_detail() for i in exc.issues]) from None
    source = text.decode("utf-8") if isinstance(text, bytes) else text
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    repo = TemplateRepository.from_session(session)
    latest = await repo.latest(org_id, kind, template.key)
    if latest is not None and latest.content_hash == digest:
        return Uploaded(latest, created=False)
    version = (latest.version if latest else 0) + 1
    if isinstance(template, ProcessTemplate):
        template = template.model_copy(update={"version": version})
        title = template.title
    else:
        title = pick(template.title, "de")
    row = OrgTemplate(
        id=uuid.uuid4(), organisation_id=org_id, kind=kind, key=template.key, version=version,
        title=title[:300], source_yaml=source,
        parsed=template.model_dump(mode="json", by_alias=True),
        content_hash=digest, derived_from=template.derived_from, created_by=actor)
    if not await repo.add(row):
        raise Conflict("Diese Vorlage wurde gerade gleichzeitig hochgeladen; bitte erneut "
                       "versuchen.", code="template_upload_conflict")
    await record_event(session, organisation_id=org_id, type="template.uploaded", actor=actor,
                       data={"kind": kind, "key": row.key, "version": version,
                             "derived_from": row.derived_from})
    return Uploaded(row, created=True)
