"""Stakeholder registry: create, import, search, DSGVO export and erasure (API.md)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status

from api.deps import CurrentUser, SessionDep
from services.errors import ValidationFailed
from services.i18n import Language
from services.identity.service import get_organisation
from services.models.organisation import Role
from services.stakeholders import service
from services.stakeholders.schemas import (
    GroupIn,
    GroupOut,
    ImportResult,
    StakeholderExport,
    StakeholderIn,
    StakeholderOut,
    StakeholderPage,
)

router = APIRouter(prefix="/api/v1/orgs/{slug}/stakeholders", tags=["stakeholders"])

groups_router = APIRouter(prefix="/api/v1/orgs/{slug}/groups", tags=["stakeholders"])

READERS = (Role.coordinator, Role.steering)


@groups_router.get("", response_model=list[GroupOut])
async def list_groups(slug: str, session: SessionDep, principal: CurrentUser) -> list[GroupOut]:
    org = await get_organisation(session, slug)
    principal.require(org.id, *READERS)
    return await service.list_groups(session, org.id)


@groups_router.post("", response_model=GroupOut, status_code=status.HTTP_201_CREATED)
async def add_group(slug: str, body: GroupIn, session: SessionDep,
                    principal: CurrentUser) -> GroupOut:
    org = await get_organisation(session, slug)
    principal.require(org.id, Role.coordinator)
    return await service.add_group(session, org.id, body, actor=principal.email)


@router.post("", response_model=StakeholderOut, status_code=status.HTTP_201_CREATED)
async def create(slug: str, body: StakeholderIn, session: SessionDep,
                 principal: CurrentUser) -> StakeholderOut:
    org = await get_organisation(session, slug)
    principal.require(org.id, Role.coordinator)
    row = await service.create_stakeholder(session, org.id, body, actor=principal.email)
    return StakeholderOut.model_validate(row)


@router.get("", response_model=StakeholderPage)
async def search(
    slug: str,
    session: SessionDep,
    principal: CurrentUser,
    group: str | None = None,
    tier: Annotated[int | None, Query(ge=1, le=3)] = None,
    tag: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    # Bounded so that (page - 1) * per_page stays a valid PostgreSQL bigint OFFSET (was a 500).
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
    language: Language | None = None,
    # "none": those without a legal basis (nobody may write to them).
    legal_basis: Literal["consent", "public_task", "none"] | None = None,
) -> StakeholderPage:
    org = await get_organisation(session, slug)
    principal.require(org.id, *READERS)
    return await service.list_stakeholders(session, org.id, group=group, tier=tier, tag=tag,
                                           q=q, page=page, per_page=per_page,
                                           language=language, legal_basis=legal_basis)


@router.post("/import", response_model=ImportResult)
async def import_file(
    slug: str, session: SessionDep, principal: CurrentUser,
    file: Annotated[UploadFile, File()],
    # Form field or query parameter: add groups the organisation does not know yet instead
    # of rejecting their rows.
    create_groups: Annotated[bool, Form()] = False,
    create_groups_query: Annotated[bool, Query(alias="create_groups")] = False,
) -> ImportResult:
    org = await get_organisation(session, slug)
    principal.require(org.id, Role.coordinator)
    data = await file.read()
    if not data:
        raise ValidationFailed("Die Datei ist leer.", code="empty_file",
                               details=[{"field": "file", "message": "leer"}])
    return await service.import_stakeholders(
        session, org.id, filename=file.filename, content_type=file.content_type, data=data,
        create_groups=create_groups or create_groups_query, actor=principal.email)


@router.get("/{stakeholder_id}", response_model=StakeholderOut)
async def read(slug: str, stakeholder_id: uuid.UUID, session: SessionDep,
               principal: CurrentUser) -> StakeholderOut:
    org = await get_organisation(session, slug)
    principal.require(org.id, *READERS)
    return StakeholderOut.model_validate(
        await service.get_stakeholder(session, org.id, stakeholder_id))


@router.get("/{stakeholder_id}/export", response_model=StakeholderExport)
async def export(slug: str, stakeholder_id: uuid.UUID, session: SessionDep,
                 principal: CurrentUser) -> StakeholderExport:
    org = await get_organisation(session, slug)
    principal.require(org.id, Role.coordinator)
    return await service.export_stakeholder(session, org.id, stakeholder_id,
                                            actor=principal.email)


@router.delete("/{stakeholder_id}", status_code=status.HTTP_204_NO_CONTENT)
async def erase(slug: str, stakeholder_id: uuid.UUID, session: SessionDep,
                principal: CurrentUser) -> Response:
    org = await get_organisation(session, slug)
    principal.require(org.id, Role.coordinator)
    await service.erase_stakeholder(session, org.id, stakeholder_id, actor=principal.email)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
