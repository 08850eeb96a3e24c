"""The participant's pages of an event, in the six participant languages, no JavaScript.

- `/t/{token}` of an event campaign (api/pages/participation.py hands such links here): the
  event, the person's registration (code, companions, or the waitlist position) and one form
  to register, change, decline or cancel.
- The public registration of a public event: `/veranstaltungen/{id}/anmeldung` (name and
  e-mail, rate-limited), confirmed by the mailed link `/anmeldung/{token}/bestaetigen` (a
  button: mail scanners that open links must not confirm), then `/anmeldung/{token}` to look
  at or cancel it. The confirmation page also takes the voluntary self-description: it is
  stored when the address is confirmed, so an unconfirmed request never counts in "who came".
- A partner's multiplier link to an event, `/m/{secret}` (api/pages/multiplier.py hands such
  links here): the same public form and double opt-in, for the link's event whether or not
  it is public, attributed to the link (services/meetings/service.py `register_by_link`).

POST-redirect-GET everywhere, so reloading never registers twice.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from api import languages
from api.deps import SessionDep, SettingsDep
from api.form_errors import field_message
from api.meeting_control import commit_and_wake
from api.ratelimit import participation_limits, public_registration_limits
from api.templating import for_organisation
from infra.config import Settings
from services import i18n
from services.errors import DomainError, NotFound, ValidationFailed
from services.identity.service import organisation_time_zone
from services.meetings import service as meetings
from services.meetings.mails import format_span
from services.meetings.repository import MeetingRepository
from services.meetings.schemas import (
    AGE_BANDS,
    GENDERS,
    ORIGINS,
    PublicRegistrationIn,
    RegistrationIn,
    SelfDescription,
)
from services.models.meeting import Meeting, MeetingRegistration
from services.surveys import multiplier

router = APIRouter(include_in_schema=False)

GROUP_CHOICES = ("buergerin", "verein", "verwaltung", "politik", "keine_angabe")


def _render(request: Request, template: str, context: dict[str, Any], lang: str, *,
            cookie_path: str | None, status: int = 200) -> Response:
    # The switch links to a page to GET: the cancel action is POST only, its page is above.
    return languages.render(request, template, context, lang=lang, section="event",
                            switch_path=request.url.path.removesuffix("/absagen"),
                            cookie_path=cookie_path, status_code=status)


async def _event_view(session: AsyncSession, meeting: Meeting, lang: str) -> dict[str, Any]:
    t = i18n.texts(lang, "event")
    if meeting.capacity == 0:
        places = t["unlimited"]
    elif meeting.status == "full":
        places = t["full"]
    else:
        places = i18n.number(max(meeting.capacity - meeting.places_taken, 0), lang)
    tz = await organisation_time_zone(session, meeting.organisation_id)
    return {"title": meeting.title, "description": meeting.description,
            "when": format_span(meeting, tz, lang),
            "location": meeting.location, "accessibility": meeting.accessibility,
            "online_url": meeting.online_url, "places": places,
            "cancelled": meeting.status == "cancelled"}


async def _registration_view(session: AsyncSession, reg: MeetingRegistration | None,
                             lang: str) -> dict[str, Any] | None:
    if reg is None:
        return None
    out = await meetings.registration_out(session, reg)
    t = i18n.texts(lang, "event")
    message = t.get(out.status, "")
    if out.status == "waitlisted":
        message = t["waitlisted"].format(n=i18n.number(out.waitlist_position or 0, lang))
    return {"status": out.status, "message": message, "code": out.checkin_code,
            "companions": reg.companions, "needs": dict(reg.needs or {}),
            "active": out.status in ("registered", "waitlisted")}


def _choices(lang: str) -> dict[str, list[tuple[str, str]]]:
    t, groups = i18n.texts(lang, "event"), i18n.texts(lang, "event_group")
    return {"age_band": [(v, t[v]) for v in AGE_BANDS], "gender": [(v, t[v]) for v in GENDERS],
            "origin": [(v, t[v]) for v in ORIGINS],
            "group": [(v, groups[v]) for v in GROUP_CHOICES]}


def _message_page(request: Request, lang: str, heading: str, message: str,
                  status: int, cookie_path: str | None = None) -> Response:
    return _render(request, "meetings/message.html", {"heading": heading, "message": message},
                   lang, cookie_path=cookie_path, status=status)


def _error(request: Request, lang: str, exc: DomainError) -> Response:
    t = i18n.texts(lang, "event")
    if exc.code == "rate_limited":
        text = t["limited"]
    elif exc.code in t:
        text = t[exc.code]
    elif isinstance(exc, NotFound):
        text = t["unknown"]
    else:
        text = exc.message
    return _message_page(request, lang, t["public_title"], text, exc.status_code)


def _form_body(form: FormData) -> dict[str, Any]:
    """The registration form as the API's body (strings; pydantic checks them)."""
    needs = {"wheelchair": form.get("wheelchair") == "1",
             "sign_language": form.get("sign_language") == "1",
             "childcare": form.get("childcare") == "1",
             "interpreter": str(form.get("interpreter") or "").strip() or None,
             "note": str(form.get("note") or "").strip()}
    body: dict[str, Any] = {"companions": str(form.get("companions") or "0"), "needs": needs}
    sd = {k: str(form.get(f"sd_{k}") or "keine_angabe") for k in ("age_band", "gender",
                                                                   "origin", "group")}
    if any(v != "keine_angabe" for v in sd.values()):
        body["self_description"] = {**sd, "origin_consent": form.get("sd_origin_consent") == "1"}
    return body


# Which label of the catalogs' `event` texts names a field of the registration bodies in a message.
_FIELD_LABELS = {"companions": "companions", "name": "name", "email": "email",
                 "language": "language", "needs.interpreter": "interpreter",
                 "needs.note": "note", "self_description.age_band": "age_band",
                 "self_description.gender": "gender", "self_description.origin": "origin",
                 "self_description.group": "group"}


def _errors_of(exc: ValidationError | ValidationFailed, lang: str) -> list[dict[str, str]]:
    """What was wrong, in the page's language and with the form's labels: never pydantic's
    English defaults, never the API's field paths."""
    t = i18n.texts(lang, "event")
    german = lang in (i18n.DEFAULT, i18n.EASY_GERMAN)

    def label(field: str) -> str:
        key = _FIELD_LABELS.get(field)
        return t[key] if key else ""

    if isinstance(exc, ValidationFailed):
        if exc.code in t:
            return [{"field": "", "message": t[exc.code]}]
        details = [d for d in (exc.details or []) if isinstance(d, dict)]
        # The services' messages are German; another page says what to fix in its language.
        return [{"field": label(str(d.get("field", ""))),
                 "message": str(d.get("message", "")) if german
                 else t.get(f"invalid_{d.get('field')}", t["invalid"])}
                for d in details] or [{"field": "", "message": exc.message if german
                                       else t["invalid"]}]
    return [{"field": label(".".join(str(p) for p in e["loc"])),
             "message": field_message(e, lang)} for e in exc.errors()]


# --- the personal link of an event campaign --------------------------------------------


async def event_link_page(request: Request, session: AsyncSession, token: str, *,
                          errors: list[dict[str, str]] | None = None,
                          status: int = 200) -> Response | None:
    """The page of an event link; None when the token is not one (the survey page answers)."""
    try:
        invited = await meetings.open_invitation(session, token)
    except NotFound:
        return None
    except DomainError as exc:
        return _error(request, languages.page_language(request), exc)
    lang = languages.page_language(request, invited.language)
    await for_organisation(request, session, invited.meeting.organisation_id)
    return _render(request, "meetings/participant.html", {
        "token": token,
        "event": await _event_view(session, invited.meeting, lang),
        "registration": await _registration_view(session, invited.registration, lang),
        "choices": _choices(lang), "errors": errors or [],
        "saved": request.query_params.get("gespeichert") == "1",
        # The chosen language is kept by the cookie; the form posts to the bare link.
        "action": f"/t/{token}",
    }, lang, cookie_path=f"/t/{token}", status=status)


async def event_link_post(request: Request, session: AsyncSession, token: str
                          ) -> Response | None:
    try:
        invited = await meetings.open_invitation(session, token)
    except NotFound:
        return None
    except DomainError as exc:
        return _error(request, languages.page_language(request), exc)
    lang = languages.page_language(request, invited.language)
    form = await request.form()
    body = _form_body(form)
    action = form.get("aktion")
    body["attending"] = action != "absagen" and form.get("attending") != "no"
    try:
        registration = RegistrationIn.model_validate(body)
        # The language chosen on the page is the registration's: its mails follow it.
        await meetings.register_by_token(session, token, registration, language=lang)
    except (ValidationError, ValidationFailed) as exc:
        await session.rollback()
        return await event_link_page(request, session, token, errors=_errors_of(exc, lang),
                                     status=422)
    except DomainError as exc:
        await session.rollback()
        return _error(request, lang, exc)
    await commit_and_wake(request, session, invited.meeting.id)
    return RedirectResponse(f"/t/{token}?gespeichert=1", status_code=303)


# --- the public registration -------------------------------------------------------------


async def _public(session: AsyncSession, meeting_id: uuid.UUID) -> Meeting | None:
    try:
        return await meetings.public_meeting(session, meeting_id)
    except NotFound:
        return None


def _public_form(request: Request, lang: str, meeting_id: uuid.UUID, event: dict[str, Any],
                 values: dict[str, Any], errors: list[dict[str, str]],
                 status: int = 200, *, base: str | None = None) -> Response:
    """The public registration form; `base`: where it lives and posts to (the event's page,
    or a multiplier link's `/m/{secret}`)."""
    base = base or f"/veranstaltungen/{meeting_id}/anmeldung"
    return _render(request, "meetings/public_form.html", {
        "event": event, "meeting_id": meeting_id, "values": values, "errors": errors,
        "action": base,
    }, lang, cookie_path=base.removesuffix("/anmeldung"), status=status)


def _public_values(form: FormData, lang: str) -> tuple[dict[str, str], dict[str, Any]]:
    """The public form: its raw values (shown again) and the API's body."""
    values = {k: str(form.get(k) or "") for k in ("name", "email", "companions")}
    body = _form_body(form)
    body.pop("self_description", None)  # given on the confirmation page
    body.update(name=values["name"], email=values["email"],
                language=str(form.get("language") or lang))
    return values, body


@router.get("/veranstaltungen/{meeting_id:uuid}/anmeldung", response_class=HTMLResponse)
async def public_form(meeting_id: uuid.UUID, request: Request,
                      session: SessionDep) -> Response:
    lang = languages.page_language(request)
    meeting = await _public(session, meeting_id)
    if meeting is None:
        return _message_page(request, lang, i18n.text(lang, "event.public_title"),
                             i18n.text(lang, "event.unknown"), 404)
    await for_organisation(request, session, meeting.organisation_id)
    return _public_form(request, lang, meeting_id, await _event_view(session, meeting, lang),
                        {}, [])


@router.post("/veranstaltungen/{meeting_id:uuid}/anmeldung", response_class=HTMLResponse)
async def public_post(meeting_id: uuid.UUID, request: Request, session: SessionDep,
                      settings: SettingsDep) -> Response:
    lang = languages.page_language(request)
    meeting = await _public(session, meeting_id)
    if meeting is None:
        return _message_page(request, lang, i18n.text(lang, "event.public_title"),
                             i18n.text(lang, "event.unknown"), 404)
    form = await request.form()
    values, body = _public_values(form, lang)
    try:
        public_registration_limits(request).check(request, values["email"])
        data = PublicRegistrationIn.model_validate(body)
        await meetings.register_public(session, meeting_id, data,
                                       secret_key=settings.resolved_secret_key())
    except (ValidationError, ValidationFailed) as exc:
        await session.rollback()
        meeting = await meetings.public_meeting(session, meeting_id)  # fresh after rollback
        await for_organisation(request, session, meeting.organisation_id)
        return _public_form(request, lang, meeting_id,
                            await _event_view(session, meeting, lang), values,
                            _errors_of(exc, lang), status=422)
    except DomainError as exc:
        await session.rollback()
        return _error(request, lang, exc)
    await commit_and_wake(request, session, meeting_id)
    return RedirectResponse(f"/veranstaltungen/{meeting_id}/anmeldung/gesendet?lang={lang}",
                            status_code=303)


@router.get("/veranstaltungen/{meeting_id:uuid}/anmeldung/gesendet",
            response_class=HTMLResponse)
async def public_sent(meeting_id: uuid.UUID, request: Request,
                      session: SessionDep) -> Response:
    lang = languages.page_language(request)
    meeting = await _public(session, meeting_id)
    if meeting is not None:
        await for_organisation(request, session, meeting.organisation_id)
    return _message_page(request, lang, i18n.text(lang, "event.public_title"),
                         i18n.text(lang, "event.check_mail"), 200,
                         cookie_path=f"/veranstaltungen/{meeting_id}")


async def _public_page(request: Request, session: AsyncSession, token: str,
                       template: str, status: int = 200) -> Response:
    try:
        participation_limits(request).check(request, token)
        reg = await meetings.public_registration(session, token)
    except DomainError as exc:
        return _error(request, languages.page_language(request), exc)
    lang = languages.page_language(request, reg.language)
    meeting = await MeetingRepository.from_session(session).get(reg.meeting_id)
    assert meeting is not None
    await for_organisation(request, session, meeting.organisation_id)
    return _render(request, template, {
        "token": token,
        "event": await _event_view(session, meeting, lang),
        "registration": await _registration_view(session, reg, lang),
        "choices": _choices(lang),
    }, lang, cookie_path=f"/anmeldung/{token}", status=status)


@router.get("/anmeldung/{token}/bestaetigen", response_class=HTMLResponse)
async def confirm_page(token: str, request: Request, session: SessionDep) -> Response:
    return await _public_page(request, session, token, "meetings/public_confirm.html")


@router.post("/anmeldung/{token}/bestaetigen", response_class=HTMLResponse)
async def confirm_post(token: str, request: Request, session: SessionDep) -> Response:
    form = await request.form()
    try:
        participation_limits(request).check(request, token)
        sd = _form_body(form).get("self_description")
        out = await meetings.confirm_public(
            session, token,
            self_description=SelfDescription.model_validate(sd) if sd else None)
    except ValidationError:
        await session.rollback()
        return await _public_page(request, session, token, "meetings/public_confirm.html",
                                  status=422)
    except DomainError as exc:
        await session.rollback()
        return _error(request, languages.page_language(request), exc)
    await commit_and_wake(request, session, out.meeting_id)
    return RedirectResponse(f"/anmeldung/{token}", status_code=303)


@router.get("/anmeldung/{token}", response_class=HTMLResponse)
async def public_status(token: str, request: Request, session: SessionDep) -> Response:
    return await _public_page(request, session, token, "meetings/public_status.html")


@router.post("/anmeldung/{token}/absagen", response_class=HTMLResponse)
async def public_cancel(token: str, request: Request, session: SessionDep) -> Response:
    try:
        participation_limits(request).check(request, token)
        out = await meetings.cancel_public(session, token)
    except DomainError as exc:
        await session.rollback()
        return _error(request, languages.page_language(request), exc)
    await commit_and_wake(request, session, out.meeting_id)
    return RedirectResponse(f"/anmeldung/{token}", status_code=303)


# --- a partner's multiplier link to the event --------------------------------------------


async def multiplier_link_page(request: Request, session: AsyncSession, secret: str
                               ) -> Response | None:
    """`/m/{secret}` of an event's link: the public form, or the refusal (closed, expired,
    full, not yet open, the event over) as a page; None when the secret is no event link's."""
    found = await multiplier.event_link(session, secret)
    if found is None:
        return None
    link, meeting = found
    lang = languages.page_language(request)
    await for_organisation(request, session, meeting.organisation_id)
    refused = multiplier.refusal(link, meeting, datetime.now(UTC))
    if refused is not None:
        assert isinstance(refused, DomainError)
        return _error(request, lang, refused)
    return _public_form(request, lang, meeting.id, await _event_view(session, meeting, lang),
                        {}, [], base=f"/m/{secret}")


async def multiplier_link_post(request: Request, session: AsyncSession, secret: str,
                               settings: Settings) -> Response | None:
    found = await multiplier.event_link(session, secret)
    if found is None:
        return None
    # Kept before anything can roll back (which expires the loaded rows).
    meeting_id, org_id = found[1].id, found[1].organisation_id
    lang = languages.page_language(request)
    values, body = _public_values(await request.form(), lang)
    try:
        public_registration_limits(request).check(request, values["email"])
        data = PublicRegistrationIn.model_validate(body)
        await meetings.register_by_link(session, secret, data,
                                        secret_key=settings.resolved_secret_key())
    except (ValidationError, ValidationFailed) as exc:
        await session.rollback()
        _, meeting = await multiplier.event_link(session, secret) or found
        await for_organisation(request, session, meeting.organisation_id)
        return _public_form(request, lang, meeting.id,
                            await _event_view(session, meeting, lang), values,
                            _errors_of(exc, lang), status=422, base=f"/m/{secret}")
    except DomainError as exc:
        await session.rollback()
        await for_organisation(request, session, org_id)
        return _error(request, lang, exc)
    await commit_and_wake(request, session, meeting_id)
    return RedirectResponse(f"/m/{secret}/danke?lang={lang}", status_code=303)


async def multiplier_link_sent(request: Request, session: AsyncSession, secret: str
                               ) -> Response | None:
    """After the request: "we sent you a mail" (None: no event link's secret)."""
    found = await multiplier.event_link(session, secret)
    if found is None:
        return None
    await for_organisation(request, session, found[1].organisation_id)
    lang = languages.page_language(request)
    return _message_page(request, lang, i18n.text(lang, "event.public_title"),
                         i18n.text(lang, "event.check_mail"), 200, cookie_path=f"/m/{secret}")
