"""The staff's entry page (`/app/surveys/{id}/erfassen`): an interview's or a paper form's
answers keyed in on a tablet, on someone's behalf. The rules are the service's (services/
surveys/assisted.py), the same the JSON API uses; the questions are rendered as the
participant form renders them (participation/_questions.html). Works without JavaScript:
POST, then a redirect to an empty form with the confirmation (POST-redirect-GET, so a reload
never enters an answer twice); a refused entry shows the form again with the errors and what
was entered.

Admins, coordinators and interviewers of the survey's organisation enter; coordinators (and
admins) also see how many answers each colleague entered. An interviewer reaches the page
from the organisation's overview (`/app/orgs/{slug}/erfassen`, the open surveys)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.deps import SessionDep
from api.pages import ORG_LINKS, NavLink
from api.pages.participation import answers_from_form, question_parts
from api.pages.staff_context import StaffUser, org_for, shown_as_page
from api.presentation import tier_title
from api.templating import templates
from services import i18n
from services.errors import DomainError
from services.identity.service import OrgRole, Principal
from services.models.organisation import Role
from services.models.survey import Survey
from services.stakeholders.service import list_groups
from services.surveys import assisted
from services.surveys.assisted import CHANNEL_LABELS, ENTRY_ROLES, AssistedEntry
from services.surveys.schemas import DONT_KNOW, pick
from services.surveys.service import survey_for, survey_status

router = APIRouter(include_in_schema=False)

# The form's fields (ids and names), in the order of the page.
FIELDS = {"kanal": "Art der Erfassung", "bogennummer": "Bogennummer",
          "code": "Code oder Link des persönlichen Bogens", "einwilligung": "Einwilligung",
          "gruppe": "Gruppe", "stufe": "Erreichbarkeit", "sprache": "Sprache",
          "allgemein": "Erfassung"}
# The API's field names, in the form's words.
API_FIELDS = {"channel": "kanal", "form_number": "bogennummer", "code": "code",
              "token": "code", "consent": "einwilligung", "group": "gruppe", "tier": "stufe",
              "language": "sprache"}
# Refusals that concern the form's reference (number or code), shown next to that field.
REFERENCE_CODES = {"form_already_entered": "bogennummer", "form_number_unknown": "bogennummer",
                   "sheet_already_entered": "code", "sheet_unknown": "code",
                   "sheet_other_survey": "code"}
COUNT_ROLES = (Role.coordinator, Role.admin)


def _base(survey_id: uuid.UUID) -> str:
    return f"/app/surveys/{survey_id}/erfassen"


def _links(org: OrgRole) -> list[NavLink]:
    if org.role == Role.interviewer:
        return [NavLink(f"/app/orgs/{org.slug}/erfassen", "Interviews und Papierbögen erfassen")]
    return []


ORG_LINKS.append(_links)


async def _page(request: Request, session: SessionDep, principal: Principal, survey: Survey,
                *, values: dict[str, Any] | None = None, form: dict[str, str] | None = None,
                field_errors: dict[str, str] | None = None,
                answer_errors: list[dict[str, Any]] | None = None,
                status_code: int = 200) -> Response:
    p = await assisted.staff_participation(session, survey)
    field_errors = field_errors or {}
    parts = question_parts(p, values or {}, answer_errors or [])
    summary = [{"href": f"#{k}" if k != "allgemein" else "#fehler",
                "text": f"{FIELDS.get(k, k)}: {v}"} for k, v in field_errors.items()]
    summary += parts["summary"]
    role = principal.role_in(survey.organisation_id)
    ok = request.query_params.get("ok", "")
    form = form or {"kanal": request.query_params.get("kanal", "interview")}
    return templates.TemplateResponse(request, "surveys/entry.html", {
        "principal": principal, "survey": survey, "title": pick(survey.title, "de"),
        "status": survey_status(survey), "anonymous": survey.anonymity == "anonymous",
        "form": form, "labels": FIELDS, "field_errors": field_errors,
        # The question macros read `errors`, `t` and `dont_know_value` (the participant's).
        "errors": {**parts["errors"], **field_errors}, "t": i18n.texts("de", "survey"),
        "dont_know_value": DONT_KNOW, "questions": parts["questions"],
        "sections": parts["sections"], "summary": summary,
        "saved": CHANNEL_LABELS.get(ok), "base": _base(survey.id),
        "groups": await list_groups(session, survey.organisation_id),
        "tiers": [(t, tier_title(t)) for t in (1, 2, 3)],
        "language_names": list(i18n.GERMAN_NAMES.items()),
        "counts": (await assisted.entry_counts(session, survey)
                   if role in COUNT_ROLES else None),
        "channel_labels": CHANNEL_LABELS,
    }, status_code=status_code)


@router.get("/app/surveys/{survey_id}/erfassen", response_class=HTMLResponse)
async def entry_page(survey_id: uuid.UUID, request: Request, session: SessionDep,
                     principal: StaffUser) -> Response:
    with shown_as_page(principal):
        survey = await survey_for(session, principal, survey_id, *ENTRY_ROLES)
    return await _page(request, session, principal, survey)


def _text(raw: FormData, name: str, limit: int = 300) -> str:
    value = raw.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _body(form: dict[str, str], answers: dict[str, Any]) -> AssistedEntry:
    """The form as the API's body; field errors under the form's names."""
    data: dict[str, Any] = {"channel": form["kanal"] or None, "answers": answers,
                            "consent": form["einwilligung"] == "ja"}
    for name, field in (("gruppe", "group"), ("stufe", "tier"), ("sprache", "language"),
                        ("bogennummer", "form_number"), ("code", "code")):
        if form[name]:
            data[field] = form[name]
    if data["channel"] != "paper":  # the paper fields stay on the page, unused
        data.pop("form_number", None)
        data.pop("code", None)
    try:
        return AssistedEntry.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for e in exc.errors():
            loc = [str(p) for p in e.get("loc", ())]
            name = API_FIELDS.get(loc[0], "allgemein") if loc else "allgemein"
            errors.setdefault(name, {"kanal": "Bitte wählen Sie Interview oder Papierbogen.",
                                     "bogennummer": "Bitte eine ganze Zahl ab 1 angeben."}
                              .get(name, "ungültige Angabe"))
        raise _FormInvalid(errors) from None


class _FormInvalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


@router.post("/app/surveys/{survey_id}/erfassen", response_class=HTMLResponse)
async def entry_post(survey_id: uuid.UUID, request: Request, session: SessionDep,
                     principal: StaffUser) -> Response:
    with shown_as_page(principal):
        survey = await survey_for(session, principal, survey_id, *ENTRY_ROLES)
    raw = await request.form()
    form = {k: _text(raw, k) for k in FIELDS if k != "allgemein"}
    p = await assisted.staff_participation(session, survey)
    answers, values = answers_from_form(p, raw)
    try:
        body = _body(form, answers)
        await assisted.enter(session, survey, body, user_id=principal.user_id,
                             now=datetime.now(UTC))
    except _FormInvalid as exc:
        return await _page(request, session, principal, survey, values=values, form=form,
                           field_errors=exc.errors, status_code=422)
    except DomainError as exc:
        # Nothing was written before a refusal; the rollback keeps it that way.
        await session.rollback()
        survey = await survey_for(session, principal, survey_id, *ENTRY_ROLES)
        details = exc.details if isinstance(exc.details, list) else []
        answer_errors = [d for d in details if d.get("field") not in API_FIELDS]
        field_errors = {API_FIELDS[d["field"]]: d["message"] for d in details
                        if d.get("field") in API_FIELDS}
        if not field_errors and not answer_errors or exc.code in REFERENCE_CODES:
            field_errors = {REFERENCE_CODES.get(exc.code or "", "allgemein"): exc.message}
        return await _page(request, session, principal, survey, values=values, form=form,
                           field_errors=field_errors, answer_errors=answer_errors,
                           status_code=exc.status_code)
    return RedirectResponse(f"{_base(survey.id)}?ok={body.channel}&kanal={body.channel}"
                            "#meldung", status_code=303)


@router.get("/app/orgs/{slug}/erfassen", response_class=HTMLResponse)
async def open_surveys(slug: str, request: Request, session: SessionDep,
                       principal: StaffUser) -> Response:
    """The organisation's open surveys, each with its entry page (the interviewer's start)."""
    with shown_as_page(principal):
        org = await org_for(session, principal, slug, *ENTRY_ROLES)
    surveys = await assisted.open_surveys(session, org.id)
    return templates.TemplateResponse(request, "surveys/entry_list.html", {
        "principal": principal, "org": org, "surveys": surveys, "pick": pick})
