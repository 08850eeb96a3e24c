"""An organisation's public pages (Impressum, Datenschutzerklärung, Kontakt) and the form its
admin maintains them with. The public pages need no sign-in: participant pages and mails link
them (base.html's footer, the campaign and event mails)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SessionDep
from api.pages import ORG_LINKS, NavLink
from api.pages.staff_context import StaffUser, org_for
from api.pages.templates import _errors
from api.templating import templates
from services.errors import DomainError
from services.identity.service import OrgRole, Principal, get_organisation
from services.legal import service as legal
from services.models.organisation import Organisation, Role

router = APIRouter(include_in_schema=False)

PAGES = {
    "impressum": {"de": "Impressum", "en": "Legal notice"},
    "datenschutz": {"de": "Datenschutzerklärung", "en": "Privacy notice"},
    "kontakt": {"de": "Kontakt", "en": "Contact"},
}


def _links(org: OrgRole) -> list[NavLink]:
    if org.role == Role.admin:
        return [NavLink(f"/app/orgs/{org.slug}/rechtliches",
                        "Impressum, Datenschutz und Kontakt")]
    return []


ORG_LINKS.append(_links)


async def _edit_page(request: Request, principal: Principal, org: Organisation,
                     values: dict[str, str], *, errors: list[dict[str, str]] | None = None,
                     status_code: int = 200) -> Response:
    field_errors = {e["path"]: e["message"] for e in errors or [] if e.get("path")}
    return templates.TemplateResponse(request, "legal/edit.html", {
        "principal": principal, "org": org, "fields": legal.FIELDS, "values": values,
        "errors": errors or [], "field_errors": field_errors,
        "links": legal.page_links("", org.slug),
        "flash": "Die Angaben wurden gespeichert." if request.query_params.get("ok") else None,
    }, status_code=status_code)


@router.get("/app/orgs/{slug}/rechtliches", response_class=HTMLResponse)
async def edit_form(slug: str, request: Request, session: SessionDep,
                    principal: StaffUser) -> Response:
    org = await org_for(session, principal, slug, Role.admin)
    return await _edit_page(request, principal, org,
                            legal.values_of(await legal.load(session, org.id)))


@router.post("/app/orgs/{slug}/rechtliches", response_class=HTMLResponse)
async def edit_submit(slug: str, request: Request, session: SessionDep,
                      principal: StaffUser) -> Response:
    org = await org_for(session, principal, slug, Role.admin)
    form = await request.form()
    values = {name: str(form.get(name) or "") for name in legal.FIELD_NAMES}
    try:
        await legal.save(session, org.id, values, actor=principal.email)
    except DomainError as exc:
        await session.rollback()
        org = await get_organisation(session, slug)  # fresh after the rollback
        # The form again, with every message and what was typed (nothing is lost).
        return await _edit_page(request, principal, org, values, errors=_errors(exc),
                                status_code=exc.status_code)
    return RedirectResponse(f"/app/orgs/{slug}/rechtliches?ok=1", status_code=303)


def _lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "de"


async def _public(request: Request, session: SessionDep, slug: str, page: str) -> Response:
    org = await get_organisation(session, slug)
    lang = _lang(request)
    request.state.legal_slug = org.slug  # the footer links the sibling pages
    view = await legal.public_view(session, org)
    context: dict[str, Any] = {
        "principal": None, "lang": lang, "v": view, "page": page,
        "title": PAGES[page][lang], "links": legal.page_links("", org.slug, lang),
    }
    return templates.TemplateResponse(request, f"legal/{page}.html", context)


@router.get("/o/{slug}/impressum", response_class=HTMLResponse)
async def imprint(slug: str, request: Request, session: SessionDep) -> Response:
    return await _public(request, session, slug, "impressum")


@router.get("/o/{slug}/datenschutz", response_class=HTMLResponse)
async def privacy(slug: str, request: Request, session: SessionDep) -> Response:
    return await _public(request, session, slug, "datenschutz")


@router.get("/o/{slug}/kontakt", response_class=HTMLResponse)
async def contact(slug: str, request: Request, session: SessionDep) -> Response:
    return await _public(request, session, slug, "kontakt")
