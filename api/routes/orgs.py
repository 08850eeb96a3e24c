"""Organisations (tenants)."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import CurrentUser, SessionDep
from api.schemas import OrgCreate, OrgLegalIn, OrgLegalOut, OrgOut, OrgUpdate
from services.errors import Forbidden
from services.identity.service import (
    create_organisation,
    get_organisation,
    set_public_task_basis,
)
from services.legal import service as legal
from services.models.legal import OrganisationLegal
from services.models.organisation import Organisation, Role

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


def _legal_out(org: Organisation, row: OrganisationLegal | None) -> OrgLegalOut:
    out = OrgLegalOut.model_validate(row) if row else OrgLegalOut()
    out.pages = legal.page_links("", org.slug)
    return out


@router.get("/{slug}/legal", response_model=OrgLegalOut)
async def read_legal(slug: str, session: SessionDep, principal: CurrentUser) -> OrgLegalOut:
    org = await get_organisation(session, slug)
    principal.require(org.id)
    return _legal_out(org, await legal.load(session, org.id))


@router.put("/{slug}/legal", response_model=OrgLegalOut)
async def update_legal(slug: str, body: OrgLegalIn, session: SessionDep,
                       principal: CurrentUser) -> OrgLegalOut:
    """Impressum, privacy notice and contact; only the organisation's admins."""
    org = await get_organisation(session, slug)
    principal.require(org.id, Role.admin)
    row = await legal.save(session, org.id, body.model_dump(), actor=principal.email)
    return _legal_out(org, row)
