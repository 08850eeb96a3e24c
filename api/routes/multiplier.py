"""Multiplier links of a survey (services/surveys/multiplier.py): coordinators create and
close them, members of the organisation read them; another organisation's survey is a 404."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Response, status

from api.deps import CurrentUser, SessionDep, SettingsDep
from services.models.organisation import Role
from services.surveys import multiplier
from services.surveys.multiplier import MultiplierLinkCreate, MultiplierLinkOut
from services.surveys.service import survey_for

router = APIRouter(prefix="/api/v1/surveys/{survey_id}/multiplier-links",
                   tags=["multiplier links"])


@router.post("", response_model=MultiplierLinkOut, status_code=status.HTTP_201_CREATED)
async def create(survey_id: uuid.UUID, body: MultiplierLinkCreate, session: SessionDep,
                 principal: CurrentUser, settings: SettingsDep) -> MultiplierLinkOut:
    survey = await survey_for(session, principal, survey_id, Role.coordinator)
    key = settings.resolved_secret_key()
    link = await multiplier.create_link(session, survey, body, secret_key=key,
                                        actor=principal.email)
    return multiplier.link_out(link, survey, secret_key=key, public_url=settings.public_url)


@router.get("", response_model=list[MultiplierLinkOut])
async def list_links(survey_id: uuid.UUID, session: SessionDep, principal: CurrentUser,
                     settings: SettingsDep) -> list[MultiplierLinkOut]:
    survey = await survey_for(session, principal, survey_id)
    key = settings.resolved_secret_key()
    return [multiplier.link_out(link, survey, secret_key=key, public_url=settings.public_url)
            for link in await multiplier.links_of(session, survey)]


@router.get("/{link_id}", response_model=MultiplierLinkOut)
async def read(survey_id: uuid.UUID, link_id: uuid.UUID, session: SessionDep,
               principal: CurrentUser, settings: SettingsDep) -> MultiplierLinkOut:
    survey = await survey_for(session, principal, survey_id)
    link = await multiplier.link_of(session, survey, link_id)
    return multiplier.link_out(link, survey, secret_key=settings.resolved_secret_key(),
                               public_url=settings.public_url)


@router.post("/{link_id}/close", response_model=MultiplierLinkOut)
async def close(survey_id: uuid.UUID, link_id: uuid.UUID, session: SessionDep,
                principal: CurrentUser, settings: SettingsDep) -> MultiplierLinkOut:
    """Close at once (the next submission through it is refused). 409 if closed already."""
    survey = await survey_for(session, principal, survey_id, Role.coordinator)
    link = await multiplier.close_link(session, survey, link_id, actor=principal.email)
    return multiplier.link_out(link, survey, secret_key=settings.resolved_secret_key(),
                               public_url=settings.public_url)


def pdf_download(data: bytes, link_id: uuid.UUID, *, flyer: bool = False) -> Response:
    name = "flyer" if flyer else "plakat"
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}-{link_id}.pdf"'})


@router.get("/{link_id}/poster.pdf", response_class=Response)
async def poster(survey_id: uuid.UUID, link_id: uuid.UUID, session: SessionDep,
                 principal: CurrentUser, settings: SettingsDep,
                 size: Literal["a4", "a6"] = "a4") -> Response:
    """The poster (A4, `size=a4`) or the flyer (A6, `size=a6`): QR code and short link, a
    page per language of the survey."""
    survey = await survey_for(session, principal, survey_id)
    link = await multiplier.link_of(session, survey, link_id)
    flyer = size == "a6"
    return pdf_download(await multiplier.poster(
        session, survey, link, secret_key=settings.resolved_secret_key(),
        public_url=settings.public_url, flyer=flyer), link.id, flyer=flyer)
