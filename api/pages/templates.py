"""The organisation's templates page (German, server-rendered, no JavaScript).

Members see the templates they can start from (their own, platform-shared, shipped) and every
version their organisation uploaded; its admins upload a process or survey template (a file or
pasted text). An invalid file shows the form again with each problem and its path in the file.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SessionDep
from api.pages import ORG_LINKS, NavLink
from api.pages.staff_context import StaffUser, org_for
from api.templating import templates
from services.errors import DomainError
from services.identity.service import OrgRole, Principal
from services.models.organisation import Role
from services.template_store import service
from services.template_store.documents import MAX_BYTES

router = APIRouter(include_in_schema=False)

ORIGIN_LABELS = {"shipped": "mitgeliefert", "platform": "für alle geteilt",
                 "organisation": "eigene"}
KIND_LABELS = {"process": "Prozessvorlage", "survey": "Umfragevorlage"}
FLASH = {"created": "Die Vorlage wurde gespeichert.",
         "unchanged": "Die Datei ist dieselbe wie die neueste Fassung; nichts geändert."}


def _links(org: OrgRole) -> list[NavLink]:
    return [NavLink(f"/app/orgs/{org.slug}/templates", "Vorlagen")]


ORG_LINKS.append(_links)


def _errors(exc: DomainError) -> list[dict[str, str]]:
    out = [{"message": exc.message, "code": exc.code}]
    for d in exc.details if isinstance(exc.details, list) else []:
        if isinstance(d, dict) and d.get("message"):
            out.append({"path": str(d.get("field") or ""), "message": str(d["message"]),
                        "code": exc.code})
    return out


async def _page(request: Request, session: SessionDep, principal: Principal, slug: str, *,
                errors: list[dict[str, str]] | None = None, form: dict[str, Any] | None = None,
                status_code: int = 200) -> Response:
    org = await org_for(session, principal, slug)
    entry = principal.orgs[org.id]
    visible = {kind: await service.visible_templates(session, [org.id], kind)
               for kind in service.KINDS}
    return templates.TemplateResponse(request, "templates/list.html", {
        "principal": principal, "org": entry, "visible": visible,
        "versions": await service.uploaded_versions(session, org.id),
        "can_upload": entry.role == Role.admin, "errors": errors or [], "form": form or {},
        "origin_labels": ORIGIN_LABELS, "kind_labels": KIND_LABELS,
        "flash": FLASH.get(request.query_params.get("ok", "")),
        "max_kb": MAX_BYTES // 1024,
    }, status_code=status_code)


@router.get("/app/orgs/{slug}/templates", response_class=HTMLResponse)
async def templates_page(slug: str, request: Request, session: SessionDep,
                         principal: StaffUser) -> Response:
    return await _page(request, session, principal, slug)


@router.post("/app/orgs/{slug}/templates", response_class=HTMLResponse)
async def upload_page(
    slug: str, request: Request, session: SessionDep, principal: StaffUser,
    kind: Annotated[str, Form()] = "process", text: Annotated[str, Form()] = "",
    file: UploadFile | None = None,
) -> Response:
    form = {"kind": kind, "text": text}
    try:
        org = await org_for(session, principal, slug, Role.admin)
        # One byte more than allowed is enough for the service to refuse it as too large.
        content: bytes | str = await file.read(MAX_BYTES + 1) if file and file.filename else text
        result = await service.upload_template(session, org.id, kind, content,
                                               actor=principal.email)
    except DomainError as exc:
        await session.rollback()
        return await _page(request, session, principal, slug, errors=_errors(exc), form=form,
                           status_code=exc.status_code)
    ok = "created" if result.created else "unchanged"
    return RedirectResponse(f"/app/orgs/{slug}/templates?ok={ok}", status_code=303)
