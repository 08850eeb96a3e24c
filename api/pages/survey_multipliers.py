"""The multiplier links of a survey (`/app/surveys/{id}/multiplikatoren`) or an event
(`/app/events/{id}/multiplikatoren`, also shown on the event's page) for staff: create a link
for a partner organisation, list them with their answer or registration counts, close one at
once, download the poster. The rules are the service's (services/surveys/multiplier.py), the
same the JSON API uses; members of the organisation see the list, coordinators change it.
One set of handlers for both targets (`_Kind`: how a target is loaded and addressed)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import SessionDep, SettingsDep
from api.pages.staff_context import StaffUser, shown_as_page, time_zone_of
from api.pages.surveys import EDITORS, parse_local
from api.routes.multiplier import pdf_download
from api.templating import templates
from infra.config import Settings
from services.errors import DomainError
from services.identity.service import Principal
from services.meetings import service as meetings
from services.models.organisation import Role
from services.surveys import multiplier
from services.surveys.multiplier import MultiplierLinkCreate, Target
from services.surveys.schemas import pick
from services.surveys.service import survey_for

router = APIRouter(include_in_schema=False)

FIELDS = {"partner": "Partnerorganisation", "gruppe": "Gruppe", "stufe": "Erreichbarkeit",
          "obergrenze": "Höchstzahl an Antworten", "beginn": "Beginn", "ende": "Ende",
          "bezeichnung": "Bezeichnung", "allgemein": "Link"}
# The schema's field names, in the form's words.
SCHEMA_FIELDS = {"partner_id": "partner", "group": "gruppe", "tier": "stufe", "cap": "obergrenze",
                 "opens_at": "beginn", "closes_at": "ende", "label": "bezeichnung"}
STATUS_LABELS = {"open": "offen", "scheduled": "geplant", "full": "voll",
                 "closed": "geschlossen"}
FLASH = {"created": "Der Link wurde angelegt.", "closed": "Der Link ist geschlossen."}


@dataclass(frozen=True)
class _Kind:
    """What differs between a survey's links and an event's: loading, addresses, words."""

    load: Callable[..., Awaitable[Target]]  # (session, principal, id, *roles)
    path: str  # "/app/surveys" or "/app/events"
    back: str  # the target's own page, after its id
    what: str  # what the link brings in ("Antworten", "Anmeldungen")
    editors: tuple[Role, ...]

    def base(self, target_id: uuid.UUID) -> str:
        return f"{self.path}/{target_id}/multiplikatoren"


SURVEY = _Kind(survey_for, "/app/surveys", "/bearbeiten", "Antworten", EDITORS)
EVENT = _Kind(meetings.meeting_for, "/app/events", "", "Anmeldungen", meetings.STAFF)


def link_context(kind: _Kind, principal: Principal, target: Target,
                 links: list[multiplier.MultiplierLinkOut], partners: list[Any], tz: ZoneInfo,
                 errors: dict[str, str] | None = None,
                 form: dict[str, str] | None = None) -> dict[str, Any]:
    """What templates/surveys/_multiplier_links.html reads (the event page includes it too)."""
    errors = errors or {}
    return {
        "links": links, "partners": partners,
        "can_edit": principal.role_in(target.organisation_id) in (*kind.editors, Role.admin),
        "errors": errors, "form": form or {},
        "labels": {**FIELDS, "obergrenze": f"Höchstzahl an {kind.what}"},
        "summary": [{"href": f"#{k}" if k != "allgemein" else "#fehler",
                     "text": f"{FIELDS.get(k, k)}: {v}"} for k, v in errors.items()],
        "status_labels": STATUS_LABELS,
        "local": lambda v: v.astimezone(tz).strftime("%d.%m.%Y, %H:%M Uhr") if v else "",
        "base": kind.base(target.id), "what": kind.what,
    }


async def links_for(session: SessionDep, target: Target, settings: Settings
                    ) -> list[multiplier.MultiplierLinkOut]:
    key = settings.resolved_secret_key()
    return [multiplier.link_out(link, target, secret_key=key, public_url=settings.public_url)
            for link in await multiplier.links_of(session, target)]



async def _page(request: Request, session: SessionDep, principal: Principal, target: Target,
                settings: Settings, *, kind: _Kind = SURVEY,
                errors: dict[str, str] | None = None,
                form: dict[str, str] | None = None, status_code: int = 200) -> Response:
    tz = await time_zone_of(session, target.organisation_id)
    title = pick(multiplier.target_title(target), "de")
    return templates.TemplateResponse(request, "surveys/multipliers.html", {
        "principal": principal, "survey": target, "title": title,
        "event": kind is EVENT, "back": f"{kind.path}/{target.id}{kind.back}",
        "flash": FLASH.get(request.query_params.get("ok", "")),
        **link_context(kind, principal, target, await links_for(session, target, settings),
                       await multiplier.partner_choices(session, target), tz, errors, form),
    }, status_code=status_code)


def _body(form: dict[str, str], tz: ZoneInfo) -> MultiplierLinkCreate:
    """The form as the API's body; field errors under the form's names."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    if not form.get("partner"):
        errors["partner"] = "Bitte wählen Sie eine Partnerorganisation."
    else:
        data["partner_id"] = form["partner"]
    for name, field in (("beginn", "opens_at"), ("ende", "closes_at")):
        if form.get(name):
            try:
                data[field] = parse_local(form[name], tz)
            except ValueError:
                errors[name] = "Bitte als Datum und Uhrzeit angeben, z. B. 01.03.2026 09:00."
    for name, field in (("gruppe", "group"), ("stufe", "tier"), ("obergrenze", "cap"),
                        ("bezeichnung", "label")):
        if form.get(name):
            data[field] = form[name]
    try:
        body = MultiplierLinkCreate.model_validate(data)
    except ValidationError as exc:
        for e in exc.errors():
            loc = [str(p) for p in e.get("loc", ())]
            name = SCHEMA_FIELDS.get(loc[0], "allgemein") if loc else "allgemein"
            errors.setdefault(name, "ungültige Angabe" if name != "allgemein"
                              else "Das Ende liegt nicht nach dem Beginn.")
        raise _FormInvalid(errors) from None
    if errors:
        raise _FormInvalid(errors)
    return body


class _FormInvalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


async def _show(kind: _Kind, target_id: uuid.UUID, request: Request, session: SessionDep,
                principal: Principal, settings: Settings) -> Response:
    with shown_as_page(principal):
        target = await kind.load(session, principal, target_id)
    return await _page(request, session, principal, target, settings, kind=kind)


async def _create(kind: _Kind, target_id: uuid.UUID, request: Request, session: SessionDep,
                  principal: Principal, settings: Settings) -> Response:
    with shown_as_page(principal):
        target = await kind.load(session, principal, target_id, *kind.editors)
    raw = await request.form()
    form = {k: str(raw.get(k) or "").strip()[:300] for k in FIELDS}
    try:
        body = _body(form, await time_zone_of(session, target.organisation_id))
        await multiplier.create_link(session, target, body,
                                     secret_key=settings.resolved_secret_key(),
                                     actor=principal.email)
    except _FormInvalid as exc:
        return await _page(request, session, principal, target, settings, kind=kind,
                           errors=exc.errors, form=form, status_code=422)
    except DomainError as exc:
        await session.rollback()
        field = {"unknown_partner": "partner", "partner_not_organisation": "partner",
                 "unknown_group": "gruppe"}.get(
            exc.code or "", "allgemein")
        return await _page(request, session, principal, target, settings, kind=kind,
                           errors={field: exc.message}, form=form,
                           status_code=exc.status_code)
    return RedirectResponse(f"{kind.base(target.id)}?ok=created#links", status_code=303)


async def _close(kind: _Kind, target_id: uuid.UUID, link_id: uuid.UUID,
                 session: SessionDep, principal: Principal) -> Response:
    with shown_as_page(principal):
        target = await kind.load(session, principal, target_id, *kind.editors)
        await multiplier.close_link(session, target, link_id, actor=principal.email)
    return RedirectResponse(f"{kind.base(target.id)}?ok=closed#links", status_code=303)


async def _document(kind: _Kind, target_id: uuid.UUID, link_id: uuid.UUID, request: Request,
                    session: SessionDep, principal: Principal, settings: Settings) -> Response:
    """The poster (A4) and the flyer (A6): one handler, the address says which."""
    flyer = request.url.path.endswith("/flyer.pdf")
    with shown_as_page(principal):
        target = await kind.load(session, principal, target_id)
        link = await multiplier.link_of(session, target, link_id)
    return pdf_download(await multiplier.poster(
        session, target, link, secret_key=settings.resolved_secret_key(),
        public_url=settings.public_url, flyer=flyer), link.id, flyer=flyer)


# The routes of both targets: the same handlers.
@router.get("/app/surveys/{survey_id}/multiplikatoren", response_class=HTMLResponse)
async def links_page(survey_id: uuid.UUID, request: Request, session: SessionDep,
                     principal: StaffUser, settings: SettingsDep) -> Response:
    return await _show(SURVEY, survey_id, request, session, principal, settings)


@router.get("/app/events/{meeting_id}/multiplikatoren", response_class=HTMLResponse)
async def event_links_page(meeting_id: uuid.UUID, request: Request, session: SessionDep,
                           principal: StaffUser, settings: SettingsDep) -> Response:
    return await _show(EVENT, meeting_id, request, session, principal, settings)


@router.post("/app/surveys/{survey_id}/multiplikatoren", response_class=HTMLResponse)
async def create_post(survey_id: uuid.UUID, request: Request, session: SessionDep,
                      principal: StaffUser, settings: SettingsDep) -> Response:
    return await _create(SURVEY, survey_id, request, session, principal, settings)


@router.post("/app/events/{meeting_id}/multiplikatoren", response_class=HTMLResponse)
async def event_create_post(meeting_id: uuid.UUID, request: Request, session: SessionDep,
                            principal: StaffUser, settings: SettingsDep) -> Response:
    return await _create(EVENT, meeting_id, request, session, principal, settings)


@router.post("/app/surveys/{survey_id}/multiplikatoren/{link_id}/schliessen",
             response_class=HTMLResponse)
async def close_post(survey_id: uuid.UUID, link_id: uuid.UUID, request: Request,
                     session: SessionDep, principal: StaffUser) -> Response:
    return await _close(SURVEY, survey_id, link_id, session, principal)


@router.post("/app/events/{meeting_id}/multiplikatoren/{link_id}/schliessen",
             response_class=HTMLResponse)
async def event_close_post(meeting_id: uuid.UUID, link_id: uuid.UUID, request: Request,
                           session: SessionDep, principal: StaffUser) -> Response:
    return await _close(EVENT, meeting_id, link_id, session, principal)


@router.get("/app/surveys/{survey_id}/multiplikatoren/{link_id}/plakat.pdf")
@router.get("/app/surveys/{survey_id}/multiplikatoren/{link_id}/flyer.pdf")
async def document(survey_id: uuid.UUID, link_id: uuid.UUID, request: Request,
                   session: SessionDep, principal: StaffUser,
                   settings: SettingsDep) -> Response:
    return await _document(SURVEY, survey_id, link_id, request, session, principal, settings)


@router.get("/app/events/{meeting_id}/multiplikatoren/{link_id}/plakat.pdf")
@router.get("/app/events/{meeting_id}/multiplikatoren/{link_id}/flyer.pdf")
async def event_document(meeting_id: uuid.UUID, link_id: uuid.UUID, request: Request,
                         session: SessionDep, principal: StaffUser,
                         settings: SettingsDep) -> Response:
    return await _document(EVENT, meeting_id, link_id, request, session, principal, settings)
