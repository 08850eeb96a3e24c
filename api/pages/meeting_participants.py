"""The participant's pages of an event: German, English for `en`, no JavaScript.

- `/t/{token}` of an event campaign (api/pages/participation.py hands such links here): the
  event, the person's registration (code, companions, or the waitlist position) and one form
  to register, change, decline or cancel.
- The public registration of a public event: `/veranstaltungen/{id}/anmeldung` (name and
  e-mail, rate-limited), confirmed by the mailed link `/anmeldung/{token}/bestaetigen` (a
  button: mail scanners that open links must not confirm), then `/anmeldung/{token}` to look
  at or cancel it.

POST-redirect-GET everywhere, so reloading never registers twice.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from api.deps import SessionDep, SettingsDep
from api.form_errors import field_message
from api.meeting_control import commit_and_wake
from api.ratelimit import participation_limits, public_registration_limits
from api.templating import templates
from services.errors import DomainError, NotFound, ValidationFailed
from services.meetings import service as meetings
from services.meetings.diversity import VALUE_LABELS
from services.meetings.mails import format_span
from services.meetings.repository import MeetingRepository
from services.meetings.schemas import (
    AGE_BANDS,
    GENDERS,
    ORIGINS,
    PublicRegistrationIn,
    RegistrationIn,
)
from services.models.meeting import Meeting, MeetingRegistration

router = APIRouter(include_in_schema=False)

TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "when": "Wann", "where": "Wo", "access": "Barrierefreiheit", "online": "Online",
        "places": "Freie Plätze", "unlimited": "ohne Begrenzung", "full": "ausgebucht – "
        "Anmeldungen kommen auf die Warteliste",
        "registered": "Sie sind angemeldet.", "code": "Ihr Check-in-Code",
        "waitlisted": "Sie stehen auf der Warteliste, Platz {n}. Wird ein Platz frei, rücken "
        "Sie automatisch nach und erhalten eine E-Mail.",
        "cancelled": "Sie haben sich abgemeldet.", "declined": "Sie haben abgesagt.",
        "pending": "Bitte bestätigen Sie Ihre Anmeldung mit dem Link in der E-Mail.",
        "answer": "Ihre Antwort", "yes": "Ich komme", "no": "Ich komme nicht",
        "companions": "Begleitpersonen (zusätzlich zu Ihnen)",
        "needs": "Was brauchen Sie, um teilnehmen zu können? (freiwillig)",
        "wheelchair": "Rollstuhlgerechter Zugang", "sign_language": "Gebärdensprache",
        "childcare": "Kinderbetreuung", "interpreter": "Dolmetschen in folgender Sprache",
        "note": "Anmerkung", "submit": "Antwort senden", "change": "Angaben ändern",
        "cancel": "Anmeldung absagen",
        "sd": "Wer nimmt teil? (freiwillig, anonym)",
        "sd_hint": "Diese Angaben werden getrennt von Ihrer Anmeldung gespeichert und lassen "
        "sich Ihnen nicht zuordnen. Sie helfen zu sehen, ob alle Gruppen erreicht werden.",
        "age_band": "Alter", "gender": "Geschlecht", "origin": "Staatsangehörigkeit / "
        "Herkunft", "group": "Ich komme als …",
        "origin_consent": "Ich willige ausdrücklich ein, dass meine Angabe zur Herkunft "
        "(Art. 9 DSGVO) anonym für die Auswertung gespeichert wird. Ohne dieses Häkchen wird "
        "sie nicht gespeichert.",
        "saved": "Ihre Antwort ist gespeichert.", "error_title": "Bitte prüfen Sie Ihre "
        "Angaben", "error_prefix": "Fehler:",
        "name": "Name", "email": "E-Mail-Adresse", "language": "Sprache der E-Mails",
        "public_submit": "Anmelden", "public_title": "Anmeldung",
        "check_mail": "Fast geschafft: Wir haben Ihnen eine E-Mail geschickt. Bitte bestätigen "
        "Sie die Anmeldung mit dem Link darin. Ohne Bestätigung wird niemand angemeldet.",
        "confirm": "Anmeldung bestätigen", "confirm_intro": "Bitte bestätigen Sie Ihre "
        "Anmeldung für diese Veranstaltung.",
        "event_cancelled": "Diese Veranstaltung ist abgesagt.",
        "event_over": "Diese Veranstaltung hat bereits stattgefunden.",
        "registration_closed": "Die Anmeldefrist ist abgelaufen.",
        "registration_not_open": "Die Anmeldung ist noch nicht geöffnet.",
        "no_places_for_companions": "Für weitere Begleitpersonen sind keine Plätze frei.",
        "unknown": "Diesen Link kennen wir nicht. Bitte prüfen Sie, ob Sie ihn vollständig "
        "aus der E-Mail übernommen haben.", "limited": "Zu viele Anfragen. Bitte warten Sie "
        "eine Minute und versuchen Sie es dann erneut.", "other_lang": "English",
        "invalid": "Bitte prüfen Sie diese Angabe.",
        **VALUE_LABELS,
    },
    "en": {
        "when": "When", "where": "Where", "access": "Accessibility", "online": "Online",
        "places": "Places free", "unlimited": "no limit", "full": "fully booked – new "
        "registrations go on the waiting list",
        "registered": "You are registered.", "code": "Your check-in code",
        "waitlisted": "You are on the waiting list, position {n}. If a place becomes free, "
        "you move up automatically and get an e-mail.",
        "cancelled": "You have cancelled your registration.", "declined": "You declined.",
        "pending": "Please confirm your registration with the link in the e-mail.",
        "answer": "Your answer", "yes": "I will come", "no": "I will not come",
        "companions": "Companions (in addition to you)",
        "needs": "What do you need to take part? (optional)",
        "wheelchair": "Wheelchair access", "sign_language": "Sign language",
        "childcare": "Childcare", "interpreter": "Interpreting into this language",
        "note": "Note", "submit": "Send answer", "change": "Change details",
        "cancel": "Cancel registration",
        "sd": "Who takes part? (optional, anonymous)",
        "sd_hint": "These answers are stored apart from your registration and cannot be traced "
        "back to you. They help to see whether all groups are reached.",
        "age_band": "Age", "gender": "Gender", "origin": "Nationality / origin",
        "group": "I come as …",
        "origin_consent": "I explicitly consent to my answer about origin (Art. 9 GDPR) being "
        "stored anonymously for the evaluation. Without this tick it is not stored.",
        "saved": "Your answer has been saved.", "error_title": "Please check your answers",
        "error_prefix": "Error:",
        "name": "Name", "email": "E-mail address", "language": "Language of the e-mails",
        "public_submit": "Register", "public_title": "Registration",
        "check_mail": "Almost done: we have sent you an e-mail. Please confirm the "
        "registration with the link in it. Nobody is registered without the confirmation.",
        "confirm": "Confirm registration", "confirm_intro": "Please confirm your registration "
        "for this event.",
        "event_cancelled": "This event has been cancelled.",
        "event_over": "This event has already taken place.",
        "registration_closed": "The registration deadline has passed.",
        "registration_not_open": "Registration is not open yet.",
        "no_places_for_companions": "There are no places left for more companions.",
        "unknown": "We do not know this link. Please check that you copied it completely "
        "from the e-mail.", "limited": "Too many requests. Please wait a minute and try "
        "again.", "other_lang": "Deutsch",
        "invalid": "Please check this entry.",
        "invalid_email": "This is not a valid e-mail address.",
        "invalid_name": "Please enter your name.",
        "keine_angabe": "prefer not to say",
        "unter_18": "under 18", "18_26": "18–26", "27_44": "27–44", "45_64": "45–64",
        "65_plus": "65 and older", "weiblich": "female", "maennlich": "male",
        "divers": "diverse", "deutsch": "German", "eu": "EU nationality",
        "nicht_eu": "other nationality", "migrationsgeschichte": "German with a migration "
        "background",
    },
}
GROUP_CHOICES = ("buergerin", "verein", "verwaltung", "politik", "keine_angabe")
GROUP_LABELS = {
    "de": {"buergerin": "Bürger*in", "verein": "Verein / Initiative", "verwaltung":
           "Verwaltung", "politik": "Politik", "keine_angabe": "keine Angabe"},
    "en": {"buergerin": "Resident", "verein": "Association / initiative", "verwaltung":
           "Administration", "politik": "Politics", "keine_angabe": "prefer not to say"},
}


def _lang(request: Request, default: str) -> str:
    wanted = request.query_params.get("lang")
    return wanted if wanted in ("de", "en") else default


async def _tz(session: AsyncSession, meeting: Meeting) -> str:
    org = await MeetingRepository.from_session(session).organisation(meeting.organisation_id)
    return (org.time_zone if org else None) or "Europe/Berlin"


async def _event_view(session: AsyncSession, meeting: Meeting, lang: str) -> dict[str, Any]:
    t = TEXTS[lang]
    if meeting.capacity == 0:
        places = t["unlimited"]
    elif meeting.status == "full":
        places = t["full"]
    else:
        places = str(max(meeting.capacity - meeting.places_taken, 0))
    return {"title": meeting.title, "description": meeting.description,
            "when": format_span(meeting, await _tz(session, meeting), lang),
            "location": meeting.location, "accessibility": meeting.accessibility,
            "online_url": meeting.online_url, "places": places,
            "cancelled": meeting.status == "cancelled"}


async def _registration_view(session: AsyncSession, reg: MeetingRegistration | None,
                             lang: str) -> dict[str, Any] | None:
    if reg is None:
        return None
    out = await meetings.registration_out(session, reg)
    t = TEXTS[lang]
    message = t.get(out.status, "")
    if out.status == "waitlisted":
        message = t["waitlisted"].format(n=out.waitlist_position)
    return {"status": out.status, "message": message, "code": out.checkin_code,
            "companions": reg.companions, "needs": dict(reg.needs or {}),
            "active": out.status in ("registered", "waitlisted")}


def _choices(lang: str) -> dict[str, list[tuple[str, str]]]:
    t = TEXTS[lang]
    return {"age_band": [(v, t[v]) for v in AGE_BANDS], "gender": [(v, t[v]) for v in GENDERS],
            "origin": [(v, t[v]) for v in ORIGINS],
            "group": [(v, GROUP_LABELS[lang][v]) for v in GROUP_CHOICES]}


def _message_page(request: Request, lang: str, heading: str, message: str,
                  status: int) -> Response:
    return templates.TemplateResponse(request, "meetings/message.html", {
        "principal": None, "lang": lang, "heading": heading, "message": message},
        status_code=status)


def _error(request: Request, lang: str, exc: DomainError) -> Response:
    t = TEXTS[lang]
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


# Which label of TEXTS names a field of the registration bodies in an error message.
_FIELD_LABELS = {"companions": "companions", "name": "name", "email": "email",
                 "language": "language", "needs.interpreter": "interpreter",
                 "needs.note": "note", "self_description.age_band": "age_band",
                 "self_description.gender": "gender", "self_description.origin": "origin",
                 "self_description.group": "group"}


def _errors_of(exc: ValidationError | ValidationFailed, lang: str) -> list[dict[str, str]]:
    """What was wrong, in the page's language and with the form's labels: never pydantic's
    English defaults, never the API's field paths."""
    t = TEXTS[lang]

    def label(field: str) -> str:
        key = _FIELD_LABELS.get(field)
        return t[key] if key else ""

    if isinstance(exc, ValidationFailed):
        if exc.code in t:
            return [{"field": "", "message": t[exc.code]}]
        details = [d for d in (exc.details or []) if isinstance(d, dict)]
        # The services' messages are German; an English page says what to fix in English.
        return [{"field": label(str(d.get("field", ""))),
                 "message": str(d.get("message", "")) if lang == "de"
                 else t.get(f"invalid_{d.get('field')}", t["invalid"])}
                for d in details] or [{"field": "", "message": exc.message if lang == "de"
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
        return _error(request, "de", exc)
    lang = _lang(request, invited.language)
    return templates.TemplateResponse(request, "meetings/participant.html", {
        "principal": None, "lang": lang, "t": TEXTS[lang], "token": token,
        "event": await _event_view(session, invited.meeting, lang),
        "registration": await _registration_view(session, invited.registration, lang),
        "choices": _choices(lang), "errors": errors or [],
        "saved": request.query_params.get("gespeichert") == "1",
        "action": f"/t/{token}" + (f"?lang={lang}" if lang != invited.language else ""),
        "other_lang": f"/t/{token}?lang={'en' if lang == 'de' else 'de'}",
    }, status_code=status)


async def event_link_post(request: Request, session: AsyncSession, token: str
                          ) -> Response | None:
    try:
        invited = await meetings.open_invitation(session, token)
    except NotFound:
        return None
    except DomainError as exc:
        return _error(request, "de", exc)
    lang = _lang(request, invited.language)
    form = await request.form()
    body = _form_body(form)
    action = form.get("aktion")
    body["attending"] = action != "absagen" and form.get("attending") != "no"
    try:
        registration = RegistrationIn.model_validate(body)
        await meetings.register_by_token(session, token, registration)
    except (ValidationError, ValidationFailed) as exc:
        await session.rollback()
        return await event_link_page(request, session, token, errors=_errors_of(exc, lang),
                                     status=422)
    except DomainError as exc:
        await session.rollback()
        return _error(request, lang, exc)
    await commit_and_wake(request, session, invited.meeting.id)
    suffix = f"&lang={lang}" if lang != invited.language else ""
    return RedirectResponse(f"/t/{token}?gespeichert=1{suffix}", status_code=303)


# --- the public registration -------------------------------------------------------------


async def _public(session: AsyncSession, meeting_id: uuid.UUID) -> Meeting | None:
    try:
        return await meetings.public_meeting(session, meeting_id)
    except NotFound:
        return None


def _public_form(request: Request, lang: str, meeting_id: uuid.UUID, event: dict[str, Any],
                 values: dict[str, Any], errors: list[dict[str, str]],
                 status: int = 200) -> Response:
    return templates.TemplateResponse(request, "meetings/public_form.html", {
        "principal": None, "lang": lang, "t": TEXTS[lang], "event": event,
        "meeting_id": meeting_id, "values": values, "errors": errors,
        "other_lang": f"/veranstaltungen/{meeting_id}/anmeldung?lang="
                      f"{'en' if lang == 'de' else 'de'}",
    }, status_code=status)


@router.get("/veranstaltungen/{meeting_id:uuid}/anmeldung", response_class=HTMLResponse)
async def public_form(meeting_id: uuid.UUID, request: Request,
                      session: SessionDep) -> Response:
    lang = _lang(request, "de")
    meeting = await _public(session, meeting_id)
    if meeting is None:
        return _message_page(request, lang, TEXTS[lang]["public_title"],
                             TEXTS[lang]["unknown"], 404)
    return _public_form(request, lang, meeting_id, await _event_view(session, meeting, lang),
                        {}, [])


@router.post("/veranstaltungen/{meeting_id:uuid}/anmeldung", response_class=HTMLResponse)
async def public_post(meeting_id: uuid.UUID, request: Request, session: SessionDep,
                      settings: SettingsDep) -> Response:
    lang = _lang(request, "de")
    meeting = await _public(session, meeting_id)
    if meeting is None:
        return _message_page(request, lang, TEXTS[lang]["public_title"],
                             TEXTS[lang]["unknown"], 404)
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ("name", "email", "companions")}
    body = _form_body(form)
    body.pop("self_description", None)
    body.update(name=values["name"], email=values["email"],
                language=str(form.get("language") or lang))
    try:
        public_registration_limits(request).check(request, values["email"])
        data = PublicRegistrationIn.model_validate(body)
        await meetings.register_public(session, meeting_id, data,
                                       secret_key=settings.resolved_secret_key())
    except (ValidationError, ValidationFailed) as exc:
        await session.rollback()
        meeting = await meetings.public_meeting(session, meeting_id)  # fresh after rollback
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
async def public_sent(meeting_id: uuid.UUID, request: Request) -> Response:
    lang = _lang(request, "de")
    return _message_page(request, lang, TEXTS[lang]["public_title"],
                         TEXTS[lang]["check_mail"], 200)


async def _public_page(request: Request, session: AsyncSession, token: str,
                       template: str) -> Response:
    try:
        participation_limits(request).check(request, token)
        reg = await meetings.public_registration(session, token)
    except DomainError as exc:
        return _error(request, _lang(request, "de"), exc)
    lang = _lang(request, reg.language)
    meeting = await MeetingRepository.from_session(session).get(reg.meeting_id)
    assert meeting is not None
    return templates.TemplateResponse(request, template, {
        "principal": None, "lang": lang, "t": TEXTS[lang], "token": token,
        "event": await _event_view(session, meeting, lang),
        "registration": await _registration_view(session, reg, lang),
    })


@router.get("/anmeldung/{token}/bestaetigen", response_class=HTMLResponse)
async def confirm_page(token: str, request: Request, session: SessionDep) -> Response:
    return await _public_page(request, session, token, "meetings/public_confirm.html")


@router.post("/anmeldung/{token}/bestaetigen", response_class=HTMLResponse)
async def confirm_post(token: str, request: Request, session: SessionDep) -> Response:
    try:
        participation_limits(request).check(request, token)
        out = await meetings.confirm_public(session, token)
    except DomainError as exc:
        await session.rollback()
        return _error(request, _lang(request, "de"), exc)
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
        return _error(request, _lang(request, "de"), exc)
    await commit_and_wake(request, session, out.meeting_id)
    return RedirectResponse(f"/anmeldung/{token}", status_code=303)
