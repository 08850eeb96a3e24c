"""The participant's page `/t/{token}`: works without JavaScript, in the six participant
languages (services/i18n; the switch and its cookie: api/languages.py).

A link of an event campaign gets the event's page (api/pages/meeting_participants.py).

The token in the path is the capability, so the form needs no CSRF token. POST-redirect-GET:
a saved draft and a submission each redirect to a GET page, so reloading never re-submits.

Two steps to submit: the form posts to its own address, which checks the answers, keeps them
as the draft and redirects to the review page (`/t/{token}/pruefen`); only the review page's
"Verbindlich absenden" (`POST /t/{token}/absenden`) submits the draft for good. Enter in a
field presses the form's first button, "Weiter zur Überprüfung", so it never submits.
A survey with blocks (the self-check's fields) shows each block as a fieldset with a heading.
Questions with a display condition are shown with a note ("only if ..."); the server ignores
their answers when the condition is not met, so the page needs no script to hide them.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
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
from api.presentation import DEFAULT_ZONE
from api.ratelimit import participation_limits
from api.templating import for_organisation
from services import i18n
from services.campaigns import service as campaign_service
from services.errors import Conflict, DomainError, Gone, NotFound, RateLimited, ValidationFailed
from services.surveys import service
from services.surveys.repository import InvitationView, SurveyView, TokenTarget
from services.surveys.schemas import DONT_KNOW, QuestionDef, pick
from services.surveys.service import Participation
from services.surveys.validation import check_answers, range_hint

router = APIRouter(include_in_schema=False)

STATUS_PAGES = {
    "token_unknown": ("unknown", 404), "token_expired": ("expired", 410),
    "survey_closed": ("closed", 410), "invitation_declined": ("declined", 410),
    "already_answered": ("answered", 409), "rate_limited": ("limited", 429),
}


def status_page(request: Request, token: str, key: str, status: int, lang: str = "de", *,
                base: str | None = None, section: str = "survey", **fmt: str) -> Response:
    """A state page of a link. `base`: the link's own path when it is not a personal token's
    (a multiplier link: no opt-out, nobody to unsubscribe); `section`: where its texts are."""
    t = i18n.texts(lang, section)
    return languages.render(request, "participation/status.html", {
        "token": token, "heading": t[f"{key}_title"], "message": t[key].format(**fmt),
        "kind": key, "next": t.get(f"{key}_next"),
        "show_optout": base is None and key in ("answered", "closed", "not_open"),
    }, lang=lang, section="survey", switch_path=request.url.path,
        cookie_path=base or f"/t/{token}", status_code=status)


async def _error_page(request: Request, session: SessionDep, token: str, exc: DomainError,
                      lang: str | None = None) -> Response:
    """The page for a refused link, in the language chosen, else the invitation's (a link
    that expired or whose survey closed still knows its person), else German."""
    key, status = STATUS_PAGES.get(exc.code, ("unknown", exc.status_code))
    if lang is None:
        own = await service.token_language(session, token) if isinstance(exc, Gone) else None
        lang = languages.page_language(request, own)
    return status_page(request, token, key, status, lang)


def page_date(request: Request, value: Any, lang: str) -> str:
    # In the organisation's zone (set by for_organisation), as every page shows times.
    zone = getattr(request.state, "time_zone", None) or DEFAULT_ZONE
    return "" if value is None else i18n.datetime_text(value, lang, zone)


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


def answers_from_form(p: Participation, form: FormData) -> tuple[dict[str, Any], dict[str, Any]]:
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
    out: list[dict[str, Any]] = []
    for q in p.questions:
        hints = []
        if q.kind == "text":
            hints.append(i18n.plural(lang, "survey.chars", q.max_length))
        if q.kind == "number" and (allowed := range_hint(q, lang)) is not None:
            hints.append(allowed)
        if q.kind == "multiple":
            # A limit is said before the submit, not only in the error after it.
            hints.append(t["multiple_hint"] if q.max_choices is None
                         else i18n.plural(lang, "survey.choices_max", q.max_choices))
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
            "q": q, "id": q.id, "kind": q.kind, "text": _shown(q.text, lang), "block": q.block,
            "number": len(out) + 1, "dont_know": q.kind == "likert" and q.dont_know,
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


def _sections(p: Participation, questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The questions in runs of the same block: a block's run gets its title as a heading (the
    self-check's seven fields), questions outside blocks a section without one."""
    titles = {b.get("key"): pick(b.get("title"), p.language) for b in p.blocks}
    sections: list[dict[str, Any]] = []
    for qv in questions:
        block = qv["block"] if qv["block"] in titles else None
        if not sections or sections[-1]["key"] != block:
            sections.append({"key": block, "title": titles.get(block), "questions": []})
        sections[-1]["questions"].append(qv)
    return sections


def _first_inputs(questions: list[dict[str, Any]]) -> dict[str, str]:
    """The id of each question's first field (error links and the review's "Ändern")."""
    return {qv["id"]: f"q-{qv['id']}" if qv["kind"] in ("text", "number")
            else f"q-{qv['id']}-0" for qv in questions}


def question_parts(p: Participation, values: dict[str, Any], errors: list[dict[str, Any]],
                   *, fallback: str = "antworten") -> dict[str, Any]:
    """What the question macros (participation/_questions.html) need: the question views,
    their sections (blocks), the errors by question and the error summary's links (`fallback`:
    the anchor of an error that names no question). Also the staff's entry page uses it."""
    questions = _question_views(p, values)
    first_input = _first_inputs(questions)
    texts = {q.id: pick(q.text, p.language) for q in p.questions}
    return {
        "questions": questions, "sections": _sections(p, questions),
        "errors": {e["field"]: e["message"] for e in errors},
        "summary": [{"href": "#" + first_input.get(e["field"], fallback),
                     "text": f"{texts.get(e['field'], e['field'])} – {e['message']}"}
                    for e in errors],
    }


def render_form(request: Request, token: str, p: Participation, values: dict[str, Any],
                errors: list[dict[str, Any]], *, saved: bool = False,
                status: int = 200, preview: dict[str, str] | None = None,
                base: str | None = None, note: str | None = None, query: str = "") -> Response:
    """The participant's form. `base`: the address it posts to when it is not the token's
    own `/t/{token}` (a multiplier link; no decline or unsubscribe then); `note`: a notice
    under the anonymity note (the multiplier link's cookie); `query`: kept on the form's
    own addresses (a multiplier link's draft key for a browser without cookies)."""
    lang = p.language
    parts = question_parts(p, values, errors)
    questions, error_map, summary = parts["questions"], parts["errors"], parts["summary"]
    # A preview has no link of its own: no language switch and nothing to keep in a cookie.
    own_path = None if preview else (base or f"/t/{token}")
    return languages.render(request, "participation/form.html", {
        "token": token, "base": base or f"/t/{token}", "person": base is None, "note": note,
        "query": query,
        # `title` for the window title (plain text), `heading` marks a German fallback.
        "title": p.title(), "heading": _shown(p.survey.title, lang),
        "introduction": _shown(p.survey.introduction, lang),
        "anonymous": p.survey.anonymity == "anonymous", "questions": questions,
        "sections": parts["sections"], "dont_know_value": DONT_KNOW,
        "errors": error_map, "summary": summary, "saved": saved,
        "closes": page_date(request, p.survey.closes_at, lang),
        "editing": p.answered and p.can_edit,
        "preview": preview,
    }, lang=lang, section="survey", switch_path=own_path, cookie_path=own_path,
        status_code=status)


# A preview has no invitation; the participant's rendering needs only the survey and language.
_PREVIEW_INVITATION = InvitationView(
    id=uuid.UUID(int=0), organisation_id=uuid.UUID(int=0), status="preview", group_key="",
    reach_tier=0, language="", expires_at=None)


def preview_page(request: Request, survey: SurveyView, questions: list[QuestionDef],
                 lang: str, *, back: str, switch: tuple[str, str] | None = None) -> Response:
    """The form exactly as a participant sees it, read only (the staff's preview): the same
    template and question views; the form cannot be sent and its links lead nowhere. `back`
    is the staff page to return to; `switch` (URL, label) the preview in the other language."""
    lang = i18n.supported(lang)
    p = Participation(token_hash="", target=TokenTarget(_PREVIEW_INVITATION, "survey", survey),
                      survey=survey, questions=questions, answered=False, language=lang)
    return render_form(request, "vorschau", p, {}, [],
                       preview={"back": back, "switch_href": switch[0] if switch else "",
                                "switch_label": switch[1] if switch else ""})


def _number_text(value: Any) -> str:
    """A number as entered ("3,5", "1000000"), never in exponent notation."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace(".", ",")


def _answer_text(qv: dict[str, Any], value: Any, t: Mapping[str, Any]) -> str:
    """An answer as the review page shows it: labels, not stored values."""
    labels = {o["value"]: o["label"] for o in qv["options"]}
    if qv["kind"] == "single":
        return labels.get(value, str(value))
    if qv["kind"] == "multiple":
        return ", ".join(labels.get(v, v) for v in value)
    if qv["kind"] == "ranking":
        return "; ".join(f"{i}. {labels.get(v, v)}" for i, v in enumerate(value, 1))
    if qv["kind"] == "likert":
        if value == DONT_KNOW:
            return t["dont_know"]
        return f"{value} – {qv['labels'][int(value) - 1]}"
    if qv["kind"] == "number":
        return _number_text(value)
    return str(value)


def render_review(request: Request, token: str, p: Participation,
                  draft: dict[str, Any], *, base: str | None = None,
                  query: str = "") -> Response:
    lang = p.language
    t = i18n.texts(lang, "survey")
    # Only what the submission keeps: answers of questions hidden by a condition are dropped.
    normalised, _, _ = check_answers(p.questions, draft, lang=lang, partial=True)
    questions = _question_views(p, normalised)
    first_input = _first_inputs(questions)
    own = base or f"/t/{token}"
    for qv in questions:
        value = normalised.get(qv["id"])
        qv["answer"] = None if value is None else _answer_text(qv, value, t)
        qv["href"] = f"{own}{query}#{first_input[qv['id']]}"
    return languages.render(request, "participation/review.html", {
        "token": token, "base": own, "person": base is None, "query": query,
        "title": p.title(), "heading": _shown(p.survey.title, lang),
        "sections": _sections(p, questions), "anonymous": p.survey.anonymity == "anonymous",
    }, lang=lang, section="survey", switch_path=f"{own}/pruefen", cookie_path=own)


async def _open_for_page(request: Request, session: SessionDep, token: str, *,
                         not_open_status: int) -> Participation | Response:
    """The rate limit, the token lookup and the opening date, shared by showing and posting
    the form: the participation, or the page to show instead (error or "not open yet")."""
    try:
        participation_limits(request).check(request, token)
        p = await service.open_token(session, token)
    except (NotFound, Gone, RateLimited) as exc:
        if isinstance(exc, Gone):  # a real link (declined, expired, closed): its footer
            await _footer_of_token(request, session, token)
        return await _error_page(request, session, token, exc)
    await for_organisation(request, session, p.target.invitation.organisation_id)
    # The page's language: the one chosen with the switch (kept for the token), else the
    # invitation's (the stakeholder's). Validation messages and an identified answer's
    # stored language follow it.
    p = replace(p, language=languages.page_language(request, p.language))
    if service.not_open_yet(p, datetime.now(UTC)):
        return status_page(request, token, "not_open", not_open_status, p.language,
                           d=page_date(request, p.survey.opens_at, p.language))
    return p


async def _footer_of_token(request: Request, session: SessionDep, token: str) -> None:
    try:
        invitation = await campaign_service.invitation_for_token(session, token)
    except NotFound:
        return
    await for_organisation(request, session, invitation.organisation_id)


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
        return status_page(request, token, "answered", 200, p.language)
    values = await service.load_draft(session, p)
    if values is None and p.answered:
        values = await service.current_answers(session, p)
    return render_form(request, token, p, values or {}, [], saved=bool(gespeichert))


@router.post("/t/{token}", response_class=HTMLResponse)
async def survey_post(token: str, request: Request, session: SessionDep) -> Response:
    p = await _open_for_page(request, session, token, not_open_status=409)
    if isinstance(p, Response):
        return await _event_link(p, lambda: meeting_participants.event_link_post(
            request, session, token))
    form = await request.form()
    answers, raw = answers_from_form(p, form)
    # Whatever the button (also "absenden" from a page rendered before the review step
    # existed): this address never submits for good, it keeps the answers as the draft and
    # goes on to the review, or back to the form with what is missing.
    review = form.get("aktion") != "speichern"
    try:
        # Invalid values are named but valid ones are kept; the page shows both.
        errors = await service.save_draft(session, token, answers, complete=review,
                                          language=p.language)
    except (Conflict, Gone, NotFound) as exc:
        return await _error_page(request, session, token, exc, p.language)
    if errors:
        return render_form(request, token, p, raw, errors, status=422)
    if review:
        return RedirectResponse(f"/t/{token}/pruefen", status_code=303)
    return RedirectResponse(f"/t/{token}?gespeichert=1", status_code=303)


async def _answerable_draft(request: Request, session: SessionDep, token: str, *,
                            posting: bool) -> tuple[Participation, dict[str, Any]] | Response:
    """The participation and its draft for the review and the confirmation, or the page to
    show instead (error, "answered", or back to the form when there is no draft)."""
    refused = 409 if posting else 200  # a GET shows the state, a POST was refused
    p = await _open_for_page(request, session, token, not_open_status=refused)
    if isinstance(p, Response):
        return p
    if p.answered and not p.can_edit:
        return status_page(request, token, "answered", refused, p.language)
    draft = await service.load_draft(session, p)
    if draft is None:
        return RedirectResponse(f"/t/{token}", status_code=303)
    return p, draft


@router.get("/t/{token}/pruefen", response_class=HTMLResponse)
async def review_page(token: str, request: Request, session: SessionDep) -> Response:
    found = await _answerable_draft(request, session, token, posting=False)
    if isinstance(found, Response):
        return found
    p, draft = found
    return render_review(request, token, p, draft)


@router.post("/t/{token}/absenden", response_class=HTMLResponse)
async def confirm(token: str, request: Request, session: SessionDep) -> Response:
    """The final submit: the draft the review showed, in the one submission transaction
    (services.surveys.service.submit), which deletes the draft with it."""
    found = await _answerable_draft(request, session, token, posting=True)
    if isinstance(found, Response):
        return found
    p, draft = found
    try:
        await service.submit(session, token, draft, language=p.language)
    except ValidationFailed as exc:
        return render_form(request, token, p, draft, list(exc.details or []), status=422)
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
    await for_organisation(request, session, p.target.invitation.organisation_id)
    if not p.answered:  # nothing was submitted with this link yet
        return RedirectResponse(f"/t/{token}", status_code=303)
    return status_page(request, token, "thanks", 200,
                       languages.page_language(request, p.language))
