"""Pages of the campaign domain (server-rendered, no JavaScript needed):

- participants: `/t/{token}/decline` and `/t/{token}/unsubscribe` (GET shows a confirmation
  form, POST acts; a mail client's RFC 8058 one-click POST lands on the same handler);
- coordinators: the campaigns of an organisation and one campaign's live progress, refreshed
  by the browser every few seconds while it runs (`Refresh` header and meta element); starting
  a campaign for a process, which shows how many the selection reaches before anything is
  sent.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError as PydanticValidationError

from api import languages
from api.deps import OptionalUser, SessionDep
from api.meeting_control import commit_and_wake
from api.pages import ORG_LINKS, NavLink
from api.pages.login import login_redirect
from api.ratelimit import participation_limits
from api.templating import for_organisation, templates
from services import i18n
from services.campaigns import service
from services.campaigns.schemas import Audience, CampaignCreate
from services.errors import DomainError, ValidationFailed
from services.identity.service import (
    OrgRole,
    Principal,
    get_organisation,
    organisation_time_zone,
)
from services.meetings import service as meetings
from services.meetings.schemas import RegistrationIn
from services.models.organisation import Role
from services.models.process import Process
from services.processes.service import process_for

router = APIRouter(include_in_schema=False)

REFRESH_SECONDS = 5

STATUS_LABELS = {"draft": "Entwurf", "running": "läuft", "closed": "abgeschlossen",
                 "failed": "fehlgeschlagen"}


def _page(request: Request, token: str, lang: str, key: str, message: str | None, *,
          action: str | None = None, intro: str | None = None, button: str | None = None,
          status_code: int = 200, success: bool = False, next: str | None = None) -> Response:
    t = i18n.texts(lang, "optout")
    return languages.render(request, "campaigns/participant.html", {
        "title": t[key], "message": t[message] if message else None,
        "action": action, "intro": t[intro] if intro else None,
        "button": t[button] if button else None, "success": success,
        "next": t[next] if next else None,
    }, lang=lang, section="optout", switch_path=request.url.path,
        cookie_path=f"/t/{token}", status_code=status_code)


async def _participant(request: Request, session: SessionDep, token: str, what: str,
                       act: bool) -> Response:
    try:
        participation_limits(request).check(request, token)
    except DomainError:
        return _page(request, token, languages.page_language(request), "limited_title",
                     "limited", status_code=429)
    try:
        invitation = await service.invitation_for_token(session, token)
    except DomainError:
        return _page(request, token, languages.page_language(request), "unknown_title",
                     "unknown", status_code=404)
    await for_organisation(request, session, invitation.organisation_id)
    lang = languages.page_language(request, invitation.language)
    if not act:
        return _page(request, token, lang, f"{what}_title", None, intro=f"{what}_intro",
                     action=f"/t/{token}/{what}", button=f"{what}_button")
    if what == "decline":
        try:
            if (await service.get_campaign(session, invitation.campaign_id)).kind == "event":
                # An event's decline link also cancels a registration (the waitlist moves up).
                out = await meetings.register_by_token(session, token,
                                                       RegistrationIn(attending=False))
                await commit_and_wake(request, session, out.meeting_id)
            else:
                await service.decline(session, token)
        except DomainError:
            return _page(request, token, lang, "decline_title", "already_responded",
                         status_code=409)
        return _page(request, token, lang, "declined_title", "declined", success=True,
                     next="declined_next")
    await service.unsubscribe(session, token)
    return _page(request, token, lang, "unsubscribed_title", "unsubscribed", success=True,
                 next="unsubscribed_next")


@router.get("/t/{token}/decline", response_class=HTMLResponse)
async def decline_form(request: Request, token: str, session: SessionDep) -> Response:
    return await _participant(request, session, token, "decline", act=False)


@router.post("/t/{token}/decline", response_class=HTMLResponse)
async def decline_submit(request: Request, token: str, session: SessionDep) -> Response:
    return await _participant(request, session, token, "decline", act=True)


@router.get("/t/{token}/unsubscribe", response_class=HTMLResponse)
async def unsubscribe_form(request: Request, token: str, session: SessionDep) -> Response:
    return await _participant(request, session, token, "unsubscribe", act=False)


@router.post("/t/{token}/unsubscribe", response_class=HTMLResponse)
async def unsubscribe_submit(request: Request, token: str, session: SessionDep) -> Response:
    # Also the target of `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
    return await _participant(request, session, token, "unsubscribe", act=True)


# --- coordinators ------------------------------------------------------------------------------


@router.get("/app/orgs/{slug}/campaigns", response_class=HTMLResponse)
async def campaign_list(request: Request, slug: str, session: SessionDep,
                        principal: OptionalUser) -> Response:
    if principal is None:
        return login_redirect(request)
    org = await get_organisation(session, slug)
    principal.require(org.id, Role.coordinator, Role.steering)
    items = [await service.campaign_out(session, c)
             for c in await service.list_campaigns(session, org.id)]
    return templates.TemplateResponse(request, "campaigns/list.html", {
        "principal": principal, "org": org, "items": items, "labels": STATUS_LABELS,
    })


@router.get("/app/campaigns/{campaign_id}", response_class=HTMLResponse)
async def campaign_detail(request: Request, campaign_id: uuid.UUID, session: SessionDep,
                          principal: OptionalUser) -> Response:
    if principal is None:
        return login_redirect(request)
    campaign = await service.campaign_for(session, principal, campaign_id, Role.coordinator,
                                          Role.steering)
    out = await service.campaign_out(session, campaign)
    running = out.status == "running"
    from services.stakeholders.service import list_groups

    response = templates.TemplateResponse(request, "campaigns/detail.html", {
        "principal": principal, "c": out, "labels": STATUS_LABELS, "running": running,
        "refresh": REFRESH_SECONDS,
        # The deadline in the organisation's zone, groups by title (api/presentation.py).
        "time_zone": await organisation_time_zone(session, campaign.organisation_id),
        "group_titles": {g.key: g.label
                         for g in await list_groups(session, campaign.organisation_id)},
    })
    if running:
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


# --- starting a campaign: the count first, then the send ---------------------------------------


async def _new_page(request: Request, session: SessionDep, principal: Principal,
                    process: Process, form: dict[str, Any], *, count: int | None = None,
                    errors: list[dict[str, str]] | None = None,
                    status_code: int = 200) -> Response:
    from services.stakeholders.service import list_groups
    from services.surveys.repository import SurveyRepository

    surveys = await SurveyRepository.from_session(session).surveys_of_process(process.id)
    events = [m for m in await meetings.meetings_of_process(session, process.id)
              if m.status not in ("cancelled", "held")]
    return templates.TemplateResponse(request, "campaigns/new.html", {
        "principal": principal, "process": process, "form": form, "count": count,
        "time_zone": await organisation_time_zone(session, process.organisation_id),
        "errors": errors or [], "surveys": surveys, "events": events,
        "groups": await list_groups(session, process.organisation_id),
    }, status_code=status_code)


def _form_errors(exc: DomainError) -> list[dict[str, str]]:
    out = [{"message": exc.message, "code": exc.code}]
    if isinstance(exc.details, list):
        out += [{"message": f"{d['field']}: {d['message']}", "code": exc.code}
                for d in exc.details if isinstance(d, dict) and d.get("field")
                and d.get("message") and d["message"] not in exc.message]
    return out


def _campaign_request(form: dict[str, Any], time_zone: str) -> CampaignCreate:
    """The form as the API's request body; pydantic's complaints become a 422 naming fields.
    The deadline day ends at 23:59 in the organisation's zone: 23:59 UTC is already the next
    day in Berlin."""
    try:
        deadline = datetime.combine(date.fromisoformat(form["deadline"]), time(23, 59),
                                    tzinfo=ZoneInfo(time_zone))
    except ValueError:
        raise ValidationFailed("Bitte eine Frist im Format JJJJ-MM-TT angeben.",
                               code="invalid_date",
                               details=[{"field": "deadline", "message": "kein Datum"}]) from None
    # The target select holds surveys by their id and events as "event:<id>".
    value = str(form["survey"])
    kind: Literal["survey", "event"] = "event" if value.startswith("event:") else "survey"
    try:
        return CampaignCreate(
            kind=kind, target_id=value.removeprefix("event:"), title=form["title"],
            audience=Audience(groups=form["groups"], tiers=form["tiers"]),
            reminders=[r.strip() for r in form["reminders"].split(",") if r.strip()],
            deadline=deadline)
    except PydanticValidationError as exc:
        raise ValidationFailed("Bitte die markierten Angaben prüfen.", details=[
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in exc.errors()]) from None


@router.get("/app/processes/{process_id}/campaigns/new", response_class=HTMLResponse)
async def new_campaign(request: Request, process_id: uuid.UUID, session: SessionDep,
                       principal: OptionalUser) -> Response:
    if principal is None:
        return login_redirect(request)
    process = await process_for(session, principal, process_id, Role.coordinator)
    form = {"survey": "", "title": "", "groups": [], "tiers": [], "reminders": "P7D",
            "deadline": (datetime.now(UTC) + timedelta(days=21)).date().isoformat()}
    # The count of the default selection (everyone) is there from the start.
    count = await service.audience_size(session, process.organisation_id, Audience())
    return await _new_page(request, session, principal, process, form, count=count)


@router.post("/app/processes/{process_id}/campaigns/new", response_class=HTMLResponse)
async def new_campaign_submit(
    request: Request, process_id: uuid.UUID, session: SessionDep, principal: OptionalUser,
    survey: Annotated[str, Form()] = "", title: Annotated[str, Form()] = "",
    groups: Annotated[list[str] | None, Form()] = None,
    tiers: Annotated[list[int] | None, Form()] = None,
    reminders: Annotated[str, Form()] = "", deadline: Annotated[str, Form()] = "",
    step: Annotated[str, Form()] = "count", counted: Annotated[int | None, Form()] = None,
) -> Response:
    """`step=count` shows how many the selection reaches; `step=send` starts the campaign,
    but only for the count the coordinator saw (if the registry changed meanwhile, the new
    count is shown again instead of sending)."""
    if principal is None:
        return login_redirect(request)
    process = await process_for(session, principal, process_id, Role.coordinator)
    form = {"survey": survey, "title": title, "groups": groups or [], "tiers": tiers or [],
            "reminders": reminders, "deadline": deadline}
    count: int | None = None
    try:
        count = await service.audience_size(
            session, process.organisation_id,
            Audience(groups=form["groups"], tiers=form["tiers"]))
        if step != "send" or count != counted or count == 0:
            return await _new_page(request, session, principal, process, form, count=count)
        from api.routes.campaigns import launch_campaign

        campaign = await launch_campaign(
            session, await request.app.state.temporal.get(), request.app.state.settings,
            process.organisation_id, process.id,
            _campaign_request(form, await organisation_time_zone(session,
                                                                 process.organisation_id)),
            actor=principal.email)
    except PydanticValidationError as exc:
        return await _new_page(request, session, principal, process, form, errors=[
            {"message": str(e["msg"]), "code": "validation_failed"} for e in exc.errors()],
            status_code=422)
    except DomainError as exc:
        await session.rollback()
        return await _new_page(request, session, principal, process, form, count=count,
                               errors=_form_errors(exc), status_code=exc.status_code)
    return RedirectResponse(f"/app/campaigns/{campaign.id}", status_code=303)


def _links(org: OrgRole) -> list[NavLink]:
    if org.role in (Role.admin, Role.coordinator, Role.steering):
        return [NavLink(f"/app/orgs/{org.slug}/campaigns", "Einladungen und Erinnerungen")]
    return []


ORG_LINKS.append(_links)
