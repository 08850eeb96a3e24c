"""Pages of the campaign domain (server-rendered, no JavaScript needed):

- participants: `/t/{token}/decline` and `/t/{token}/unsubscribe` (GET shows a confirmation
  form, POST acts; a mail client's RFC 8058 one-click POST lands on the same handler);
- coordinators: the campaigns of an organisation and one campaign's progress: a small
  script follows `GET /api/v1/campaigns/{id}/progress` (Server-Sent Events) while it runs;
  without JavaScript an "Aktualisieren" link reloads it. A running campaign can be cancelled
  (after a confirmation page) and its deadline moved. Starting a campaign for a process shows
  how many the selection reaches before anything is sent; reminders are chosen in days.
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
from api.deps import SessionDep
from api.meeting_control import commit_and_wake
from api.pages import ORG_LINKS, NavLink
from api.pages.staff_context import StaffUser, org_for
from api.ratelimit import participation_limits
from api.templating import for_organisation, templates
from contracts.campaign import parse_offset
from services import i18n
from services.campaigns import service
from services.campaigns.repository import CampaignRepository
from services.campaigns.schemas import Audience, CampaignCreate
from services.errors import DomainError, ValidationFailed
from services.identity.service import (
    OrgRole,
    Principal,
    organisation_time_zone,
)
from services.meetings import service as meetings
from services.meetings.schemas import RegistrationIn
from services.models.organisation import Role
from services.models.process import Process
from services.processes.service import process_for
from services.stakeholders.service import list_groups

router = APIRouter(include_in_schema=False)

# The reminder days the new-campaign page offers as checkboxes (any other in a number field).
REMINDER_CHOICES = (3, 7, 14, 21)
MAX_REMINDER_DAYS = 365

STATUS_LABELS = {"draft": "Entwurf", "running": "läuft", "closed": "abgeschlossen",
                 "failed": "fehlgeschlagen", "cancelled": "abgebrochen"}
FLASH = {"cancelled": "Die Kampagne wurde abgebrochen. Es werden keine weiteren Einladungen "
         "und Erinnerungen versendet.", "deadline": "Die Frist wurde verschoben."}


def reminder_words(value: str) -> str:
    """`P7D` as the page says it: "nach 7 Tagen" (hours where a duration has them)."""
    delta = parse_offset(value)
    if delta.seconds == 0:
        return "nach 1 Tag" if delta.days == 1 else f"nach {delta.days} Tagen"
    hours = int(delta.total_seconds() // 3600)
    return "nach 1 Stunde" if hours == 1 else f"nach {hours} Stunden"


def reminder_durations(days: list[int], other: str) -> list[str]:
    """The page's reminder days (checkboxes and a number field) as the API's ISO durations,
    ascending and without repeats; a day count outside 1–365 is a 422 naming the field."""
    chosen = set(days)
    if other.strip():
        try:
            chosen.add(int(other.strip()))
        except ValueError:
            chosen.add(0)
    if any(not 1 <= d <= MAX_REMINDER_DAYS for d in chosen):
        raise ValidationFailed(
            f"Erinnerungen bitte in ganzen Tagen zwischen 1 und {MAX_REMINDER_DAYS} angeben.",
            code="invalid_reminder", details=[{"field": "reminders",
                                               "message": "ganze Tage von 1 bis 365"}])
    return [f"P{d}D" for d in sorted(chosen)]


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
                        principal: StaffUser) -> Response:
    org = await org_for(session, principal, slug, Role.coordinator, Role.steering)
    items = [await service.campaign_out(session, c)
             for c in await service.list_campaigns(session, org.id)]
    return templates.TemplateResponse(request, "campaigns/list.html", {
        "principal": principal, "org": org, "items": items, "labels": STATUS_LABELS,
        "process": None, "tz": ZoneInfo(org.time_zone or "Europe/Berlin"),
    })


@router.get("/app/processes/{process_id}/campaigns", response_class=HTMLResponse)
async def process_campaigns(request: Request, process_id: uuid.UUID, session: SessionDep,
                            principal: StaffUser) -> Response:
    """The campaigns of one process (linked from the process page, and back)."""
    process = await process_for(session, principal, process_id, Role.coordinator,
                                Role.steering)
    items = [await service.campaign_out(session, c)
             for c in await service.campaigns_of_process(session, process.id)]
    return templates.TemplateResponse(request, "campaigns/list.html", {
        "principal": principal, "org": None, "items": items, "labels": STATUS_LABELS,
        "process": process,
        "can_start": principal.role_in(process.organisation_id) in (Role.coordinator,
                                                                     Role.admin),
        "tz": ZoneInfo((await CampaignRepository.from_session(session).organisation_info(
            process.organisation_id))[1]),
    })


async def _detail_page(request: Request, session: SessionDep, principal: Principal,
                       campaign_id: uuid.UUID, *, template: str = "campaigns/detail.html",
                       errors: list[dict[str, str]] | None = None,
                       form: dict[str, str] | None = None, status_code: int = 200) -> Response:
    session.expire_all()
    campaign = await service.campaign_for(session, principal, campaign_id, Role.coordinator,
                                          Role.steering)
    out = await service.campaign_out(session, campaign)
    _, zone, _ = await CampaignRepository.from_session(session).organisation_info(
        campaign.organisation_id)
    tz = ZoneInfo(zone)
    process = None
    if campaign.process_id is not None:
        process = await session.get(Process, campaign.process_id)
    can_steer = (out.status == "running"
                 and principal.role_in(campaign.organisation_id) in (Role.coordinator,
                                                                      Role.admin))
    return templates.TemplateResponse(request, template, {
        "principal": principal, "c": out, "labels": STATUS_LABELS,
        "running": out.status == "running", "can_steer": can_steer, "tz": tz,
        "process": process, "reminder_words": [reminder_words(r) for r in out.reminders],
        "errors": errors or [], "flash": FLASH.get(request.query_params.get("ok") or ""),
        "form": form or {"deadline": out.deadline.astimezone(tz).date().isoformat()},
        "group_titles": {g.key: g.label
                         for g in await list_groups(session, campaign.organisation_id)},
    }, status_code=status_code)


@router.get("/app/campaigns/{campaign_id}", response_class=HTMLResponse)
async def campaign_detail(request: Request, campaign_id: uuid.UUID, session: SessionDep,
                          principal: StaffUser) -> Response:
    return await _detail_page(request, session, principal, campaign_id)


@router.get("/app/campaigns/{campaign_id}/cancel", response_class=HTMLResponse)
async def cancel_confirm(request: Request, campaign_id: uuid.UUID, session: SessionDep,
                         principal: StaffUser) -> Response:
    """The confirmation step: what a cancel does, and a button that does it."""
    return await _detail_page(request, session, principal, campaign_id,
                              template="campaigns/cancel.html")


async def _steer(request: Request, session: SessionDep, principal: Principal,
                 campaign_id: uuid.UUID, action: Any, ok: str, *, template: str,
                 form: dict[str, str] | None = None) -> Response:
    """Run a steering update; redirect with a message, or show the page with the error."""
    try:
        campaign = await service.campaign_for(session, principal, campaign_id,
                                              Role.coordinator)
        await action(await request.app.state.temporal.get(), campaign)
    except DomainError as exc:
        if exc.status_code == 404 or exc.status_code == 503:
            raise
        return await _detail_page(request, session, principal, campaign_id, template=template,
                                  errors=_form_errors(exc), form=form,
                                  status_code=exc.status_code)
    return RedirectResponse(f"/app/campaigns/{campaign_id}?ok={ok}", status_code=303)


@router.post("/app/campaigns/{campaign_id}/cancel", response_class=HTMLResponse)
async def cancel_submit(request: Request, campaign_id: uuid.UUID, session: SessionDep,
                        principal: StaffUser) -> Response:
    from api.routes.campaigns import cancel_running

    async def go(client: Any, campaign: Any) -> None:
        await cancel_running(session, client, campaign,
                             actor=principal.email)

    return await _steer(request, session, principal, campaign_id, go, "cancelled",
                        template="campaigns/cancel.html")


@router.post("/app/campaigns/{campaign_id}/deadline", response_class=HTMLResponse)
async def deadline_submit(request: Request, campaign_id: uuid.UUID, session: SessionDep,
                          principal: StaffUser,
                          deadline: Annotated[str, Form()] = "") -> Response:
    """The new deadline as a date: 23:59 that day in the organisation's time zone."""
    from api.routes.campaigns import move_running_deadline

    async def go(client: Any, campaign: Any) -> None:
        _, zone, _ = await CampaignRepository.from_session(session).organisation_info(
            campaign.organisation_id)
        await move_running_deadline(client, campaign, _form_deadline(deadline, ZoneInfo(zone)),
                                    actor=principal.email)

    return await _steer(request, session, principal, campaign_id, go, "deadline",
                        template="campaigns/detail.html", form={"deadline": deadline})


# --- starting a campaign: the count first, then the send ---------------------------------------


async def _new_page(request: Request, session: SessionDep, principal: Principal,
                    process: Process, form: dict[str, Any], *, count: int | None = None,
                    errors: list[dict[str, str]] | None = None,
                    status_code: int = 200) -> Response:
    from services.surveys.repository import SurveyRepository

    surveys = await SurveyRepository.from_session(session).surveys_of_process(process.id)
    events = [m for m in await meetings.meetings_of_process(session, process.id)
              if m.status not in ("cancelled", "held")]
    return templates.TemplateResponse(request, "campaigns/new.html", {
        "principal": principal, "process": process, "form": form, "count": count,
        "time_zone": await organisation_time_zone(session, process.organisation_id),
        "errors": errors or [], "surveys": surveys, "events": events,
        "reminder_choices": REMINDER_CHOICES, "max_reminder_days": MAX_REMINDER_DAYS,
        "groups": await list_groups(session, process.organisation_id),
    }, status_code=status_code)


def _form_errors(exc: DomainError) -> list[dict[str, str]]:
    out = [{"message": exc.message, "code": exc.code}]
    if isinstance(exc.details, list):
        out += [{"message": f"{d['field']}: {d['message']}", "code": exc.code}
                for d in exc.details if isinstance(d, dict) and d.get("field")
                and d.get("message") and d["message"] not in exc.message]
    return out


def _form_deadline(value: str, tz: Any) -> datetime:
    """A form's deadline date as 23:59 that day (in `tz`); not a date is a 422."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("Bitte eine Frist im Format JJJJ-MM-TT angeben.",
                               code="invalid_date",
                               details=[{"field": "deadline", "message": "kein Datum"}]) from None
    return datetime.combine(day, time(23, 59), tzinfo=tz)


def _campaign_request(form: dict[str, Any], tz: Any) -> CampaignCreate:
    """The form as the API's request body (the deadline 23:59 in the organisation's zone, as
    the deadline form moves it); pydantic's complaints become a 422 naming fields."""
    deadline = _form_deadline(form["deadline"], tz)
    # The target select holds surveys by their id and events as "event:<id>".
    value = str(form["survey"])
    kind: Literal["survey", "event"] = "event" if value.startswith("event:") else "survey"
    try:
        return CampaignCreate(
            kind=kind, target_id=value.removeprefix("event:"), title=form["title"],
            audience=Audience(groups=form["groups"], tiers=form["tiers"]),
            reminders=reminder_durations(form["reminder_days"], form["reminder_other"]),
            deadline=deadline)
    except PydanticValidationError as exc:
        raise ValidationFailed("Bitte die markierten Angaben prüfen.", details=[
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in exc.errors()]) from None


@router.get("/app/processes/{process_id}/campaigns/new", response_class=HTMLResponse)
async def new_campaign(request: Request, process_id: uuid.UUID, session: SessionDep,
                       principal: StaffUser) -> Response:
    process = await process_for(session, principal, process_id, Role.coordinator)
    form = {"survey": "", "title": "", "groups": [], "tiers": [], "reminder_days": [7],
            "reminder_other": "",
            "deadline": (datetime.now(UTC) + timedelta(days=21)).date().isoformat()}
    # The count of the default selection (everyone) is there from the start.
    count = await service.audience_size(session, process.organisation_id, Audience())
    return await _new_page(request, session, principal, process, form, count=count)


@router.post("/app/processes/{process_id}/campaigns/new", response_class=HTMLResponse)
async def new_campaign_submit(
    request: Request, process_id: uuid.UUID, session: SessionDep, principal: StaffUser,
    survey: Annotated[str, Form()] = "", title: Annotated[str, Form()] = "",
    groups: Annotated[list[str] | None, Form()] = None,
    tiers: Annotated[list[int] | None, Form()] = None,
    reminder_days: Annotated[list[int] | None, Form()] = None,
    reminder_other: Annotated[str, Form()] = "", deadline: Annotated[str, Form()] = "",
    step: Annotated[str, Form()] = "count", counted: Annotated[int | None, Form()] = None,
) -> Response:
    """`step=count` shows how many the selection reaches; `step=send` starts the campaign,
    but only for the count the coordinator saw (if the registry changed meanwhile, the new
    count is shown again instead of sending)."""
    process = await process_for(session, principal, process_id, Role.coordinator)
    form = {"survey": survey, "title": title, "groups": groups or [], "tiers": tiers or [],
            "reminder_days": reminder_days or [], "reminder_other": reminder_other,
            "deadline": deadline}
    count: int | None = None
    try:
        count = await service.audience_size(
            session, process.organisation_id,
            Audience(groups=form["groups"], tiers=form["tiers"]))
        if step != "send" or count != counted or count == 0:
            return await _new_page(request, session, principal, process, form, count=count)
        from api.routes.campaigns import launch_campaign

        # The form is checked before Temporal is asked for (a bad entry is a 422, not a 503).
        _, zone, _ = await CampaignRepository.from_session(session).organisation_info(
            process.organisation_id)
        body = _campaign_request(form, ZoneInfo(zone))
        campaign = await launch_campaign(
            session, await request.app.state.temporal.get(), request.app.state.settings,
            process.organisation_id, process.id, body, actor=principal.email)
    except PydanticValidationError as exc:
        return await _new_page(request, session, principal, process, form, errors=[
            {"message": str(e["msg"]), "code": "validation_failed"} for e in exc.errors()],
            status_code=422)
    except DomainError as exc:
        await session.rollback()
        # The rollback expired the process row: read it again for the page.
        process = await process_for(session, principal, process_id, Role.coordinator)
        return await _new_page(request, session, principal, process, form, count=count,
                               errors=_form_errors(exc), status_code=exc.status_code)
    return RedirectResponse(f"/app/campaigns/{campaign.id}", status_code=303)


def _links(org: OrgRole) -> list[NavLink]:
    if org.role in (Role.admin, Role.coordinator, Role.steering):
        return [NavLink(f"/app/orgs/{org.slug}/campaigns", "Einladungen und Erinnerungen")]
    return []


ORG_LINKS.append(_links)
