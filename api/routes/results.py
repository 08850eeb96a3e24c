"""Survey results for staff: JSON, CSV and XLSX (organisation-scoped, 404 for other orgs)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import CurrentUser, SessionDep
from services.identity.service import Principal
from services.models.organisation import Role
from services.models.survey import Survey
from services.surveys.export import to_csv, to_xlsx
from services.surveys.results import SurveyResults, compute_results
from services.surveys.service import survey_for

router = APIRouter(prefix="/api/v1/surveys", tags=["results"])

# Who may read results: everyone who steers or runs the process (not the council's clerk).
RESULT_ROLES = (Role.coordinator, Role.steering)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _readable_survey(session: AsyncSession, principal: Principal,
                           survey_id: uuid.UUID) -> Survey:
    """The survey, if the caller may read its results (404 for other organisations)."""
    return await survey_for(session, principal, survey_id, *RESULT_ROLES)


async def _download(session: AsyncSession, principal: Principal, survey_id: uuid.UUID,
                    render: Callable[[SurveyResults], bytes], media_type: str,
                    extension: str) -> Response:
    """A full export (no text limit) as an attachment; CSV and XLSX differ only in format."""
    survey = await _readable_survey(session, principal, survey_id)
    data = render(await compute_results(session, survey, text_limit=None))
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="ergebnisse-{survey_id}.{extension}"'})


@router.get("/{survey_id}/results")
async def results(survey_id: uuid.UUID, session: SessionDep,
                  principal: CurrentUser) -> dict[str, Any]:
    survey = await _readable_survey(session, principal, survey_id)
    return (await compute_results(session, survey)).as_dict()


@router.get("/{survey_id}/results.csv")
async def results_csv(survey_id: uuid.UUID, session: SessionDep,
                      principal: CurrentUser) -> Response:
    return await _download(session, principal, survey_id, to_csv,
                           "text/csv; charset=utf-8", "csv")


@router.get("/{survey_id}/results.xlsx")
async def results_xlsx(survey_id: uuid.UUID, session: SessionDep,
                       principal: CurrentUser) -> Response:
    return await _download(session, principal, survey_id, to_xlsx, XLSX, "xlsx")
