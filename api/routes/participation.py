"""The participant's JSON API: what a token opens, saving a draft, submitting once."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from api.deps import SessionDep
from api.ratelimit import participation_limits
from services.surveys import service
from services.surveys.schemas import ParticipationOut, SubmitIn, SubmitOut
from services.surveys.views import participation_view

router = APIRouter(prefix="/api/v1/participation", tags=["participation"])


@router.get("/{token}", response_model=ParticipationOut)
async def what_is_this(token: str, request: Request, session: SessionDep) -> ParticipationOut:
    participation_limits(request).check(request, token)
    p = await service.open_token(session, token)
    return await participation_view(session, p)


@router.post("/{token}/response", response_model=SubmitOut,
             status_code=status.HTTP_201_CREATED,
             responses={200: {"description": "identified survey: answers replaced"},
                        409: {"description": "already answered"}, 410: {"description": "closed"},
                        422: {"description": "invalid answers, one detail per question"}})
async def submit(token: str, body: SubmitIn, request: Request, session: SessionDep) -> Response:
    participation_limits(request).check(request, token)
    result = await service.submit(session, token, body.answers)
    # The body is SubmitOut (the response_model documents it); built directly because FastAPI's
    # validation and serialisation of a returned model are a measurable share of this hot path.
    content = (f'{{"status":"{result.status}","survey_id":"{result.survey_id}",'
               f'"submitted_on":"{result.submitted_on.isoformat()}"}}')
    return Response(content, media_type="application/json",
                    status_code=status.HTTP_200_OK if result.status == "updated"
                    else status.HTTP_201_CREATED)


@router.post("/{token}/draft")
async def save_draft(token: str, body: SubmitIn, request: Request,
                     session: SessionDep) -> dict[str, object]:
    """Save unsubmitted answers ("Zwischenspeichern"); invalid values are named, not saved."""
    participation_limits(request).check(request, token)
    errors = await service.save_draft(session, token, body.answers)
    return {"saved": True, "errors": errors}
