"""The survey's multiplier links for staff (`/app/surveys/{id}/multiplikatoren`): create a link
for a partner organisation, list them with their answer counts, close one at once, download
the poster. The rules are the service's (services/surveys/multiplier.py), the same the JSON API
uses; members of the organisation see the list, coordinators change it."""

from __future__ import annotations

import uuid
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
from services.models.organisation import Role
from services.models.survey import Survey
from services.surveys import multiplier
from services.surveys.multiplier import MultiplierLinkCreate
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


def _base(survey_id: uuid.UUID) -> str:
    return f"/app/surveys/{survey_id}/multiplikatoren"



async def _page(request: Request, session: SessionDep, principal: Principal, survey: Survey,
                settings: Settings, *, errors: dict[str, str] | None = None,
                form: dict[str, str] | None = None, status_code: int = 200) -> Response:
    tz = await time_zone_of(session, survey.organisation_id)
    key = settings.resolved_secret_key()
    links = [multiplier.link_out(link, survey, secret_key=key, public_url=settings.public_url)
             for link in await multiplier.links_of(session, survey)]
    errors = errors or {}
    return templates.TemplateResponse(request, "surveys/multipliers.html", {
        "principal": principal, "survey": survey, "title": pick(survey.title, "de"),
        "links": links, "partners": await multiplier.partner_choices(session, survey),
        "can_edit": principal.role_in(survey.organisation_id) in (*EDITORS, Role.admin),
        "errors": errors, "form": form or {}, "labels": FIELDS,
        "summary": [{"href": f"#{k}" if k != "allgemein" else "#fehler",
                     "text": f"{FIELDS.get(k, k)}: {v}"} for k, v in errors.items()],
        "status_labels": STATUS_LABELS, "flash": FLASH.get(request.query_params.get("ok", "")),
        "local": lambda v: v.astimezone(tz).strftime("%d.%m.%Y, %H:%M Uhr") if v else "",
        "base": _base(survey.id),
    }, status_code=status_code)


@router.get("/app/surveys/{survey_id}/multiplikatoren", response_class=HTMLResponse)
async def links_page(survey_id: uuid.UUID, request: Request, session: SessionDep,
                     principal: StaffUser, settings: SettingsDep) -> Response:
    with shown_as_page(principal):
        survey = await survey_for(session, principal, survey_id)
    return await _page(request, session, principal, survey, settings)


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


@router.post("/app/surveys/{survey_id}/multiplikatoren", response_class=HTMLResponse)
async def create_post(survey_id: uuid.UUID, request: Request, session: SessionDep,
                      principal: StaffUser, settings: SettingsDep) -> Response:
    with shown_as_page(principal):
        survey = await survey_for(session, principal, survey_id, *EDITORS)
    raw = await request.form()
    form = {k: str(raw.get(k) or "").strip()[:300] for k in FIELDS}
    try:
        body = _body(form, await time_zone_of(session, survey.organisation_id))
        await multiplier.create_link(session, survey, body,
                                     secret_key=settings.resolved_secret_key(),
                                     actor=principal.email)
    except _FormInvalid as exc:
        return await _page(request, session, principal, survey, settings, errors=exc.errors,
                           form=form, status_code=422)
    except DomainError as exc:
        await session.rollback()
        field = {"unknown_partner": "partner", "partner_not_organisation": "partner",
                 "unknown_group": "gruppe"}.get(
            exc.code or "", "allgemein")
        return await _page(request, session, principal, survey, settings,
                           errors={field: exc.message}, form=form,
                           status_code=exc.status_code)
    return RedirectResponse(f"{_base(survey.id)}?ok=created#links", status_code=303)


@router.post("/app/surveys/{survey_id}/multiplikatoren/{link_id}/schliessen",
             response_class=HTMLResponse)
async def close_post(survey_id: uuid.UUID, link_id: uuid.UUID, request: Request,
                     session: SessionDep, principal: StaffUser,
                     settings: SettingsDep) -> Response:
    with shown_as_page(principal):
        survey = await survey_for(session, principal, survey_id, *EDITORS)
        await multiplier.close_link(session, survey, link_id, actor=principal.email)
    return RedirectResponse(f"{_base(survey.id)}?ok=closed#links", status_code=303)


# The poster (A4) and the flyer (A6): one handler, the address says which.
@router.get("/app/surveys/{survey_id}/multiplikatoren/{link_id}/plakat.pdf")
@router.get("/app/surveys/{survey_id}/multiplikatoren/{link_id}/flyer.pdf")
async def document(survey_id: uuid.UUID, link_id: uuid.UUID, request: Request,
                   session: SessionDep, principal: StaffUser,
                   settings: SettingsDep) -> Response:
    flyer = request.url.path.endswith("/flyer.pdf")
    with shown_as_page(principal):
        survey = await survey_for(session, principal, survey_id)
        link = await multiplier.link_of(session, survey, link_id)
    return pdf_download(await multiplier.poster(
        session, survey, link, secret_key=settings.resolved_secret_key(),
        public_url=settings.public_url, flyer=flyer), link.id, flyer=flyer)
