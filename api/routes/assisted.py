"""Assisted entry (services/surveys/assisted.py): staff enter an interview's or a paper
form's answers. Admins, coordinators and interviewers of the survey's organisation; another
organisation's survey is a 404."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.deps import CurrentUser, SessionDep, SettingsDep
from services.models.organisation import Role
from services.surveys import assisted, paper_print
from services.surveys.assisted import AssistedEntry, AssistedOut
from services.surveys.paper import paper_language
from services.surveys.service import survey_for


def pdf_attachment(run: paper_print.PrintRun) -> Response:
    return Response(run.pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{run.filename}"',
        "X-Print-Part": str(run.part), "X-Print-Parts": str(run.parts)})

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


class PaperFormsIn(BaseModel):
    """A print run: `numbered` (anonymous forms with fresh numbers, `count` of them) or
    `personal` (a survey campaign's open invitations, `part` by part)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["numbered", "personal"]
    language: str = "de"
    count: int | None = Field(default=None, ge=1, le=paper_print.PRINT_LIMIT)
    campaign_id: uuid.UUID | None = None
    part: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _what(self) -> PaperFormsIn:
        if self.kind == "numbered" and self.count is None:
            raise ValueError("count fehlt (Anzahl der Bögen)")
        if self.kind == "personal" and self.campaign_id is None:
            raise ValueError("campaign_id fehlt (die Einladung, deren Bögen gedruckt werden)")
        return self


paper_router = APIRouter(prefix="/api/v1/surveys/{survey_id}/paper-forms",
                         tags=["assisted entry"])


@paper_router.post("", response_class=Response,
                   responses={200: {"content": {"application/pdf": {}}}})
async def paper_forms(survey_id: uuid.UUID, body: PaperFormsIn, session: SessionDep,
                      principal: CurrentUser, settings: SettingsDep) -> Response:
    """The PDF of a print run. Numbered forms: admins, coordinators, interviewers (their
    numbers are issued with this request). Personal forms carry participant links, so only
    admins and coordinators. `X-Print-Part` / `X-Print-Parts` say where a campaign's run is."""
    roles = assisted.ENTRY_ROLES if body.kind == "numbered" else (Role.coordinator,)
    survey = await survey_for(session, principal, survey_id, *roles)
    run = await paper_print.print_run(
        session, survey, kind=body.kind, language=paper_language(body.language, field="language"),
        count=body.count or 0, campaign_id=body.campaign_id, part=body.part,
        secret_key=settings.resolved_secret_key(), public_url=settings.public_url)
    return pdf_attachment(run)
