"""The multiplier link's pages (services/surveys/multiplier.py): `/m/{secret}` is the
participant's form for anyone with the link, and `/m/{results secret}/ergebnis` the partner's
read-only count.

The form is the token page's (api/pages/participation.py): the same template, review step and
language switch, posting to the link's own address. A browser's unsent answers are kept as a
draft under a random key in a cookie on the link's path (deleted with the submission); the key
also travels in the form's and the review's addresses (`?entwurf=`), so a browser that takes
no cookies can still answer (it is then not kept from answering twice but by the other
limits). After
the submission a cookie "answered" on the same path makes the pages refuse a second answer
from this browser (checked before anything else; the form says so). Neither cookie says
anything about the person, and neither reaches the stored answer. Submissions are also limited
per hashed client address (api/ratelimit.py MultiplierLimits).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import languages
from api.deps import SessionDep, SettingsDep
from api.pages import meeting_participants as event_links
from api.pages.participation import (
    answers_from_form,
    page_date,
    render_form,
    render_review,
    status_page,
)
from api.ratelimit import multiplier_limits
from api.templating import for_organisation, templates
from services import i18n
from services.campaigns.tokens import new_token
from services.errors import Conflict, DomainError, Gone, NotFound, RateLimited, ValidationFailed
from services.surveys import multiplier, service
from services.surveys.multiplier import LinkParticipation
from services.surveys.schemas import pick

router = APIRouter(include_in_schema=False)

ANSWERED_COOKIE = "m_beantwortet"
DRAFT_COOKIE = "m_entwurf"
DRAFT_PARAM = "entwurf"
ANSWERED_SECONDS = 365 * 24 * 3600  # longer than a survey runs; the value is just "1"
DRAFT_SECONDS = 30 * 24 * 3600

# Refusals: (page key, status, catalog section).
REFUSALS = {
    "token_unknown": ("unknown", 404, "survey"), "link_closed": ("closed", 410, "multiplier"),
    "survey_closed": ("closed", 410, "survey"), "link_full": ("full", 409, "multiplier"),
    "rate_limited": ("limited", 429, "survey"), "survey_not_open": ("not_open", 409, "survey"),
}


def _base(secret: str) -> str:
    return f"/m/{secret}"


def _draft_key(request: Request) -> str | None:
    """This browser's draft key: its cookie, else the address's `entwurf` (no cookies)."""
    key = request.cookies.get(DRAFT_COOKIE) or request.query_params.get(DRAFT_PARAM)
    return key if key and len(key) <= 64 else None


def _query(key: str | None) -> str:
    return f"?{DRAFT_PARAM}={key}" if key else ""


async def _refused(request: Request, session: SessionDep, secret: str, exc: DomainError,
                   lang: str | None = None) -> Response:
    key, status, section = REFUSALS.get(exc.code or "", ("unknown", exc.status_code, "survey"))
    org = await multiplier.link_organisation(session, secret)
    if org is not None:
        await for_organisation(request, session, org)
    lang = lang or languages.page_language(request)
    return status_page(request, secret, key, status, lang, base=_base(secret), section=section,
                       d="")


def _answered_page(request: Request, secret: str, status: int, lang: str) -> Response:
    return status_page(request, secret, "answered", status, lang, base=_base(secret),
                       section="multiplier")


async def _open(request: Request, session: SessionDep, secret: str, *,
                posting: bool) -> LinkParticipation | Response:
    """The checks every page of the link shares: the rate limit, the browser's cookie, the
    link's state and its opening date: the participation, or the page to show instead."""
    refused = 409 if posting else 200
    try:
        multiplier_limits(request).check_view(request)
    except RateLimited as exc:
        return await _refused(request, session, secret, exc)
    if request.cookies.get(ANSWERED_COOKIE):
        return _answered_page(request, secret, refused, languages.page_language(request))
    try:
        lp = await multiplier.open_link(session, secret, draft_key=_draft_key(request))
    except (NotFound, Gone, Conflict) as exc:
        return await _refused(request, session, secret, exc)
    await for_organisation(request, session, lp.organisation_id)
    lp = replace(lp, p=replace(lp.p, language=languages.page_language(request)))
    if service.not_open_yet(lp.p, datetime.now(UTC)):
        return status_page(request, secret, "not_open", refused, lp.p.language,
                           base=_base(secret),
                           d=page_date(request, lp.p.survey.opens_at, lp.p.language))
    return lp


def _form(request: Request, secret: str, lp: LinkParticipation, values: dict, errors: list, *,
          saved: bool = False, status: int = 200, key: str | None = None) -> Response:
    return render_form(request, secret, lp.p, values, errors, saved=saved, status=status,
                       base=_base(secret), query=_query(key or _draft_key(request)),
                       note=i18n.texts(lp.p.language, "multiplier")["cookie_note"])


@router.get("/m/{secret}", response_class=HTMLResponse)
async def link_page(secret: str, request: Request, session: SessionDep,
                    gespeichert: int = 0) -> Response:
    # An event's link: the event's public registration (api/pages/meeting_participants.py).
    event_page = await event_links.multiplier_link_page(request, session, secret)
    if event_page is not None:
        return event_page
    lp = await _open(request, session, secret, posting=False)
    if isinstance(lp, Response):
        return lp
    values = await service.load_draft(session, lp.p) if lp.p.token_hash else None
    return _form(request, secret, lp, values or {}, [], saved=bool(gespeichert))


def _keep_draft_key(response: Response, secret: str, key: str | None) -> Response:
    if key is not None:
        response.set_cookie(DRAFT_COOKIE, key, max_age=DRAFT_SECONDS, path=_base(secret),
                            httponly=True, samesite="lax")
    return response


@router.post("/m/{secret}", response_class=HTMLResponse)
async def link_post(secret: str, request: Request, session: SessionDep,
                    settings: SettingsDep) -> Response:
    event_post = await event_links.multiplier_link_post(request, session, secret, settings)
    if event_post is not None:
        return event_post
    lp = await _open(request, session, secret, posting=True)
    if isinstance(lp, Response):
        return lp
    new_key = None
    if not lp.p.token_hash:  # this browser's first draft: a random key for it
        new_key = new_token()
        lp = replace(lp, p=replace(lp.p, token_hash=multiplier.draft_hash(new_key)))
    form = await request.form()
    answers, raw = answers_from_form(lp.p, form)
    review = form.get("aktion") != "speichern"
    try:
        errors = await multiplier.keep_link_draft(session, lp, answers, complete=review)
    except (Conflict, Gone, NotFound) as exc:
        return await _refused(request, session, secret, exc, lp.p.language)
    key = new_key or _draft_key(request)
    if errors:
        return _keep_draft_key(_form(request, secret, lp, raw, errors, status=422, key=key),
                               secret, new_key)
    query = _query(key)
    target = (f"{_base(secret)}/pruefen{query}" if review
              else f"{_base(secret)}{query}{'&' if query else '?'}gespeichert=1")
    return _keep_draft_key(RedirectResponse(target, status_code=303), secret, new_key)


async def _with_draft(request: Request, session: SessionDep, secret: str, *, posting: bool
                      ) -> tuple[LinkParticipation, dict] | Response:
    lp = await _open(request, session, secret, posting=posting)
    if isinstance(lp, Response):
        return lp
    draft = await service.load_draft(session, lp.p) if lp.p.token_hash else None
    if draft is None:
        return RedirectResponse(_base(secret), status_code=303)
    return lp, draft


@router.get("/m/{secret}/pruefen", response_class=HTMLResponse)
async def link_review(secret: str, request: Request, session: SessionDep) -> Response:
    found = await _with_draft(request, session, secret, posting=False)
    if isinstance(found, Response):
        return found
    lp, draft = found
    return render_review(request, secret, lp.p, draft, base=_base(secret),
                         query=_query(_draft_key(request)))


@router.post("/m/{secret}/absenden", response_class=HTMLResponse)
async def link_submit(secret: str, request: Request, session: SessionDep) -> Response:
    """The final submit (services.surveys.multiplier.submit_link); the browser then keeps
    the "answered" cookie and drops its draft key."""
    try:
        multiplier_limits(request).check_submit(request)
    except RateLimited as exc:
        return await _refused(request, session, secret, exc)
    found = await _with_draft(request, session, secret, posting=True)
    if isinstance(found, Response):
        return found
    lp, draft = found
    try:
        await multiplier.submit_link(session, lp, draft)
    except ValidationFailed as exc:
        return _form(request, secret, lp, draft, list(exc.details or []), status=422)
    except (Conflict, Gone, NotFound) as exc:
        return await _refused(request, session, secret, exc, lp.p.language)
    response = RedirectResponse(f"{_base(secret)}/danke", status_code=303)
    response.set_cookie(ANSWERED_COOKIE, "1", max_age=ANSWERED_SECONDS, path=_base(secret),
                        httponly=True, samesite="lax")
    response.delete_cookie(DRAFT_COOKIE, path=_base(secret))
    return response


@router.get("/m/{secret}/danke", response_class=HTMLResponse)
async def link_thanks(secret: str, request: Request, session: SessionDep) -> Response:
    event_sent = await event_links.multiplier_link_sent(request, session, secret)
    if event_sent is not None:
        return event_sent
    org = await multiplier.link_organisation(session, secret)
    if org is None:
        return await _refused(request, session, secret,
                              NotFound("Dieser Link ist uns nicht bekannt.",
                                       code="token_unknown"))
    await for_organisation(request, session, org)
    return status_page(request, secret, "thanks", 200, languages.page_language(request),
                       base=_base(secret))


@router.get("/m/{secret}/ergebnis", response_class=HTMLResponse)
async def partner_page(secret: str, request: Request, session: SessionDep) -> Response:
    """The partner's read-only page behind the link's results secret: its answer count,
    "weniger als 5" below five."""
    try:
        multiplier_limits(request).check_view(request)
        view = await multiplier.partner_view(session, secret)
    except (NotFound, RateLimited) as exc:
        return templates.TemplateResponse(request, "surveys/multiplier_partner.html", {
            "principal": None, "view": None, "message": exc.message,
        }, status_code=exc.status_code)
    return templates.TemplateResponse(request, "surveys/multiplier_partner.html", {
        "principal": None, "view": view, "title": pick(view.survey_title, "de"),
        "status_label": STATUS_LABELS[view.status],
    })


STATUS_LABELS = {"open": "offen", "scheduled": "noch nicht geöffnet",
                 "full": "die vorgesehene Höchstzahl ist erreicht", "closed": "geschlossen"}
