"""Assisted entry (services/surveys/assisted.py): staff enter an interview's or a paper
form's answers. Admins, coordinators and interviewers of the survey's organisation; another
organisation's survey is a 404."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from api.deps import CurrentUser, SessionDep
from services.surveys import assisted
from services.surveys.assisted import AssistedEntry, AssistedOut
from services.surveys.service import survey_for

router = APIRouter(prefix="/api/v1/surveys/{survey_id}/assisted-responses",
                   tags=["assisted entry"])


@router.post("", response_model=AssistedOut, status_code=status.HTTP_201_CREATED)
async def enter(survey_id: uuid.UUID, body: AssistedEntry, session: SessionDep,
                principal: CurrentUser) -> AssistedOut:
    """One answer entered on someone's behalf: `channel` interview (consent required) or
    paper (`form_number` of an anonymous form, or `code` / `token` of a personal one). 422
    naming the field, 409 for a form entered already, 410 after the survey's close."""
    survey = await survey_for(session, principal, survey_id, *assisted.ENTRY_ROLES)
    return await assisted.enter(session, survey, body, user_id=principal.user_id)
