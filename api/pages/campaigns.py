"""Pages of the campaign domain (server-rendered, no JavaScript needed):

- participants: `/t/{token}/decline` and `/t/{token}/unsubscribe` (GET shows a confirmation
  form, POST acts; a mail client's RFC 8058 one-click POST lands on the same handler);
- coordinators: the campaigns of an organisation and one campaign's live progress, refreshed
  by the browser every few seconds while it runs (`Refresh` header and meta element).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import OptionalUser, SessionDep
from api.pages import ORG_LINKS, NavLink
from api.pages.login import login_redirect
from api.ratelimit import RETRY_AFTER_SECONDS, participation_limits
from api.templating import templates
from services.campaigns import service
from services.errors import DomainError
from services.identity.service import OrgRole, get_organisation
from services.models.organisation import Role

router = APIRouter(include_in_schema=False)

REFRESH_SECONDS = 5

TEXTS = {
    "de": {
        "decline_title": "Teilnahme absagen",
        "decline_intro": "Sie möchten an dieser Beteiligung nicht teilnehmen? Dann sagen Sie "
        "hier ab. Sie erhalten dazu keine Erinnerungen mehr.",
        "decline_button": "Ja, ich sage ab",
        "declined_title": "Absage erhalten",
        "declined": "Vielen Dank für Ihre Rückmeldung. Sie erhalten zu dieser Beteiligung keine "
        "Erinnerungen mehr.",
        "already_responded": "Sie haben bereits teilgenommen. Eine Absage ist nicht mehr nötig.",
        "unsubscribe_title": "Keine E-Mails mehr erhalten",
        "unsubscribe_intro": "Sie möchten keine Einladungen und Erinnerungen mehr von uns "
        "erhalten? Dann melden Sie sich hier ab.",
        "unsubscribe_button": "Ja, abmelden",
        "unsubscribed_title": "Abgemeldet",
        "unsubscribed": "Sie sind abgemeldet und erhalten keine E-Mails mehr von uns.",
        "unknown_title": "Link unbekannt",
        "unknown": "Diesen Link kennen wir nicht. Bitte prüfen Sie, ob Sie ihn vollständig aus "
        "der E-Mail übernommen haben.",
        "limited_title": "Zu viele Anfragen",
        "limited": "Bitte warten Sie eine Minute und versuchen Sie es dann erneut.",
    },
    "en": {
        "decline_title": "Decline to take part",
        "decline_intro": "You do not want to take part? Decline here and you will receive no "
        "more reminders about it.",
        "decline_button": "Yes, I decline",
        "declined_title": "Thank you",
        "declined": "Thank you for letting us know. You will receive no more reminders about "
        "this.",
        "already_responded": "You have already taken part; there is nothing to decline.",
        "unsubscribe_title": "Stop e-mails",
        "unsubscribe_intro": "You no longer want invitations and reminders from us? "
        "Unsubscribe here.",
        "unsubscribe_button": "Yes, unsubscribe",
        "unsubscribed_title": "Unsubscribed",
        "unsubscribed": "You are unsubscribed and will receive no more e-mails from us.",
        "unknown_title": "Unknown link",
        "unknown": "We do not know this link. Please check that you copied it completely from "
        "the e-mail.",
        "limited_title": "Too many requests",
        "limited": "Please wait a minute and try again.",
    },
}

STATUS_LABELS = {"draft": "Entwurf", "running": "läuft", "closed": "abgeschlossen",
                 "failed": "fehlgeschlagen"}


def _page(request: Request, lang: str, title: str, message: str | None, *,
          action: str | None = None, intro: str | None = None, button: str | None = None,
          status_code: int = 200, success: bool = False) -> Response:
    return templates.TemplateResponse(request, "campaigns/participant.html", {
        "principal": None, "lang": lang, "title": title, "message": message,
        "action": action, "intro": intro, "button": button, "success": success,
    }, status_code=status_code,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)} if status_code == 429 else None)


async def _participant(request: Request, session: SessionDep, token: str, what: str,
                       act: bool) -> Response:
    try:
        participation_limits(request).check(request, token)
    except DomainError:
        t = TEXTS["de"]
        return _page(request, "de", t["limited_title"], t["limited"], status_code=429)
    try:
        invitation = await service.invitation_for_token(session, token)
    except DomainError:
        t = TEXTS["de"]
        return _page(request, "de", t["unknown_title"], t["unknown"], status_code=404)
    lang = invitation.language if invitation.language in TEXTS else "de"
    t = TEXTS[lang]
    if not act:
        return _page(request, lang, t[f"{what}_title"], None, intro=t[f"{what}_intro"],
                     action=f"/t/{token}/{what}", button=t[f"{what}_button"])
    if what == "decline":
        try:
            await service.decline(session, token)
        except DomainError:
            return _page(request, lang, t["decline_title"], t["already_responded"],
                         status_code=409)
        return _page(request, lang, t["declined_title"], t["declined"], success=True)
    await service.unsubscribe(session, token)
    return _page(request, lang, t["unsubscribed_title"], t["unsubscribed"], success=True)


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
    response = templates.TemplateResponse(request, "campaigns/detail.html", {
        "principal": principal, "c": out, "labels": STATUS_LABELS, "running": running,
        "refresh": REFRESH_SECONDS,
    })
    if running:
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


def _links(org: OrgRole) -> list[NavLink]:
    if org.role in (Role.admin, Role.coordinator, Role.steering):
        return [NavLink(f"/app/orgs/{org.slug}/campaigns", "Einladungen und Erinnerungen")]
    return []


ORG_LINKS.append(_links)
