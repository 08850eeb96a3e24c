"""Survey results for staff: JSON, CSV (one table, or all in a ZIP), XLSX, the radar chart as
SVG and PNG, and the individual responses (organisation-scoped, 404 for other orgs).

Aggregates are for everyone who steers or runs the process; the individual responses only for
the organisation's coordinators and admins (not the steering group or the council's clerk)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import CurrentUser, SessionDep
from services.errors import NotFound, ValidationFailed
from services.identity.service import Principal
from services.models.organisation import Role
from services.models.survey import Survey
from services.surveys.export import (
    responses_csv,
    responses_xlsx,
    table_keys,
    to_csv,
    to_xlsx,
    to_zip,
)
from services.surveys.radar import radar_png, radar_svg
from services.surveys.results import SurveyResults, compute_results, individual_responses
from services.surveys.service import survey_for

router = APIRouter(prefix="/api/v1/surveys", tags=["results"])

# Who may read results: everyone who steers or runs the process (not the council's clerk).
RESULT_ROLES = (Role.coordinator, Role.steering)
# Who may read the individual responses (admins always pass `Principal.require`).
RESPONSE_ROLES = (Role.coordinator,)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
RADAR_TITLE = "Punktzahl je Handlungsfeld (0–100 %)"


async def _readable_survey(session: AsyncSession, principal: Principal,
                           survey_id: uuid.UUID) -> Survey:
    """The survey, if the caller may read its results (404 for other organisations)."""
    return await survey_for(session, principal, survey_id, *RESULT_ROLES)


def _attachment(data: bytes, media_type: str, filename: str) -> Response:
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


async def _full_results(session: AsyncSession, principal: Principal,
                        survey_id: uuid.UUID) -> SurveyResults:
    """A full export's results (no text limit)."""
    survey = await _readable_survey(session, principal, survey_id)
    return await compute_results(session, survey, text_limit=None)


@router.get("/{survey_id}/results")
async def results(survey_id: uuid.UUID, session: SessionDep,
                  principal: CurrentUser) -> dict[str, Any]:
    survey = await _readable_survey(session, principal, survey_id)
    return (await compute_results(session, survey)).as_dict()


@router.get("/{survey_id}/results.csv")
async def results_csv(survey_id: uuid.UUID, session: SessionDep, principal: CurrentUser,
                      tabelle: Annotated[str, Query(max_length=40)] = "ergebnisse"
                      ) -> Response:
    """One table as CSV for German Excel: `tabelle` = ergebnisse, handlungsfelder (surveys
    with scored fields) or erreichbarkeit; all of them at once: results.zip."""
    r = await _full_results(session, principal, survey_id)
    keys = table_keys(r)
    if tabelle not in keys:
        raise ValidationFailed(
            "Diese Tabelle gibt es für diese Umfrage nicht.", code="unknown_table",
            details=[{"field": "tabelle", "message": f"erlaubt: {', '.join(keys)}",
                      "allowed": keys}])
    return _attachment(to_csv(r, tabelle), CSV, f"{tabelle}-{survey_id}.csv")


@router.get("/{survey_id}/results.zip")
async def results_zip(survey_id: uuid.UUID, session: SessionDep,
                      principal: CurrentUser) -> Response:
    r = await _full_results(session, principal, survey_id)
    return _attachment(to_zip(r), "application/zip", f"ergebnisse-{survey_id}.zip")


@router.get("/{survey_id}/results.xlsx")
async def results_xlsx(survey_id: uuid.UUID, session: SessionDep,
                       principal: CurrentUser) -> Response:
    r = await _full_results(session, principal, survey_id)
    return _attachment(to_xlsx(r), XLSX, f"ergebnisse-{survey_id}.xlsx")


async def _radar_blocks(session: AsyncSession, principal: Principal,
                        survey_id: uuid.UUID) -> list[dict[str, Any]]:
    survey = await _readable_survey(session, principal, survey_id)
    blocks = (await compute_results(session, survey, text_limit=0)).blocks
    if len(blocks) < 3:
        raise NotFound("Diese Umfrage hat keine Handlungsfelder für ein Netzdiagramm.",
                       code="no_radar")
    return blocks


@router.get("/{survey_id}/radar.svg")
async def radar_as_svg(survey_id: uuid.UUID, session: SessionDep,
                       principal: CurrentUser) -> Response:
    svg = radar_svg(await _radar_blocks(session, principal, survey_id), title=RADAR_TITLE)
    return _attachment(svg.encode("utf-8"), "image/svg+xml", f"netzdiagramm-{survey_id}.svg")


@router.get("/{survey_id}/radar.png")
async def radar_as_png(survey_id: uuid.UUID, session: SessionDep,
                       principal: CurrentUser) -> Response:
    png = radar_png(await _radar_blocks(session, principal, survey_id))
    return _attachment(png, "image/png", f"netzdiagramm-{survey_id}.png")


async def _responses(session: AsyncSession, principal: Principal, survey_id: uuid.UUID,
                     ) -> Any:
    survey = await survey_for(session, principal, survey_id, *RESPONSE_ROLES)
    return await individual_responses(session, survey)


@router.get("/{survey_id}/responses.csv")
async def responses_as_csv(survey_id: uuid.UUID, session: SessionDep,
                           principal: CurrentUser) -> Response:
    data = await _responses(session, principal, survey_id)
    return _attachment(responses_csv(data), CSV, f"einzelantworten-{survey_id}.csv")


@router.get("/{survey_id}/responses.xlsx")
async def responses_as_xlsx(survey_id: uuid.UUID, session: SessionDep,
                            principal: CurrentUser) -> Response:
    data = await _responses(session, principal, survey_id)
    return _attachment(responses_xlsx(data), XLSX, f"einzelantworten-{survey_id}.xlsx")
