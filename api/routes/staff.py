"""Staff accounts over the API: the same service calls as the pages (api/pages/staff.py)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, BackgroundTasks, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentUser, SessionDep, SettingsDep, SignerDep, token_from
from api.ratelimit import password_reset_limits
from api.staff_mail import send_link_mail
from services.identity import accounts
from services.identity.service import get_organisation
from services.models.organisation import Membership, Role, User

router = APIRouter(prefix="/api/v1", tags=["staff"])


class StaffOut(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str
    role: Role
    active: bool


class InviteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=320)
    role: Role = Role.coordinator
    display_name: str = Field(default="", max_length=200)


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role


class ResetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=1, max_length=320)


class SetPasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class ChangePasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current: str = Field(min_length=1, max_length=1024)
    password: str = Field(min_length=1, max_length=1024)


def _out(user: User, membership: Membership) -> StaffOut:
    return StaffOut(id=user.id, email=user.email, display_name=user.display_name,
                    role=membership.role, active=user.is_active)


@router.get("/orgs/{slug}/staff", response_model=list[StaffOut])
async def list_staff(slug: str, session: SessionDep, principal: CurrentUser) -> list[StaffOut]:
    org = await get_organisation(session, slug)
    principal.require(org.id, Role.admin)
    return [_out(u, m) for u, m in await accounts.members(session, org.id)]


@router.post("/orgs/{slug}/staff", response_model=StaffOut,
             status_code=status.HTTP_201_CREATED)
async def invite_staff(slug: str, body: InviteIn, session: SessionDep, settings: SettingsDep,
                       principal: CurrentUser, tasks: BackgroundTasks) -> StaffOut:
    """Invites by mail: a link to set the password, valid for seven days, used once."""
    org = await get_organisation(session, slug)
    principal.require(org.id, Role.admin)
    user, secret = await accounts.invite(session, org.id, body.email, body.role.value,
                                         display_name=body.display_name,
                                         actor=principal.email)
    send_link_mail(tasks, settings, "invite", user.email, secret, org=org.name,
                   actor=principal.display_name or principal.email)
    return StaffOut(id=user.id, email=user.email, display_name=user.display_name,
                    role=body.role, active=user.is_active)


@router.patch("/orgs/{slug}/staff/{user_id}", response_model=StaffOut)
async def change_staff_role(slug: str, user_id: uuid.UUID, body: RoleIn, session: SessionDep,
                            principal: CurrentUser) -> StaffOut:
    org = await get_organisation(session, slug)
    principal.require(org.id, Role.admin)
    membership = await accounts.change_role(session, org.id, user_id, body.role.value,
                                            actor=principal.email)
    user = next(u for u, m in await accounts.members(session, org.id) if m.id == membership.id)
    return _out(user, membership)


@router.post("/orgs/{slug}/staff/{user_id}/deactivate",
             status_code=status.HTTP_204_NO_CONTENT)
async def deactivate_staff(slug: str, user_id: uuid.UUID, session: SessionDep,
                           principal: CurrentUser) -> Response:
    org = await get_organisation(session, slug)
    principal.require(org.id, Role.admin)
    await accounts.deactivate(session, org.id, user_id, actor=principal.email)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/auth/password-reset", status_code=status.HTTP_202_ACCEPTED)
async def request_password_reset(body: ResetIn, request: Request, session: SessionDep,
                                 settings: SettingsDep, tasks: BackgroundTasks) -> Response:
    """202 for every address, known or not: the answer tells nobody which accounts exist."""
    password_reset_limits(request).check(request, body.email)
    found = await accounts.request_reset(session, body.email)
    if found is not None:
        send_link_mail(tasks, settings, "reset", found[0].email, found[1])
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post("/auth/password", status_code=status.HTTP_204_NO_CONTENT)
async def set_password(body: SetPasswordIn, session: SessionDep) -> Response:
    """Spends an invitation or reset link (410 when spent or expired); all sign-ins end."""
    await accounts.set_password_with_link(session, body.token, body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/auth/password-change", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(body: ChangePasswordIn, request: Request, session: SessionDep,
                          signer: SignerDep, principal: CurrentUser) -> Response:
    """The signed-in user's new password; the other sign-ins of the account end."""
    claims = signer.verify(token_from(request) or "")
    await accounts.change_password(session, principal.user_id, body.current, body.password,
                                   keep_session=claims.session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
