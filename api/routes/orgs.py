"""Organisations (tenants)."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import CurrentUser, SessionDep
from api.schemas import OrgCreate, OrgOut, OrgUpdate
from services.errors import Forbidden
from services.identity.service import (
    create_organisation,
    get_organisation,
    set_public_task_basis,
)
from services.models.organisation import Role

router = APIRouter(prefix="/api/v1/orgs", tags=["organisations"])


@router.post("", response_model=OrgOut, status_code=status.HTTP_201_CREATED)
async def create_org(body: OrgCreate, session: SessionDep, principal: CurrentUser) -> OrgOut:
    if not principal.is_platform_admin:
        raise Forbidden("Nur Plattform-Administrator*innen legen Organisationen an.",
                        code="platform_admin_required")
    org = await create_organisation(session, body.slug, body.name, actor=principal.email)
    return OrgOut.model_validate(org)


@router.get("/{slug}", response_model=OrgOut)
async def read_org(slug: str, session: SessionDep, principal: CurrentUser) -> OrgOut:
    org = await get_organisation(session, slug)
    principal.require(org.id)
    return OrgOut.model_validate(org)


@router.patch("/{slug}", response_model=OrgOut)
async def update_org(slug: str, body: OrgUpdate, session: SessionDep,
                     principal: CurrentUser) -> OrgOut:
    org = await get_organisation(session, slug)
    principal.require(org.id, Role.admin)
    org = await set_public_task_basis(session, org, body.public_task_basis,
                                      actor=principal.email)
    return OrgOut.model_validate(org)
