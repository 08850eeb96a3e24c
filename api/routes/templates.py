"""Templates: the shipped ones, the platform-shared ones and an organisation's own.

Members of an organisation see its own templates beside the others; another organisation's
stay invisible (404). Uploads are YAML (the body as it is, `Content-Type: application/yaml`);
an invalid one answers 422 whose details name the path of each problem in the file.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import PlainTextResponse

from api.deps import CurrentUser, SessionDep
from services.errors import Forbidden, NotFound
from services.identity.service import Principal, get_organisation
from services.models.organisation import Role
from services.template_store import service
from services.template_store.documents import MAX_BYTES
from services.template_store.schemas import TemplateOut, UploadOut

router = APIRouter(prefix="/api/v1", tags=["templates"])

KindQuery = Annotated[str, Query(description="process (Prozessvorlage) oder survey")]
OrgQuery = Annotated[str | None, Query(description="nur diese Organisation (Slug)")]
YAML_BODY = {"requestBody": {"required": True, "content": {
    "application/yaml": {"schema": {"type": "string"}}}}}


def _org_ids(principal: Principal, org: str | None) -> list[uuid.UUID]:
    """The principal's organisations in slug order, or the one asked for (404 if not theirs)."""
    entries = sorted(principal.orgs.values(), key=lambda o: o.slug)
    if org is None:
        return [o.organisation_id for o in entries]
    chosen = [o.organisation_id for o in entries if o.slug == org]
    if not chosen:
        raise NotFound("Nicht gefunden.")
    return chosen


async def _body(request: Request) -> bytes:
    # Read at most one byte more than allowed: the service answers 413 for it.
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BYTES:
            break
    return b"".join(chunks)


@router.get("/templates", response_model=list[TemplateOut])
async def read_templates(session: SessionDep, principal: CurrentUser, org: OrgQuery = None,
                         kind: KindQuery = "process") -> list[TemplateOut]:
    entries = await service.visible_templates(session, _org_ids(principal, org),
                                              service.check_kind(kind))
    return [TemplateOut.of(e) for e in entries]


@router.get("/templates/{key}.yaml", response_class=PlainTextResponse,
            responses={200: {"content": {"application/yaml": {}}}})
async def download_template(key: str, session: SessionDep, principal: CurrentUser,
                            org: OrgQuery = None, kind: KindQuery = "process") -> Response:
    """The file a template came from: a starting point for an organisation's own (set
    `derived_from` to the key and change what the town does differently)."""
    text = await service.template_source(session, _org_ids(principal, org),
                                         service.check_kind(kind), key)
    return Response(text, media_type="application/yaml; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{key}.yaml"'})


@router.get("/templates/{key}")
async def read_template(key: str, session: SessionDep, principal: CurrentUser,
                        org: OrgQuery = None, kind: KindQuery = "process") -> dict[str, Any]:
    """Phases (windows, checklists, gates, reminders), stakeholder groups, surveys, events and
    the sections of the resolution draft; for `kind=survey` the survey's definition."""
    org_ids = _org_ids(principal, org)
    if service.check_kind(kind) == "survey":
        survey = await service.visible_survey_template(session, org_ids, key)
        return survey.model_dump(mode="json", by_alias=True)
    template = await service.visible_process_template(session, org_ids, key)
    return template.model_dump(mode="json")


@router.post("/templates", response_model=UploadOut, openapi_extra=YAML_BODY,
             responses={200: {"description": "same file as the newest version"}})
async def share_template(request: Request, response: Response, session: SessionDep,
                         principal: CurrentUser, kind: KindQuery = "process") -> UploadOut:
    """A template the platform admin shares with every organisation."""
    if not principal.is_platform_admin:
        raise Forbidden("Nur Plattform-Administrator*innen teilen Vorlagen mit allen.",
                        code="platform_admin_required")
    return await _upload(request, response, session, None, kind, principal.email)


@router.post("/orgs/{slug}/templates", response_model=UploadOut, openapi_extra=YAML_BODY,
             status_code=status.HTTP_201_CREATED,
             responses={200: {"description": "same file as the newest version"}})
async def upload_template(slug: str, request: Request, response: Response, session: SessionDep,
                          principal: CurrentUser, kind: KindQuery = "process") -> UploadOut:
    """The organisation's own template; the same key again is its next version."""
    org = await get_organisation(session, slug)
    principal.require(org.id, Role.admin)
    return await _upload(request, response, session, org.id, kind, principal.email)


async def _upload(request: Request, response: Response, session: SessionDep,
                  org_id: uuid.UUID | None, kind: str, actor: str) -> UploadOut:
    result = await service.upload_template(session, org_id, kind, await _body(request),
                                           actor=actor)
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    entry = service.uploaded_entry(result.row)
    return UploadOut(**TemplateOut.of(entry).model_dump(), created=result.created)


@router.get("/orgs/{slug}/templates", response_model=list[TemplateOut])
async def org_templates(slug: str, session: SessionDep,
                        principal: CurrentUser) -> list[TemplateOut]:
    """Every version the organisation uploaded (newest first per key)."""
    org = await get_organisation(session, slug)
    principal.require(org.id)
    return [TemplateOut.of(e) for e in await service.uploaded_versions(session, org.id)]
