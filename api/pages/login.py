"""Login with a session cookie, logout, and the staff overview page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SESSION_COOKIE, OptionalUser, SessionDep, SettingsDep, SignerDep
from api.errors import error_headers
from api.pages import ORG_LINKS, NavLink
from api.signin import sign_in, sign_out
from api.templating import templates
from services.errors import RateLimited, Unauthorized
from services.identity.service import OrgRole

router = APIRouter(include_in_schema=False)

ROLE_LABELS = {"admin": "Administration", "coordinator": "Koordination",
               "steering": "Steuerungsgruppe", "clerk": "Sitzungsdienst",
               "interviewer": "Interviews und Papierbögen"}


def _safe_next(value: str | None) -> str:
    # Only same-site paths: an open redirect after login would help phishing.
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return "/app"


def login_redirect(request: Request) -> RedirectResponse:
    """Where a page sends someone who is not signed in."""
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


@router.get("/", response_class=HTMLResponse)
async def index(principal: OptionalUser) -> Response:
    return RedirectResponse("/app" if principal else "/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str | None = None) -> Response:
    return templates.TemplateResponse(
        request, "pages/login.html", {"principal": None, "next": _safe_next(next), "error": None}
    )


@router.post("/login", response_class=HTMLResponse)
async def login_submit(
    request: Request,
    session: SessionDep,
    signer: SignerDep,
    settings: SettingsDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/app",
) -> Response:
    try:
        token = await sign_in(request, session, signer, settings, email, password)
    except (Unauthorized, RateLimited) as exc:
        # A throttled attempt shows the wait in the page and says it in Retry-After.
        headers = error_headers(exc) if isinstance(exc, RateLimited) else None
        return templates.TemplateResponse(
            request, "pages/login.html",
            {"principal": None, "next": _safe_next(next), "error": exc.message, "email": email},
            status_code=exc.status_code, headers=headers,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=settings.token_ttl_seconds,
        httponly=True, samesite="lax", secure=settings.public_url.startswith("https://"),
    )
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep, signer: SignerDep) -> Response:
    # Revoked server-side: deleting the cookie alone left a copied value working.
    await sign_out(session, signer, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _links(org: OrgRole) -> list[NavLink]:
    return [link for provider in ORG_LINKS for link in provider(org)]


@router.get("/app", response_class=HTMLResponse)
async def home(request: Request, principal: OptionalUser) -> Response:
    if principal is None:
        return login_redirect(request)
    return templates.TemplateResponse(
        request, "pages/home.html",
        {"principal": principal, "orgs": list(principal.orgs.values()),
         "role_labels": ROLE_LABELS, "links": _links},
    )
