"""Surveys of a process (coordinators define them; members of the organisation read them)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response, status

from api.deps import CurrentUser, SessionDep
from services.errors import ValidationFailed
from services.models.organisation import Role
from services.processes.service import process_for
from services.surveys import service
from services.surveys.schemas import SurveyCreate, SurveyDefinition, SurveyOut
from services.template_store.schemas import TemplateOut
from services.template_store.service import visible_templates

router = APIRouter(prefix="/api/v1", tags=["surveys"])


@router.get("/survey-templates", response_model=list[TemplateOut])
async def list_templates(session: SessionDep, principal: CurrentUser) -> list[TemplateOut]:
    """Shipped, platform-shared and the own organisations' survey templates."""
    entries = await visible_templates(session, principal.organisation_ids, "survey")
    return [TemplateOut.of(e) for e in entries]


@router.post("/processes/{process_id}/surveys", response_model=SurveyOut,
             status_code=status.HTTP_201_CREATED)
async def create(process_id: uuid.UUID, body: SurveyCreate, session: SessionDep,
                 principal: CurrentUser) -> SurveyOut:
    await process_for(session, principal, process_id, Role.coordinator)
    survey = await service.create_survey(session, process_id, body, actor=principal.email)
    return await service.survey_out(session, survey)


@router.get("/processes/{process_id}/surveys", response_model=list[SurveyOut])
async def list_for_process(process_id: uuid.UUID, session: SessionDep,
                           principal: CurrentUser) -> list[SurveyOut]:
    await process_for(session, principal, process_id)
    return await service.surveys_of_process(session, process_id)


@router.get("/surveys/{survey_id}", response_model=SurveyOut)
async def read(survey_id: uuid.UUID, session: SessionDep, principal: CurrentUser) -> SurveyOut:
    survey = await service.survey_for(session, principal, survey_id)
    return await service.survey_out(session, survey)


@router.get("/surveys/{survey_id}/translations")
async def translations(survey_id: uuid.UUID, session: SessionDep,
                       principal: CurrentUser) -> dict[str, Any]:
    """Per participant language, the survey's texts that are missing and shown in German."""
    survey = await service.survey_for(session, principal, survey_id)
    return await service.survey_translations(session, survey)


@router.put("/surveys/{survey_id}/questions", response_model=SurveyOut,
            responses={201: {"description": "the survey had answers: a new version"}})
async def change_questions(survey_id: uuid.UUID, body: SurveyDefinition, response: Response,
                           session: SessionDep, principal: CurrentUser) -> SurveyOut:
    """Change the questions; a survey with answers keeps them and gets a new version (201)."""
    survey = await service.survey_for(session, principal, survey_id, Role.coordinator)
    if body.allow_edits and body.anonymity == "anonymous":
        raise ValidationFailed("Anonyme Antworten können nicht geändert werden.")
    result = await service.change_questions(session, survey, body, actor=principal.email)
    if result.id != survey.id:
        response.status_code = status.HTTP_201_CREATED
    return await service.survey_out(session, result)


@router.post("/surveys/{survey_id}/open", response_model=SurveyOut)
async def open_now(survey_id: uuid.UUID, session: SessionDep,
                   principal: CurrentUser) -> SurveyOut:
    """Open the survey now (opens_at = now; a closed survey opens again). 409 if open."""
    survey = await service.survey_for(session, principal, survey_id, Role.coordinator)
    await service.open_survey(session, survey, actor=principal.email)
    return await service.survey_out(session, survey)


@router.post("/surveys/{survey_id}/close", response_model=SurveyOut)
async def close_now(survey_id: uuid.UUID, session: SessionDep,
                    principal: CurrentUser) -> SurveyOut:
    """Close the survey now (closes_at = now). 409 if closed already."""
    survey = await service.survey_for(session, principal, survey_id, Role.coordinator)
    await service.close_survey(session, survey, actor=principal.email)
    return await service.survey_out(session, survey)
