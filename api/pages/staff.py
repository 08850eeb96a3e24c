"""Staff accounts in the browser (German, server-rendered, no JavaScript): the organisation's
admin invites colleagues, changes roles and deactivates accounts; anyone asks for a reset link
("Passwort vergessen") and sets a password through a one-time link; a signed-in user changes
their own password (the other sign-ins end)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SessionDep, SettingsDep, SignerDep, token_from
from api.errors import error_headers
from api.pages import ORG_LINKS, NavLink
from api.pages.login import ROLE_LABELS, login_redirect
from api.pages.staff_context import StaffUser, org_for
from api.pages.templates import _errors
from api.ratelimit import password_reset_limits
from api.staff_mail import send_link_mail
from api.templating import templates
from services.errors import DomainError, RateLimited, ValidationFailed
from services.identity import accounts
from services.identity.service import OrgRole, Principal
from services.models.organisation import Role

router = APIRouter(include_in_schema=False)

FLASH = {"invited": "Die Einladung wurde verschickt.",
         "role": "Die Rolle wurde geändert.",
         "deactivated": "Das Konto wurde deaktiviert; seine Anmeldungen sind beendet.",
         "password": "Ihr Passwort wurde geändert; Ihre anderen Anmeldungen sind beendet."}
# The same words for a known and an unknown address: the page must not tell which exist.
RESET_SENT = ("Wenn zu dieser Adresse ein aktives Konto gehört, haben wir einen Link zum "
              "Festlegen eines neuen Passworts geschickt. Er ist zwei Tage gültig.")


def _links(org: OrgRole) -> list[NavLink]:
    return [NavLink(f"/app/orgs/{org.slug}/staff", "Team")] if org.role == Role.admin else []


ORG_LINKS.append(_links)


async def _page(request: Request, session: SessionDep, principal: Principal, slug: str, *,
                errors: list[dict[str, str]] | None = None, form: dict[str, Any] | None = None,
                status_code: int = 200) -> Response:
    org = await org_for(session, principal, slug, Role.admin)
    entry = principal.orgs[org.id]
    return templates.TemplateResponse(request, "staff/list.html", {
        "principal": principal, "org": entry, "members": await accounts.members(session, org.id),
        "role_labels": ROLE_LABELS, "errors": errors or [], "form": form or {},
        "flash": FLASH.get(request.query_params.get("ok", "")),
    }, status_code=status_code)


@router.get("/app/orgs/{slug}/staff", response_class=HTMLResponse)
async def staff_page(slug: str, request: Request, session: SessionDep,
                     principal: StaffUser) -> Response:
    return await _page(request, session, principal, slug)


@router.post("/app/orgs/{slug}/staff", response_class=HTMLResponse)
async def invite_submit(
    slug: str, request: Request, session: SessionDep, settings: SettingsDep,
    principal: StaffUser, tasks: BackgroundTasks,
    email: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "coordinator",
    display_name: Annotated[str, Form()] = "",
) -> Response:
    try:
        org = await org_for(session, principal, slug, Role.admin)
        user, secret = await accounts.invite(session, org.id, email, role,
                                             display_name=display_name, actor=principal.email)
    except DomainError as exc:
        await session.rollback()
        return await _page(request, session, principal, slug, errors=_errors(exc),
                           form={"email": email, "role": role, "display_name": display_name},
                           status_code=exc.status_code)
    send_link_mail(tasks, settings, "invite", user.email, secret, org=org.name,
                   actor=principal.display_name or principal.email)
    return RedirectResponse(f"/app/orgs/{slug}/staff?ok=invited", status_code=303)


async def _member_action(slug: str, request: Request, session: SessionDep,
                         principal: Principal, user_id: uuid.UUID, action: str,
                         role: str = "") -> Response:
    try:
        org = await org_for(session, principal, slug, Role.admin)
        if action == "role":
            await accounts.change_role(session, org.id, user_id, role, actor=principal.email)
        else:
            await accounts.deactivate(session, org.id, user_id, actor=principal.email)
    except DomainError as exc:
        await session.rollback()
        return await _page(request, session, principal, slug, errors=_errors(exc),
                           status_code=exc.status_code)
    return RedirectResponse(f"/app/orgs/{slug}/staff?ok={action}", status_code=303)


@router.post("/app/orgs/{slug}/staff/{user_id}/role", response_class=HTMLResponse)
async def role_submit(slug: str, user_id: uuid.UUID, request: Request, session: SessionDep,
                      principal: StaffUser, role: Annotated[str, Form()] = "") -> Response:
    return await _member_action(slug, request, session, principal, user_id, "role", role)


@router.post("/app/orgs/{slug}/staff/{user_id}/deactivate", response_class=HTMLResponse)
async def deactivate_submit(slug: str, user_id: uuid.UUID, request: Request,
                            session: SessionDep, principal: StaffUser) -> Response:
    return await _member_action(slug, request, session, principal, user_id, "deactivated")


@router.get("/passwort-vergessen", response_class=HTMLResponse)
async def forgot_form(request: Request) -> Response:
    return templates.TemplateResponse(request, "staff/forgot.html",
                                      {"principal": None, "sent": None, "errors": []})


@router.post("/passwort-vergessen", response_class=HTMLResponse)
async def forgot_submit(request: Request, session: SessionDep, settings: SettingsDep,
                        tasks: BackgroundTasks,
                        email: Annotated[str, Form()] = "") -> Response:
    try:
        password_reset_limits(request).check(request, email)
    except RateLimited as exc:
        return templates.TemplateResponse(
            request, "staff/forgot.html", {"principal": None, "sent": None,
                                           "errors": _errors(exc)},
            status_code=exc.status_code, headers=error_headers(exc))
    found = await accounts.request_reset(session, email)
    if found is not None:
        user, secret = found
        send_link_mail(tasks, settings, "reset", user.email, secret)
    return templates.TemplateResponse(request, "staff/forgot.html",
                                      {"principal": None, "sent": RESET_SENT, "errors": []})


@router.get("/passwort-setzen/{secret}", response_class=HTMLResponse)
async def set_form(secret: str, request: Request) -> Response:
    return templates.TemplateResponse(request, "staff/set_password.html",
                                      {"principal": None, "secret": secret, "errors": []})


@router.post("/passwort-setzen/{secret}", response_class=HTMLResponse)
async def set_submit(secret: str, request: Request, session: SessionDep,
                     password: Annotated[str, Form()] = "",
                     password2: Annotated[str, Form()] = "") -> Response:
    try:
        if password != password2:
            raise ValidationFailed("Die beiden Passwörter stimmen nicht überein.", details=[
                {"field": "password2", "message": "stimmt nicht überein"}])
        await accounts.set_password_with_link(session, secret, password)
    except DomainError as exc:
        await session.rollback()
        return templates.TemplateResponse(
            request, "staff/set_password.html",
            {"principal": None, "secret": secret, "errors": _errors(exc)},
            status_code=exc.status_code)
    return RedirectResponse("/login?passwort=gesetzt", status_code=303)


@router.get("/app/passwort", response_class=HTMLResponse)
async def change_form(request: Request, principal: StaffUser) -> Response:
    return templates.TemplateResponse(request, "staff/change_password.html", {
        "principal": principal, "errors": [],
        "flash": FLASH.get(request.query_params.get("ok", ""))})


@router.post("/app/passwort", response_class=HTMLResponse)
async def change_submit(request: Request, session: SessionDep, signer: SignerDep,
                        principal: StaffUser,
                        current: Annotated[str, Form()] = "",
                        password: Annotated[str, Form()] = "") -> Response:
    token = token_from(request)
    if token is None:
        return login_redirect(request)
    try:
        claims = signer.verify(token)
        await accounts.change_password(session, principal.user_id, current, password,
                                       keep_session=claims.session_id)
    except DomainError as exc:
        await session.rollback()
        return templates.TemplateResponse(
            request, "staff/change_password.html",
            {"principal": principal, "errors": _errors(exc), "flash": None},
            status_code=exc.status_code)
    return RedirectResponse("/app/passwort?ok=password", status_code=303)
