"""The mail viewer of the embedded stack (`/dev/mail`): every mail the local SMTP sink kept.

Only mounted behaviour when `settings.dev_mail_viewer` is on (set by `mitwirken dev`), and only
for an organisation's admins and coordinators: mails carry participants' personal invitation
links, so they see the mails sent for the organisations they administer or coordinate (the
`X-Mitwirken-Organisation` header every sender adds), never another organisation's; steering
members and clerks get a 403. Platform admins see all, including mails no organisation is
named in.
"""

from __future__ import annotations

import email
import email.policy
import re
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import SettingsDep
from api.pages import ORG_LINKS, NavLink
from api.pages.staff_context import StaffUser
from api.templating import templates
from infra.config import get_settings
from infra.mail import ORGANISATION_HEADER
from infra.mailsink import stored_mails
from services.errors import Forbidden, NotFound
from services.identity.service import OrgRole, Principal
from services.models.organisation import Role

router = APIRouter(prefix="/dev/mail", include_in_schema=False)

# Ids are the sink's file stems ("<time_ns>-<n>"); anything else could walk the file system.
MAIL_ID = re.compile(r"^[0-9]{1,25}-[0-9]{1,12}$")


@dataclass(frozen=True)
class MailView:
    id: str
    subject: str
    sender: str
    to: str
    date: str
    text: str | None
    html: str | None
    attachments: list[str]
    headers: list[tuple[str, str]]


def _view(mail_id: str, msg: EmailMessage) -> MailView:
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    attachments = [part.get_filename() or part.get_content_type()
                   for part in msg.iter_attachments()]
    return MailView(
        id=mail_id, subject=str(msg.get("Subject", "")), sender=str(msg.get("From", "")),
        to=str(msg.get("To", "")), date=str(msg.get("Date", "")),
        text=text_part.get_content() if text_part is not None else None,
        html=html_part.get_content() if html_part is not None else None,
        attachments=attachments, headers=[(k, str(v)) for k, v in msg.items()],
    )


# Who reads an organisation's mails here (participants' links included).
VIEWER_ROLES = (Role.admin, Role.coordinator)


def viewer_orgs(principal: Principal) -> set[uuid.UUID]:
    return {org_id for org_id, org in principal.orgs.items() if org.role in VIEWER_ROLES}


def _overview_links(org: OrgRole) -> list[NavLink]:
    # The process's own settings: the API child of `mitwirken dev` has the viewer switched on.
    if get_settings().dev_mail_viewer and org.role in VIEWER_ROLES:
        return [NavLink("/dev/mail", "Gesendete Mails (Entwicklung)")]
    return []


ORG_LINKS.append(_overview_links)


def may_see(principal: Principal, msg: EmailMessage) -> bool:
    if principal.is_platform_admin:
        return True
    try:
        org_id = uuid.UUID(str(msg.get(ORGANISATION_HEADER, "")).strip())
    except ValueError:
        return False  # attributable to no organisation: admins only
    return org_id in viewer_orgs(principal)


def require_viewer(principal: Principal) -> None:
    if not principal.is_platform_admin and not viewer_orgs(principal):
        raise Forbidden("Die Mails sehen nur Administration und Koordination einer "
                        "Organisation.", code="forbidden")


def _read(path: Path) -> EmailMessage:
    return email.message_from_bytes(  # type: ignore[return-value]
        path.read_bytes(), policy=email.policy.default)


def _mail_dir(settings: SettingsDep) -> Path:
    if not settings.dev_mail_viewer:
        raise NotFound("Nicht gefunden.")
    return settings.data_dir / "mail"


# Before the sign-in in each handler's parameters: with the viewer off the address does not
# exist (404), also for someone not signed in.
MailDir = Annotated[Path, Depends(_mail_dir)]


@router.get("", response_class=HTMLResponse)
async def mail_list(request: Request, directory: MailDir, principal: StaffUser) -> Response:
    require_viewer(principal)
    visible = [(mail_id, msg) for mail_id, msg in stored_mails(directory)
               if may_see(principal, msg)]
    mails = [_view(mail_id, msg) for mail_id, msg in visible[:500]]
    return templates.TemplateResponse(request, "pages/dev_mail_list.html",
                                      {"principal": principal, "mails": mails})


@router.get("/{mail_id}", response_class=HTMLResponse)
async def mail_detail(mail_id: str, request: Request, directory: MailDir,
                      principal: StaffUser) -> Response:
    require_viewer(principal)
    path = directory / f"{mail_id}.eml"
    if not MAIL_ID.match(mail_id) or not path.is_file():
        raise NotFound("Diese Mail gibt es nicht.", code="mail_not_found")
    msg = _read(path)
    if not may_see(principal, msg):  # like a missing one: no hint that it exists
        raise NotFound("Diese Mail gibt es nicht.", code="mail_not_found")
    response = templates.TemplateResponse(
        request, "pages/dev_mail_detail.html",
        {"principal": principal, "mail": _view(mail_id, msg)},
    )
    # The HTML part is shown in a sandboxed iframe (srcdoc): no scripts, no same origin.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "frame-src 'self'; script-src 'none'"
    )
    return response
