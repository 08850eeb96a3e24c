"""Multiplier links of a survey or an event (services/surveys/multiplier.py): coordinators
create and close them, members of the organisation read them; another organisation's survey
or event is a 404. One set of handlers (`link_routes`) serves both targets: only how the
target is loaded differs."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Depends, Response, status

from api.deps import CurrentUser, SessionDep, SettingsDep
from services.meetings.service import meeting_for
from services.models.meeting import Meeting
from services.models.organisation import Role
from services.models.survey import Survey
from services.surveys import multiplier
from services.surveys.multiplier import MultiplierLinkCreate, MultiplierLinkOut, Target
from services.surveys.service import survey_for


# The targets as dependencies (the path parameter's name is the dependency's): a reader (any
# member of the organisation) and an editor (coordinator); another organisation's is a 404.
async def _survey(survey_id: uuid.UUID, session: SessionDep, principal: CurrentUser) -> Survey:
    return await survey_for(session, principal, survey_id)


async def _survey_editor(survey_id: uuid.UUID, session: SessionDep,
                         principal: CurrentUser) -> Survey:
    return await survey_for(session, principal, survey_id, Role.coordinator)


async def _event(event_id: uuid.UUID, session: SessionDep, principal: CurrentUser) -> Meeting:
    return await meeting_for(session, principal, event_id)


async def _event_editor(event_id: uuid.UUID, session: SessionDep,
                        principal: CurrentUser) -> Meeting:
    return await meeting_for(session, principal, event_id, Role.coordinator)


def link_routes(prefix: str, reader: Any, editor: Any) -> APIRouter:
    """The link routes under `prefix` (ending in the target's path parameter) for a target
    loaded by `reader` / `editor`."""
    router = APIRouter(prefix=f"{prefix}/multiplier-links", tags=["multiplier links"])
    # Defaults, not Annotated aliases: this module's annotations are strings, which FastAPI
    # resolves in the module's namespace (a local alias would not be found).
    readable, editable = Depends(reader), Depends(editor)

    @router.post("", response_model=MultiplierLinkOut, status_code=status.HTTP_201_CREATED)
    async def create(body: MultiplierLinkCreate, session: SessionDep, principal: CurrentUser,
                     settings: SettingsDep, found: Target = editable) -> MultiplierLinkOut:
        key = settings.resolved_secret_key()
        link = await multiplier.create_link(session, found, body, secret_key=key,
                                            actor=principal.email)
        return multiplier.link_out(link, found, secret_key=key, public_url=settings.public_url)

    @router.get("", response_model=list[MultiplierLinkOut])
    async def list_links(session: SessionDep, settings: SettingsDep,
                         found: Target = readable) -> list[MultiplierLinkOut]:
        key = settings.resolved_secret_key()
        return [multiplier.link_out(link, found, secret_key=key,
                                    public_url=settings.public_url)
                for link in await multiplier.links_of(session, found)]

    @router.get("/{link_id}", response_model=MultiplierLinkOut)
    async def read(link_id: uuid.UUID, session: SessionDep, settings: SettingsDep,
                   found: Target = readable) -> MultiplierLinkOut:
        link = await multiplier.link_of(session, found, link_id)
        return multiplier.link_out(link, found, secret_key=settings.resolved_secret_key(),
                                   public_url=settings.public_url)

    @router.post("/{link_id}/close", response_model=MultiplierLinkOut)
    async def close(link_id: uuid.UUID, session: SessionDep, principal: CurrentUser,
                    settings: SettingsDep, found: Target = editable) -> MultiplierLinkOut:
        """Close at once (the next answer or registration through it is refused). 409 if
        closed already."""
        link = await multiplier.close_link(session, found, link_id, actor=principal.email)
        return multiplier.link_out(link, found, secret_key=settings.resolved_secret_key(),
                                   public_url=settings.public_url)

    @router.get("/{link_id}/poster.pdf", response_class=Response)
    async def poster(link_id: uuid.UUID, session: SessionDep, settings: SettingsDep,
                     size: Literal["a4", "a6"] = "a4", found: Target = readable) -> Response:
        """The poster (A4, `size=a4`) or the flyer (A6, `size=a6`): QR code and short link,
        a page per language of the survey (an event's: German)."""
        link = await multiplier.link_of(session, found, link_id)
        flyer = size == "a6"
        return pdf_download(await multiplier.poster(
            session, found, link, secret_key=settings.resolved_secret_key(),
            public_url=settings.public_url, flyer=flyer), link.id, flyer=flyer)

    return router


def pdf_download(data: bytes, link_id: uuid.UUID, *, flyer: bool = False) -> Response:
    name = "flyer" if flyer else "plakat"
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}-{link_id}.pdf"'})


router = link_routes("/api/v1/surveys/{survey_id}", _survey, _survey_editor)
event_router = link_routes("/api/v1/events/{event_id}", _event, _event_editor)
