"""Survey results for staff: JSON, CSV and XLSX (organisation-scoped, 404 for other orgs)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response

from api.deps import CurrentUser, SessionDep
from services.models.organisation import Role
from services.surveys.export import to_csv, to_xlsx
from services.surveys.results import compute_results
from services.surveys.service import get_survey

router = APIRouter(prefix="/api/v1/surveys", tags=["results"])

# Who may read results: everyone who steers or runs the process (not the council's clerk).
RESULT_ROLES = (Role.coordinator, Role.steering)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/{survey_id}/results")
async def results(survey_id: uuid.UUID, session: SessionDep,
                  principal: CurrentUser) -> dict[str, Any]:
    survey = await get_survey(session, survey_id)
    principal.require(survey.organisation_id, *RESULT_ROLES)
    return (await compute_results(session, survey)).as_dict()


@router.get("/{survey_id}/results.csv")
async def results_csv(survey_id: uuid.UUID, session: SessionDep,
                      principal: CurrentUser) -> Response:
    survey = await get_survey(session, survey_id)
    principal.require(survey.organisation_id, *RESULT_ROLES)
    data = to_csv(await compute_results(session, survey, text_limit=None))
    return Response(data, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="ergebnisse-{survey_id}.csv"'})


@router.get("/{survey_id}/results.xlsx")
async def results_xlsx(survey_id: uuid.UUID, session: SessionDep,
                       principal: CurrentUser) -> Response:
    survey = await get_survey(session, survey_id)
    principal.require(survey.organisation_id, *RESULT_ROLES)
    data = to_xlsx(await compute_results(session, survey, text_limit=None))
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="ergebnisse-{survey_id}.xlsx"'})
