"""Pages of the stakeholder registry (German, server-rendered, plain HTML forms, no JavaScript).

The list with search and filters (a GET form, so a filtered list is a link), a person's
create and edit form, the CSV/XLSX upload with its rejected rows as a table and as a file,
the sample file, the export of the list, and per person the DSGVO export and the erasure
behind a confirmation step. Every rule is the service's (known groups, legal basis, the
address rule); on an error the form is shown again with the entered values and a summary.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError as PydanticValidationError

from api.deps import SessionDep
from api.form_errors import field_message
from api.pages import ORG_LINKS, NavLink
from api.pages.staff_context import StaffUser, org_for
from api.templating import templates
from services import i18n
from services.errors import DomainError, ValidationFailed
from services.identity.service import OrgRole, Principal
from services.models.organisation import Organisation, Role
from services.stakeholders import service
from services.stakeholders.export import list_csv, rejected_csv, sample_csv
from services.stakeholders.schemas import ImportResult, RejectedRow, StakeholderIn

router = APIRouter(include_in_schema=False)

READERS = (Role.coordinator, Role.steering)
PER_PAGE = 25
FIELD_LABELS = {
    "name": "Name", "email": "E-Mail-Adresse", "kind": "Art", "group": "Gruppe",
    "reach_tier": "Erreichbarkeitsstufe", "tags": "Schlagworte", "language": "Sprache",
    "legal_basis": "Rechtsgrundlage", "consent_at": "Einwilligung am",
    "consent_method": "Einwilligung wie", "accessibility_needs": "Barrierefreiheit",
    "notes": "Notizen", "file": "Datei",
}
LEGAL_BASIS_LABELS = {"consent": "Einwilligung", "public_task": "öffentliche Aufgabe",
                      "none": "keine (wird nicht angeschrieben)"}
KIND_LABELS = {"person": "Person", "organisation": "Organisation"}
# Staff pages are German: the participant languages by their German names.
LANGUAGE_LABELS = i18n.GERMAN_NAMES
FLASH = {"created": "Die Person wurde angelegt.", "updated": "Die Änderungen sind gespeichert.",
         "erased": "Die personenbezogenen Daten wurden gelöscht."}
FILTERS = ("q", "group", "tier", "tag", "language", "legal_basis")


def _links(org: OrgRole) -> list[NavLink]:
    if org.role in (Role.admin, *READERS):
        return [NavLink(f"/app/orgs/{org.slug}/stakeholders", "Beteiligte")]
    return []


ORG_LINKS.append(_links)


def _errors(exc: DomainError) -> list[dict[str, str]]:
    out = [{"message": exc.message, "code": exc.code}]
    if isinstance(exc.details, list):
        out += [{"message": f"{FIELD_LABELS.get(d['field'], d['field'])}: {d['message']}",
                 "code": exc.code}
                for d in exc.details if isinstance(d, dict) and d.get("field")
                and d.get("message") and d["message"] not in exc.message]
    return out


def _filters(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "").strip()[:200] for k in FILTERS}


def _service_filters(f: dict[str, str]) -> dict[str, Any]:
    tier = int(f["tier"]) if f["tier"] in ("1", "2", "3") else None
    language = f["language"] if f["language"] in LANGUAGE_LABELS else None
    basis = f["legal_basis"] if f["legal_basis"] in LEGAL_BASIS_LABELS else None
    return {"q": f["q"] or None, "group": f["group"] or None, "tier": tier,
            "tag": f["tag"] or None, "language": language, "legal_basis": basis}


# --- the list, its export, the sample file ---------------------------------------------


@router.get("/app/orgs/{slug}/stakeholders", response_class=HTMLResponse)
async def list_page(request: Request, slug: str, session: SessionDep,
                    principal: StaffUser) -> Response:
    org = await org_for(session, principal, slug, *READERS)
    f = _filters(request)
    try:
        page_no = max(1, min(int(request.query_params.get("page", "1")), 1_000_000))
    except ValueError:
        page_no = 1
    errors: list[dict[str, str]] = []
    try:
        result = await service.list_stakeholders(session, org.id, page=page_no,
                                                 per_page=PER_PAGE, **_service_filters(f))
    except DomainError as exc:  # a group filter of punctuation only
        errors = _errors(exc)
        result = await service.list_stakeholders(session, org.id, page=1, per_page=PER_PAGE)
    query = {k: v for k, v in f.items() if v}
    pages = max(1, -(-result.total // PER_PAGE))
    return templates.TemplateResponse(request, "stakeholders/list.html", {
        "principal": principal, "org": org, "result": result, "f": f, "errors": errors,
        "groups": await service.list_groups(session, org.id), "pages": pages,
        "can_edit": principal.role_in(org.id) in (Role.coordinator, Role.admin),
        "query": urlencode(query), "page_url": lambda n: "?" + urlencode({**query, "page": n}),
        "basis_labels": LEGAL_BASIS_LABELS, "language_labels": LANGUAGE_LABELS,
        "flash": FLASH.get(request.query_params.get("ok") or ""),
    }, status_code=422 if errors else 200)


def _download(data: bytes, filename: str, media_type: str) -> Response:
    return Response(data, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/app/orgs/{slug}/stakeholders/export.csv")
async def export_list(request: Request, slug: str, session: SessionDep,
                      principal: StaffUser) -> Response:
    org = await org_for(session, principal, slug, Role.coordinator)
    items = await service.all_stakeholders(session, org.id,
                                           **_service_filters(_filters(request)))
    return _download(list_csv(items), f"beteiligte-{org.slug}.csv", "text/csv; charset=utf-8")


@router.get("/app/orgs/{slug}/stakeholders/beispiel.csv")
async def sample_file(request: Request, slug: str, session: SessionDep,
                      principal: StaffUser) -> Response:
    await org_for(session, principal, slug, *READERS)
    return _download(sample_csv(), "beteiligte-beispiel.csv", "text/csv; charset=utf-8")


# --- upload -------------------------------------------------------------------------------


async def _import_page(request: Request, principal: Principal, org: Organisation, *,
                       result: ImportResult | None = None, create_groups: bool = False,
                       errors: list[dict[str, str]] | None = None,
                       status_code: int = 200) -> Response:
    return templates.TemplateResponse(request, "stakeholders/import.html", {
        "principal": principal, "org": org, "result": result, "errors": errors or [],
        "create_groups": create_groups,
    }, status_code=status_code)


@router.get("/app/orgs/{slug}/stakeholders/import", response_class=HTMLResponse)
async def import_form(request: Request, slug: str, session: SessionDep,
                      principal: StaffUser) -> Response:
    org = await org_for(session, principal, slug, Role.coordinator)
    return await _import_page(request, principal, org)


@router.post("/app/orgs/{slug}/stakeholders/import", response_class=HTMLResponse)
async def import_submit(request: Request, slug: str, session: SessionDep,
                        principal: StaffUser,
                        file: Annotated[UploadFile | None, File()] = None,
                        create_groups: FormField = "") -> Response:
    org = await org_for(session, principal, slug, Role.coordinator)
    wanted = create_groups == "1"
    try:
        data = await file.read() if file is not None else b""
        if not data:
            raise ValidationFailed("Bitte eine CSV- oder XLSX-Datei auswählen.",
                                   code="empty_file")
        result = await service.import_stakeholders(
            session, org.id, filename=file.filename if file else None,
            content_type=file.content_type if file else None, data=data,
            create_groups=wanted, actor=principal.email)
    except DomainError as exc:
        await session.rollback()
        org = await org_for(session, principal, slug, Role.coordinator)  # expired by the rollback
        return await _import_page(request, principal, org, errors=_errors(exc),
                                  create_groups=wanted, status_code=exc.status_code)
    return await _import_page(request, principal, org, result=result, create_groups=wanted)


@router.post("/app/orgs/{slug}/stakeholders/import/fehler.csv")
async def import_errors(request: Request, slug: str, session: SessionDep,
                        principal: StaffUser,
                        row: Annotated[list[int] | None, Form()] = None,
                        column: Annotated[list[str] | None, Form()] = None,
                        message: Annotated[list[str] | None, Form()] = None) -> Response:
    """The rejected rows as a file: the result page posts them back (hidden fields), so
    nothing of an upload is kept on the server."""
    await org_for(session, principal, slug, Role.coordinator)
    rows, columns, messages = row or [], column or [], message or []
    if not len(rows) == len(columns) == len(messages):
        raise ValidationFailed("Die Fehlerliste ist unvollständig.", code="invalid_form")
    data = rejected_csv(RejectedRow(row=r, field=c, column=c, message=m)
                        for r, c, m in zip(rows, columns, messages, strict=True))
    return _download(data, "import-fehler.csv", "text/csv; charset=utf-8")


# --- create and edit --------------------------------------------------------------------


def _form_values(stakeholder: Any, tz: ZoneInfo) -> dict[str, str]:
    return {
        "name": stakeholder.name or "", "email": stakeholder.email or "",
        "kind": stakeholder.kind, "group": stakeholder.group_key,
        "reach_tier": str(stakeholder.reach_tier), "tags": ", ".join(stakeholder.tags),
        "language": stakeholder.language, "legal_basis": stakeholder.legal_basis or "",
        "consent_at": stakeholder.consent_at.astimezone(tz).date().isoformat()
        if stakeholder.consent_at else "",
        "consent_method": stakeholder.consent_method or "",
        "accessibility_needs": stakeholder.accessibility_needs or "",
        "notes": stakeholder.notes or "",
    }


def _stakeholder_in(form: dict[str, str], tz: ZoneInfo) -> StakeholderIn:
    """The form as the API's request body; pydantic's complaints become a 422 naming fields."""
    consent_at = None
    if form["consent_at"]:
        try:
            consent_at = datetime.fromisoformat(form["consent_at"]).replace(tzinfo=tz)
        except ValueError:
            raise ValidationFailed("Bitte das Datum der Einwilligung als JJJJ-MM-TT angeben.",
                                   code="invalid_date", details=[
                                       {"field": "consent_at", "message": "kein Datum"}]) from None
    try:
        return StakeholderIn(
            name=form["name"], email=form["email"], kind=form["kind"], group=form["group"],
            reach_tier=form["reach_tier"] or 1,
            tags=[t for t in form["tags"].replace(";", ",").split(",")],
            language=form["language"] or "de", legal_basis=form["legal_basis"] or None,
            consent_at=consent_at, consent_method=form["consent_method"] or None,
            accessibility_needs=form["accessibility_needs"] or None,
            notes=form["notes"] or None)
    except PydanticValidationError as exc:
        raise ValidationFailed("Bitte die markierten Angaben prüfen.", details=[
            {"field": str(e["loc"][0]) if e["loc"] else "form", "message": field_message(e)}
            for e in exc.errors()]) from None


FormField = Annotated[str, Form()]


def _form(name: str, email: str, kind: str, group: str, reach_tier: str, tags: str,
          language: str, legal_basis: str, consent_at: str, consent_method: str,
          accessibility_needs: str, notes: str) -> dict[str, str]:
    return {"name": name, "email": email, "kind": kind, "group": group,
            "reach_tier": reach_tier, "tags": tags, "language": language,
            "legal_basis": legal_basis, "consent_at": consent_at.strip(),
            "consent_method": consent_method, "accessibility_needs": accessibility_needs,
            "notes": notes}


async def _form_page(request: Request, session: SessionDep, principal: Principal,
                     org: Organisation, form: dict[str, str], *, stakeholder: Any = None,
                     errors: list[dict[str, str]] | None = None,
                     status_code: int = 200) -> Response:
    return templates.TemplateResponse(request, "stakeholders/form.html", {
        "principal": principal, "org": org, "form": form, "s": stakeholder,
        "groups": await service.list_groups(session, org.id), "errors": errors or [],
        "kind_labels": KIND_LABELS, "language_labels": LANGUAGE_LABELS,
        "basis_labels": LEGAL_BASIS_LABELS, "public_task": bool(org.public_task_basis),
        "flash": FLASH.get(request.query_params.get("ok") or ""),
    }, status_code=status_code)


@router.get("/app/orgs/{slug}/stakeholders/new", response_class=HTMLResponse)
async def new_page(request: Request, slug: str, session: SessionDep,
                   principal: StaffUser) -> Response:
    org = await org_for(session, principal, slug, Role.coordinator)
    form = _form("", "", "person", "", "1", "", "de", "", "", "", "", "")
    return await _form_page(request, session, principal, org, form)


@router.post("/app/orgs/{slug}/stakeholders/new", response_class=HTMLResponse)
async def create_page(
    request: Request, slug: str, session: SessionDep, principal: StaffUser,
    name: FormField = "", email: FormField = "", kind: FormField = "person",
    group: FormField = "", reach_tier: FormField = "1", tags: FormField = "",
    language: FormField = "de", legal_basis: FormField = "", consent_at: FormField = "",
    consent_method: FormField = "", accessibility_needs: FormField = "", notes: FormField = "",
) -> Response:
    org = await org_for(session, principal, slug, Role.coordinator)
    form = _form(name, email, kind, group, reach_tier, tags, language, legal_basis, consent_at,
                 consent_method, accessibility_needs, notes)
    try:
        row = await service.create_stakeholder(
            session, org.id, _stakeholder_in(form, ZoneInfo(org.time_zone)),
            actor=principal.email)
    except DomainError as exc:
        await session.rollback()
        org = await org_for(session, principal, slug, Role.coordinator)  # expired by the rollback
        return await _form_page(request, session, principal, org, form, errors=_errors(exc),
                                status_code=exc.status_code)
    return RedirectResponse(f"/app/orgs/{slug}/stakeholders/{row.id}?ok=created",
                            status_code=303)


@router.get("/app/orgs/{slug}/stakeholders/{stakeholder_id}", response_class=HTMLResponse)
async def edit_page(request: Request, slug: str, stakeholder_id: uuid.UUID,
                    session: SessionDep, principal: StaffUser) -> Response:
    org = await org_for(session, principal, slug, Role.coordinator)
    row = await service.get_stakeholder(session, org.id, stakeholder_id)
    if row.erased_at is not None:
        return RedirectResponse(f"/app/orgs/{slug}/stakeholders?ok=erased", status_code=303)
    return await _form_page(request, session, principal, org,
                            _form_values(row, ZoneInfo(org.time_zone)), stakeholder=row)


@router.post("/app/orgs/{slug}/stakeholders/{stakeholder_id}", response_class=HTMLResponse)
async def update_page(
    request: Request, slug: str, stakeholder_id: uuid.UUID, session: SessionDep,
    principal: StaffUser,
    name: FormField = "", email: FormField = "", kind: FormField = "person",
    group: FormField = "", reach_tier: FormField = "1", tags: FormField = "",
    language: FormField = "de", legal_basis: FormField = "", consent_at: FormField = "",
    consent_method: FormField = "", accessibility_needs: FormField = "", notes: FormField = "",
) -> Response:
    org = await org_for(session, principal, slug, Role.coordinator)
    form = _form(name, email, kind, group, reach_tier, tags, language, legal_basis, consent_at,
                 consent_method, accessibility_needs, notes)
    try:
        await service.update_stakeholder(
            session, org.id, stakeholder_id, _stakeholder_in(form, ZoneInfo(org.time_zone)),
            actor=principal.email)
    except DomainError as exc:
        await session.rollback()
        org = await org_for(session, principal, slug, Role.coordinator)  # expired by the rollback
        if exc.status_code == 404:
            raise
        row = await service.get_stakeholder(session, org.id, stakeholder_id)
        return await _form_page(request, session, principal, org, form, stakeholder=row,
                                errors=_errors(exc), status_code=exc.status_code)
    return RedirectResponse(f"/app/orgs/{slug}/stakeholders/{stakeholder_id}?ok=updated",
                            status_code=303)


# --- DSGVO: export and erasure ------------------------------------------------------------


@router.get("/app/orgs/{slug}/stakeholders/{stakeholder_id}/dsgvo.json")
async def dsgvo_export(request: Request, slug: str, stakeholder_id: uuid.UUID,
                       session: SessionDep, principal: StaffUser) -> Response:
    org = await org_for(session, principal, slug, Role.coordinator)
    out = await service.export_stakeholder(session, org.id, stakeholder_id,
                                           actor=principal.email)
    body = json.dumps(out.model_dump(mode="json"), ensure_ascii=False, indent=2)
    return _download(body.encode("utf-8"), f"dsgvo-auskunft-{stakeholder_id}.json",
                     "application/json")


async def _erase_page(request: Request, session: SessionDep, principal: Principal,
                      org: Organisation, stakeholder_id: uuid.UUID, *,
                      errors: list[dict[str, str]] | None = None,
                      status_code: int = 200) -> Response:
    slug = org.slug
    row = await service.get_stakeholder(session, org.id, stakeholder_id)
    if row.erased_at is not None:
        return RedirectResponse(f"/app/orgs/{slug}/stakeholders?ok=erased", status_code=303)
    return templates.TemplateResponse(request, "stakeholders/erase.html", {
        "principal": principal, "org": org, "s": row, "errors": errors or [],
    }, status_code=status_code)


@router.get("/app/orgs/{slug}/stakeholders/{stakeholder_id}/erase",
            response_class=HTMLResponse)
async def erase_confirm(request: Request, slug: str, stakeholder_id: uuid.UUID,
                        session: SessionDep, principal: StaffUser) -> Response:
    org = await org_for(session, principal, slug, Role.coordinator)
    return await _erase_page(request, session, principal, org, stakeholder_id)


@router.post("/app/orgs/{slug}/stakeholders/{stakeholder_id}/erase",
             response_class=HTMLResponse)
async def erase_submit(request: Request, slug: str, stakeholder_id: uuid.UUID,
                       session: SessionDep, principal: StaffUser,
                       confirm: FormField = "") -> Response:
    org = await org_for(session, principal, slug, Role.coordinator)
    if confirm != "ja":
        return await _erase_page(request, session, principal, org, stakeholder_id, errors=[{
            "message": "Bitte bestätigen Sie, dass die Daten endgültig gelöscht werden sollen.",
            "code": "confirmation_required"}], status_code=422)
    await service.erase_stakeholder(session, org.id, stakeholder_id, actor=principal.email)
    return RedirectResponse(f"/app/orgs/{slug}/stakeholders?ok=erased", status_code=303)
