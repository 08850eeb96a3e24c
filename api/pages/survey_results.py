"""Coordinators' pages: the surveys of their organisations and each survey's results."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import select

from api.deps import SessionDep
from api.pages import ORG_LINKS, NavLink
from api.pages.staff_context import StaffUser
from api.routes.results import RADAR_TITLE, RESPONSE_ROLES, RESULT_ROLES
from api.templating import templates
from services.errors import NotFound
from services.identity.service import OrgRole, organisation_time_zone
from services.models.organisation import Role
from services.models.process import Process
from services.models.survey import Survey
from services.stakeholders.service import list_groups
from services.surveys.export import table_keys
from services.surveys.radar import radar_svg
from services.surveys.results import compute_results
from services.surveys.schemas import pick
from services.surveys.service import survey_for, survey_status
from services.surveys.suppression import MIN_GROUP, shown_count

router = APIRouter(include_in_schema=False)

def _links(org: OrgRole) -> list[NavLink]:
    if org.role in (*RESULT_ROLES, Role.admin):
        return [NavLink(f"/app/surveys?org={org.slug}", "Umfragen und Ergebnisse")]
    return []


ORG_LINKS.append(_links)


@router.get("/app/surveys", response_class=HTMLResponse)
async def survey_list(request: Request, session: SessionDep, principal: StaffUser,
                      org: str | None = None) -> Response:
    org_ids = [o.organisation_id for o in principal.orgs.values()
               if (org is None or o.slug == org) and (o.role in RESULT_ROLES
                                                      or o.role == Role.admin)]
    surveys = list(await session.scalars(
        select(Survey).where(Survey.organisation_id.in_(org_ids))
        .order_by(Survey.created_at.desc()).limit(500))) if org_ids else []
    return templates.TemplateResponse(request, "surveys/list.html", {
        "principal": principal, "surveys": surveys, "pick": pick, "status": survey_status})


@router.get("/app/surveys/{survey_id}/results", response_class=HTMLResponse)
async def results_page(survey_id: uuid.UUID, request: Request, session: SessionDep,
                       principal: StaffUser) -> Response:
    try:
        survey = await survey_for(session, principal, survey_id, *RESULT_ROLES)
    except NotFound:
        return templates.TemplateResponse(
            request, "surveys/not_found.html", {"principal": principal}, status_code=404)
    results = await compute_results(session, survey)
    groups = await list_groups(session, survey.organisation_id)
    chart = Markup(radar_svg(results.blocks, title=RADAR_TITLE))
    role = principal.orgs[survey.organisation_id].role
    # The breadcrumb names the process (not a generic "Prozess"), as its other pages do.
    process = await session.get(Process, survey.process_id) if survey.process_id else None
    return templates.TemplateResponse(request, "surveys/results.html", {
        "principal": principal, "survey": survey, "r": results, "chart": chart,
        "process_title": process.title if process else None,
        "tables": table_keys(results),
        "responses_export": role in (*RESPONSE_ROLES, Role.admin),
        "min_group": MIN_GROUP, "shown": shown_count, "status": survey_status(survey),
        # Groups by their titles, times in the organisation's zone (api/presentation.py).
        "group_titles": {g.key: g.label for g in groups},
        "time_zone": await organisation_time_zone(session, survey.organisation_id),
    })
