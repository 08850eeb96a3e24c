"""The participant's page `/t/{token}`: works without JavaScript, in the six participant
languages (services/i18n; the switch and its cookie: api/languages.py).

A link of an event campaign gets the event's page (api/pages/meeting_participants.py).

The token in the path is the capability, so the form needs no CSRF token. POST-redirect-GET:
a saved draft and a submission each redirect to a GET page, so reloading never re-submits.
Questions with a display condition are shown with a note ("only if ..."); the server ignores
their answers when the condition is not met, so the page needs no script to hide them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData

from api import languages
from api.deps import SessionDep
from api.pages import meeting_participants
from api.ratelimit import participation_limits
from services import i18n
from services.errors import Conflict, DomainError, Gone, NotFound, RateLimited, ValidationFailed
from services.surveys import service
from services.surveys.schemas import QuestionDef, pick
from services.surveys.service import Participation

router = APIRouter(include_in_schema=False)

STATUS_PAGES = {
    "token_unknown": ("unknown", 404), "token_expired": ("expired", 410),
    "survey_closed": ("closed", 410), "invitation_declined": ("declined", 410),
    "already_answered": ("answered", 409), "rate_limited": ("limited", 429),
}


def _status_page(request: Request, token: str, key: str, status: int, lang: str = "de",
                 **fmt: str) -> Response:
    t = i18n.texts(lang, "survey")
    return languages.render(request, "participation/status.html", {
        "token": token, "heading": t[f"{key}_title"], "message": t[key].format(**fmt),
        "kind": key, "show_optout": key in ("answered", "closed", "not_open"),
    }, lang=lang, section="survey", switch_path=request.url.path,
        cookie_path=f"/t/{token}", status_code=status)


async def _error_page(request: Request, session: SessionDep, token: str, exc: DomainError,
                      lang: str | None = None) -> Response:
    """The page for a refused link, in the language chosen, else the invitation's (a link
    that expired or whose survey closed still knows its person), else German."""
    key, status = STATUS_PAGES.get(exc.code, ("unknown", exc.status_code))
    if lang is None:
        own = await service.token_language(session, token) if isinstance(exc, Gone) else None
        lang = languages.page_language(request, own)
    return _status_page(request, token, key, status, lang)


def _date(value: Any, lang: str) -> str:
    return "" if value is None else i18n.datetime_text(value, lang)


def _shown(texts: dict[str, str] | None, lang: str) -> str | Markup:
    """A survey text in `lang`; where it falls back to German it is marked `lang="de"`, so a
    screen reader reading a Turkish page switches to a German voice for it."""
    value = pick(texts, lang)
    if lang == i18n.DEFAULT or not value or (texts or {}).get(lang):
        return value
    return Markup('<span lang="de" dir="ltr">{}</span>').format(value)


def _field_values(q: QuestionDef, form: FormData) -> Any:
    """The raw answer for one question from the form (strings; lists for multi-value)."""
    name = f"q_{q.id}"
    if q.kind == "multiple":
        return form.getlist(name)
    if q.kind == "ranking":
        ranks: dict[str, str] = {}
        for o in q.options:
            ranks[o.value] = str(form.get(f"{name}__{o.value}") or "").strip()
        if not any(ranks.values()):
            return None
        try:
            ordered = sorted(ranks, key=lambda v: int(ranks[v]))
            if sorted(int(r) for r in ranks.values()) != list(range(1, len(q.options) + 1)):
                return {"_ranks": ranks}
        except ValueError:
            return {"_ranks": ranks}
        return ordered
    value = form.get(name)
    return value if isinstance(value, str) else None


def _answers_from_form(p: Participation, form: FormData) -> tuple[dict[str, Any], dict[str, Any]]:
    """(answers for validation, raw values to show again). Invalid rankings are sent on as a
    dict so validation reports them while the page keeps what was chosen."""
    answers: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    for q in p.questions:
        v = _field_values(q, form)
        if v is None or v == [] or v == "":
            continue
        raw[q.id] = v["_ranks"] if isinstance(v, dict) else v
        answers[q.id] = "invalid" if isinstance(v, dict) else v
    return answers, raw


def _ranks_of(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {k: str(v) for k, v in value.items()}
    if isinstance(value, list):
        return {v: str(i + 1) for i, v in enumerate(value)}
    return {}


def _question_views(p: Participation, values: dict[str, Any]) -> list[dict[str, Any]]:
    lang = p.language
    t = i18n.texts(lang, "survey")
    by_id = {q.id: q for q in p.questions}
    out = []
    for q in p.questions:
        hints = []
        if q.kind == "text":
            hints.append(i18n.plural(lang, "survey.chars", q.max_length))
        if q.kind == "number":
            a = "" if q.min is None else i18n.number(q.min, lang)
            b = "" if q.max is None else i18n.number(q.max, lang)
            if a and b:
                hints.append(t["range"].format(a=a, b=b))
            elif a:
                hints.append(t["range_min"].format(a=a))
            elif b:
                hints.append(t["range_max"].format(b=b))
        if q.kind == "multiple":
            hints.append(t["multiple_hint"])
        condition = None
        if q.show_if is not None:
            target = by_id.get(q.show_if.question)
            if target is not None:
                labels = {o.value: pick(o.label, lang) for o in target.options}
                wanted = [f"„{labels.get(v, v)}“" for v in q.show_if.in_]
                condition = t["condition"].format(q=pick(target.text, lang),
                                                  v=f" {t['or']} ".join(wanted))
        value = values.get(q.id)
        out.append({
            "q": q, "id": q.id, "kind": q.kind, "text": _shown(q.text, lang),
            "help": _shown(q.help, lang), "required": q.required, "hints": hints,
            "condition": condition,
            "options": [{"value": o.value, "label": _shown(o.label, lang)}
                        for o in q.options],
            "labels": q.likert_labels(lang) if q.kind == "likert" else [],
            "value": value,
            "selected": set(value) if isinstance(value, list) else {str(value)}
            if value is not None else set(),
            "ranks": _ranks_of(value) if q.kind == "ranking" else {},
        })
    return out


def _render_form(request: Request, token: str, p: Participation, values: dict[str, Any],
                 errors: list[dict[str, Any]], *, saved: bool = False,
                 status: int = 200) -> Response:
    lang = p.language
    questions = _question_views(p, values)
    first_input = {}
    for qv in questions:
        if qv["kind"] in ("single", "multiple", "likert"):
            first_input[qv["id"]] = f"q-{qv['id']}-0"
        elif qv["kind"] == "ranking":
            first_input[qv["id"]] = f"q-{qv['id']}-0"
        else:
            first_input[qv["id"]] = f"q-{qv['id']}"
    error_map = {e["field"]: e["message"] for e in errors}
    texts = {q.id: pick(q.text, lang) for q in p.questions}
    summary = [{"href": "#" + first_input.get(e["field"], "antworten"),
                "text": f"{texts.get(e['field'], e['field'])} – {e['message']}"} for e in errors]
    return languages.render(request, "participation/form.html", {
        "token": token,
        "title": p.title(), "introduction": _shown(p.survey.introduction, lang),
        "anonymous": p.survey.anonymity == "anonymous", "questions": questions,
        "errors": error_map, "summary": summary, "saved": saved,
        "closes": _date(p.survey.closes_at, lang), "editing": p.answered and p.can_edit,
    }, lang=lang, section="survey", switch_path=f"/t/{token}", cookie_path=f"/t/{token}",
        status_code=status)




async def _open_for_page(request: Request, session: SessionDep, token: str, *,
                         not_open_status: int) -> Participation | Response:
    """The rate limit, the token lookup and the opening date, shared by showing and posting
    the form: the participation, or the page to show instead (error or "not open yet")."""
    try:
        participation_limits(request).check(request, token)
        p = await service.open_token(session, token)
    except (NotFound, Gone, RateLimited) as exc:
        return await _error_page(request, session, token, exc)
    # The page's language: the one chosen with the switch (kept for the token), else the
    # invitation's (the stakeholder's). Validation messages and an identified answer's
    # stored language follow it.
    p = replace(p, language=languages.page_language(request, p.language))
    if service.not_open_yet(p, datetime.now(UTC)):
        return _status_page(request, token, "not_open", not_open_status, p.language,
                            d=_date(p.survey.opens_at, p.language))
    return p


async def _event_link(page: Response,
                      event: Callable[[], Awaitable[Response | None]]) -> Response:
    """A link the survey domain does not know may be an event campaign's: its page then."""
    if page.status_code != 404:
        return page
    return (await event()) or page


@router.get("/t/{token}", response_class=HTMLResponse)
async def survey_page(token: str, request: Request, session: SessionDep,
                      gespeichert: int = 0) -> Response:
    p = await _open_for_page(request, session, token, not_open_status=200)
    if isinstance(p, Response):
        return await _event_link(p, lambda: meeting_participants.event_link_page(
            request, session, token))
    if p.answered and not p.can_edit:
        return _status_page(request, token, "answered", 200, p.language)
    values = await service.load_draft(session, p)
    if values is None and p.answered:
        values = await service.current_answers(session, p)
    return _render_form(request, token, p, values or {}, [], saved=bool(gespeichert))


@router.post("/t/{token}", response_class=HTMLResponse)
async def survey_post(token: str, request: Request, session: SessionDep) -> Response:
    p = await _open_for_page(request, session, token, not_open_status=409)
    if isinstance(p, Response):
        return await _event_link(p, lambda: meeting_participants.event_link_post(
            request, session, token))
    form = await request.form()
    answers, raw = _answers_from_form(p, form)
    action = form.get("aktion")
    try:
        if action == "speichern":
            # Invalid values are named but valid ones are kept; the page shows both.
            errors = await service.save_draft(session, token, answers, language=p.language)
            if not errors:
                return RedirectResponse(f"/t/{token}?gespeichert=1", status_code=303)
            return _render_form(request, token, p, raw, errors, status=422)
        await service.submit(session, token, answers, language=p.language)
    except ValidationFailed as exc:
        return _render_form(request, token, p, raw, list(exc.details or []), status=422)
    except (Conflict, Gone, NotFound) as exc:
        return await _error_page(request, session, token, exc, p.language)
    return RedirectResponse(f"/t/{token}/danke", status_code=303)


@router.get("/t/{token}/danke", response_class=HTMLResponse)
async def thanks(token: str, request: Request, session: SessionDep) -> Response:
    try:
        # Every view resolves the token (a lookup and the survey's questions): throttled like
        # the form, or a loop over guessed tokens would be free.
        participation_limits(request).check(request, token)
        p = await service.open_token(session, token)
    except (NotFound, Gone, RateLimited) as exc:
        return await _error_page(request, session, token, exc)
    if not p.answered:  # nothing was submitted with this link yet
        return RedirectResponse(f"/t/{token}", status_code=303)
    return _status_page(request, token, "thanks", 200,
                        languages.page_language(request, p.language))
