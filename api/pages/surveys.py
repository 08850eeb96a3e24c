"""The coordinator's survey pages: a process's surveys, creating one, the question editor, the
preview and opening/closing (German, server-rendered, plain HTML forms, no JavaScript).

Every rule is the service's or the schema's (services/surveys): the pages turn form fields
into the same definitions the JSON API takes and hand them to the same functions, so a survey
built here is one the API could have built. Each form POSTs and redirects (303) on success;
on an error the form is shown again with the entered values and each message next to its
field. The editor keeps no state of its own: every change (add, edit, remove, move a question,
the settings, the blocks) is a whole new definition for `change_questions`, which versions a
survey that already has answers.
"""

from __future__ import annotations

import math
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.deps import SessionDep, SettingsDep
from api.pages.participation import preview_page
from api.pages.staff_context import StaffUser, shown_as_page, time_zone_of
from api.routes.assisted import pdf_attachment
from api.templating import templates
from infra.config import Settings
from services import i18n
from services.campaigns.service import campaigns_of_process
from services.errors import DomainError, NotFound
from services.identity.service import Principal
from services.models.campaign import Campaign
from services.models.organisation import Role
from services.models.process import Process
from services.models.survey import Survey
from services.processes.service import process_for
from services.surveys import paper, paper_print, service
from services.surveys.assisted import ENTRY_ROLES
from services.surveys.poster import poster_languages
from services.surveys.repository import SurveyView
from services.surveys.schemas import (
    DEFAULT_LIKERT_LABELS,
    QuestionDef,
    SurveyCreate,
    SurveyDefinition,
    SurveyOut,
    pick,
)
from services.template_store.service import visible_templates

router = APIRouter(include_in_schema=False)

EDITORS = (Role.coordinator,)  # the roles of the API's POST/PUT (admins pass every check)
STATUS_LABELS = {"open": "offen", "closed": "beendet", "scheduled": "geplant"}
KIND_LABELS = {
    "single": "Einfachauswahl (eine Antwort)", "multiple": "Mehrfachauswahl",
    "likert": "Zustimmungsskala (1–5)", "text": "Freitext", "number": "Zahl",
    "ranking": "Rangfolge",
}
ORIGIN_LABELS = {"shipped": "mitgeliefert", "platform": "für alle freigegeben",
                 "organisation": "eigene Vorlage"}
ANONYMITY_LABELS = {"anonymous": "anonym", "identified": "namentlich (der Einladung zugeordnet)"}
FLASH = {
    "created": "Die Umfrage wurde angelegt.", "saved": "Die Änderung ist gespeichert.",
    "added": "Die Frage wurde hinzugefügt.", "removed": "Die Frage wurde entfernt.",
    "moved": "Die Reihenfolge ist geändert.", "opened": "Die Umfrage ist jetzt geöffnet.",
    "closed": "Die Umfrage ist jetzt beendet.",
}
DATETIME_HINT = "Datum und Uhrzeit, z. B. 2026-03-01 09:00 oder 01.03.2026 09:00"
# What the schema's own messages call a field, in the words of the form.
_WORDS = {"min_choices": "die Mindestzahl", "max_choices": "die Höchstzahl",
          "min ist größer als max": "der Mindestwert ist größer als der Höchstwert",
          "closes_at liegt nicht nach opens_at": "das Ende liegt nicht nach dem Beginn"}


class FormInvalid(Exception):
    """Field name -> message (German), shown next to each field and in the summary."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


# --- pydantic's errors in German, at the form's fields ------------------------------------


def _german(err: Any) -> str:
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "value_error":
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
    elif kind == "string_pattern_mismatch":
        msg = "enthält unzulässige Zeichen (erlaubt: Buchstaben ohne Umlaute, Ziffern, _ und -)"
    elif kind == "missing":
        msg = "fehlt"
    elif kind == "too_short":
        msg = "zu wenige Einträge"
    elif kind == "too_long":
        msg = "zu viele Einträge"
    elif kind == "greater_than_equal":
        msg = f"muss mindestens {ctx.get('ge')} sein"
    elif kind == "less_than_equal":
        msg = f"darf höchstens {ctx.get('le')} sein"
    elif kind == "literal_error":
        msg = "ist keine der angebotenen Möglichkeiten"
    else:
        msg = "ist ungültig"
    for word, said in _WORDS.items():
        msg = msg.replace(word, said)
    return msg[:1].upper() + msg[1:] + ("" if msg.endswith(".") else ".")


# The question form's field for each part of a QuestionDef.
_QUESTION_FIELDS = {
    "id": "kennung", "kind": "typ", "text": "text_de", "help": "hilfe_de",
    "options": "optionen", "labels": "likert_de_1", "max_length": "max_laenge", "min": "min",
    "max": "max", "min_choices": "min_wahl", "max_choices": "max_wahl",
    "show_if": "bedingung_frage", "block": "block",
}


def _question_field(loc: tuple[Any, ...], message: str) -> str:
    """The form field a question error belongs to (its own field, or by what it says)."""
    if loc and str(loc[0]) in _QUESTION_FIELDS:
        return _QUESTION_FIELDS[str(loc[0])]
    for word, name in (("Höchstzahl", "max_wahl"), ("Mindestzahl", "min_wahl"),
                       ("Antwortmöglichkeit", "optionen"), ("Likert", "likert_de_1"),
                       ("Mindestwert", "max"), ("unbekannte Werte", "bedingung_werte"),
                       ("Bedingung", "bedingung_frage"), ("Block", "block"),
                       ("Kennung", "kennung")):
        if word in message:
            return name
    return "allgemein"


def _question_error(loc: tuple[Any, ...], err: Any) -> tuple[str, str]:
    """(form field, message) of an error inside one question (`loc` relative to it)."""
    msg = _german(err)
    if loc and loc[0] == "options" and len(loc) > 1 and isinstance(loc[1], int):
        msg = f"Zeile {loc[1] + 1}: {msg}"
    return _question_field(loc, msg), msg


def _question_errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors():
        name, msg = _question_error(tuple(err.get("loc", ())), err)
        out.setdefault(name, msg)
    return out


def _definition(out: SurveyOut) -> dict[str, Any]:
    """The survey as a definition (the body of PUT /questions), for the editor to change."""
    return {"title": out.title, "introduction": out.introduction, "anonymity": out.anonymity,
            "allow_edits": out.allow_edits, "blocks": out.blocks,
            "questions": [dict(q) for q in out.questions]}


# The settings form's field for each part of a definition.
_SURVEY_FIELDS = {"title": "titel_de", "introduction": "einleitung_de",
                  "anonymity": "anonymitaet", "allow_edits": "aenderbar", "blocks": "bloecke"}


def _check_definition(data: dict[str, Any], question_index: int | None = None
                      ) -> SurveyDefinition:
    """The definition, or FormInvalid: the errors of question `question_index` (the one the
    form edits) at its fields, the others at the settings' fields or under "allgemein"."""
    try:
        return SurveyDefinition.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        own = (data["questions"][question_index]["id"] if question_index is not None
               and question_index < len(data["questions"]) else None)
        for err in exc.errors():
            loc = tuple(err.get("loc", ()))
            msg = _german(err)
            if loc == ("questions",):
                name, msg = "allgemein", ("Die Umfrage braucht mindestens eine Frage."
                                          if err.get("type") == "too_short" else msg)
            elif loc[:1] == ("questions",) and loc[1] == question_index:
                name, msg = _question_error(loc[2:], err)
            elif loc[:1] == ("questions",):
                name, msg = "allgemein", f"Frage {int(loc[1]) + 1}: {msg}"
            elif not loc and own is not None and msg.startswith(f"Frage {own}:"):
                name = _question_field((), msg)
            elif loc:
                name = _SURVEY_FIELDS.get(str(loc[0]), "allgemein")
            else:
                name = "aenderbar" if "Anonyme" in msg else "allgemein"
            errors.setdefault(name, msg)
        raise FormInvalid(errors) from None


# --- form values ------------------------------------------------------------------------


def _text(form: FormData, name: str, limit: int = 20000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _form_dict(form: FormData, names: list[str]) -> dict[str, str]:
    return {n: _text(form, n) for n in names}


def _i18n(de: str, en: str) -> dict[str, str]:
    return {k: v for k, v in (("de", de), ("en", en)) if v}


_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe",
                           "Ü": "ue"})


def slug(text: str, limit: int = 40) -> str:
    """A key from a text: "Bildung & Betreuung" -> "bildung_betreuung" (lowercase ASCII)."""
    plain = unicodedata.normalize("NFKD", text.translate(_TRANSLIT)).encode(
        "ascii", "ignore").decode()
    key = re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")[:limit].rstrip("_")
    return key if key[:1].isalpha() else ("f_" + key)[:limit].rstrip("_") if key else ""


def _unique(key: str, taken: set[str]) -> str:
    if key not in taken:
        return key
    n = 2
    while f"{key[:36]}_{n}" in taken:
        n += 1
    return f"{key[:36]}_{n}"


def _number(value: str, name: str, errors: dict[str, str], *, integer: bool = False
            ) -> float | int | None:
    if not value:
        return None
    try:
        n = float(value.replace(" ", "").replace(",", "."))
    except ValueError:
        n = math.nan
    if not math.isfinite(n) or abs(n) > 1e15:  # larger is no answer and no bound either
        errors[name] = ("Bitte eine ganze Zahl eingeben." if integer
                        else "Bitte eine Zahl eingeben (z. B. 3 oder 2,5).")
        return None
    if integer:
        if not n.is_integer():
            errors[name] = "Bitte eine ganze Zahl eingeben."
            return None
        return int(n)
    return n


QUESTION_NAMES = (["kennung", "typ", "text_de", "text_en", "hilfe_de", "hilfe_en", "pflicht",
                   "optionen", "min", "max", "ganzzahl", "max_laenge", "min_wahl", "max_wahl",
                   "bedingung_frage", "bedingung_werte", "block"]
                  + [f"likert_{lang}_{i}" for lang in ("de", "en") for i in range(1, 6)])


def _fmt(n: float | int | None) -> str:
    if n is None:
        return ""
    return (str(int(n)) if float(n).is_integer() else str(n)).replace(".", ",")


def question_form(q: dict[str, Any]) -> dict[str, str]:
    """A stored question (as the API returns it) as the values of the question form."""
    text, help_ = q.get("text") or {}, q.get("help") or {}
    form = {
        "kennung": q["id"], "typ": q["kind"], "text_de": text.get("de", ""),
        "text_en": text.get("en", ""), "hilfe_de": help_.get("de", ""),
        "hilfe_en": help_.get("en", ""), "pflicht": "1" if q.get("required") else "",
        "optionen": "\n".join(
            " | ".join([o["value"], o["label"].get("de", "")]
                       + ([o["label"]["en"]] if o["label"].get("en") else []))
            for o in q.get("options", [])),
        "min": _fmt(q.get("min")), "max": _fmt(q.get("max")),
        "ganzzahl": "1" if q.get("integer") else "",
        "max_laenge": str(q.get("max_length", 2000)),
        "min_wahl": str(q.get("min_choices", "") or ""), "max_wahl": str(q.get("max_choices")
                                                                         or ""),
        "bedingung_frage": (q.get("show_if") or {}).get("question", ""),
        "bedingung_werte": ", ".join((q.get("show_if") or {}).get("in", [])),
        "block": q.get("block") or "",
    }
    labels = q.get("labels") or {}
    for lang in ("de", "en"):
        for i in range(5):
            got = labels.get(lang) or []
            form[f"likert_{lang}_{i + 1}"] = got[i] if i < len(got) else ""
    return form


def _options(text: str, errors: dict[str, str]) -> list[dict[str, Any]]:
    """One option a line: "Beschriftung", "wert | Beschriftung" or "wert | Deutsch | English"."""
    out: list[dict[str, Any]] = []
    taken: set[str] = set()
    for n, line in enumerate(text.splitlines(), start=1):
        parts = [p.strip() for p in line.split("|")]
        if not any(parts):
            continue
        if len(parts) == 1:
            value, de, en = _unique(slug(parts[0], 100) or f"option_{n}", taken), parts[0], ""
        elif len(parts) in (2, 3):
            value, de, en = parts[0], parts[1], parts[2] if len(parts) == 3 else ""
        else:
            errors.setdefault("optionen", f"Zeile {n}: höchstens zwei „|“ (Wert | Deutsch | "
                                          "Englisch).")
            continue
        taken.add(value)
        out.append({"value": value, "label": _i18n(de, en)})
    return out


def question_data(form: dict[str, str], taken: set[str]) -> tuple[dict[str, Any],
                                                                   dict[str, str]]:
    """The question form as a question of the definition (only the fields of its type count,
    so switching the type never trips over the other types' leftovers), and the errors of
    fields that are not even numbers."""
    errors: dict[str, str] = {}
    kind = form["typ"] if form["typ"] in KIND_LABELS else "text"
    key = form["kennung"] or _unique(slug(form["text_de"]) or "frage", taken)
    data: dict[str, Any] = {
        "id": key, "kind": kind, "text": _i18n(form["text_de"], form["text_en"]),
        "help": _i18n(form["hilfe_de"], form["hilfe_en"]), "required": form["pflicht"] == "1",
    }
    if kind in ("single", "multiple", "ranking"):
        data["options"] = _options(form["optionen"], errors)
    if kind == "likert":
        labels: dict[str, list[str]] = {}
        for lang in ("de", "en"):
            got = [form[f"likert_{lang}_{i}"] for i in range(1, 6)]
            if any(got) and not all(got):
                errors[f"likert_{lang}_1"] = ("Bitte alle fünf Beschriftungen angeben oder "
                                              "alle leer lassen (dann gelten die Standard"
                                              "beschriftungen).")
            elif all(got):
                labels[lang] = got
        if labels.get("en") and not labels.get("de"):
            labels["de"] = DEFAULT_LIKERT_LABELS["de"]
        data["labels"] = labels
    if kind == "number":
        data["integer"] = form["ganzzahl"] == "1"
        data["min"] = _number(form["min"], "min", errors)
        data["max"] = _number(form["max"], "max", errors)
    if kind == "text":
        length = _number(form["max_laenge"], "max_laenge", errors, integer=True)
        if length is not None:
            data["max_length"] = length
    if kind == "multiple":
        data["min_choices"] = _number(form["min_wahl"], "min_wahl", errors, integer=True) or 0
        data["max_choices"] = _number(form["max_wahl"], "max_wahl", errors, integer=True)
    if form["bedingung_frage"]:
        values = [v.strip() for v in form["bedingung_werte"].split(",") if v.strip()]
        if not values:
            errors["bedingung_werte"] = ("Bitte die Antwort(en) angeben, bei denen die Frage "
                                         "erscheint.")
        data["show_if"] = {"question": form["bedingung_frage"], "in": values or ["-"]}
    if form["block"]:
        data["block"] = form["block"]
    return data, errors


# --- loading, with another organisation's survey a 404 ----------------------------------



def _local(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%d.%m.%Y, %H:%M Uhr") if value else ""


def _phases(process: Process) -> list[dict[str, str]]:
    return [{"key": str(p.get("key")), "title": str(p.get("title") or p.get("key"))}
            for p in (process.template_snapshot or {}).get("phases", []) if p.get("key")]


@dataclass
class Editor:
    survey: Survey
    out: SurveyOut
    process: Process
    tz: ZoneInfo
    phase_titles: dict[str, str]
    campaigns: list[Campaign]  # this survey's invitations (for the personal paper forms)


async def _editor(session: SessionDep, principal: Principal, survey_id: uuid.UUID,
                  *roles: Role) -> Editor:
    survey = await service.survey_for(session, principal, survey_id, *roles)
    process = await process_for(session, principal, survey.process_id)
    campaigns = [c for c in await campaigns_of_process(session, process.id)
                 if c.kind == "survey" and c.target_id == survey.id]
    return Editor(survey, await service.survey_out(session, survey), process,
                  await time_zone_of(session, survey.organisation_id),
                  {p["key"]: p["title"] for p in _phases(process)}, campaigns)


def _summary(errors: dict[str, str], labels: dict[str, str]) -> list[dict[str, str]]:
    return [{"href": f"#{name}" if name != "allgemein" else "#fehler",
             "text": f"{labels[name]}: {msg}" if name in labels else msg}
            for name, msg in errors.items()]


# --- the process's surveys ------------------------------------------------------------------


@router.get("/app/processes/{process_id}/surveys", response_class=HTMLResponse)
async def list_page(process_id: uuid.UUID, request: Request, session: SessionDep,
                    principal: StaffUser) -> Response:
    with shown_as_page(principal):
        process = await process_for(session, principal, process_id)
    surveys = await service.surveys_of_process(session, process.id)
    titles = [pick(s.title, "de") for s in surveys]
    return templates.TemplateResponse(request, "surveys/process_list.html", {
        "principal": principal, "process": process, "surveys": surveys, "pick": pick,
        "tz": await time_zone_of(session, process.organisation_id), "local": _local,
        "status_labels": STATUS_LABELS, "same_name": {t for t in titles if titles.count(t) > 1},
        "phase_titles": {p["key"]: p["title"] for p in _phases(process)},
        "can_edit": principal.role_in(process.organisation_id) in (*EDITORS, Role.admin),
    })


# --- creating a survey ----------------------------------------------------------------------

CREATE_NAMES = ["vorlage", "abschnitt", "titel", "beginn", "ende", "anonymitaet",
                "erste_frage"]
CREATE_LABELS = {"vorlage": "Grundlage", "abschnitt": "Abschnitt", "titel": "Titel",
                 "beginn": "Beginn", "ende": "Ende", "anonymitaet": "Anonymität",
                 "erste_frage": "Erste Frage", "allgemein": "Umfrage"}


def parse_local(value: str, tz: ZoneInfo) -> datetime:
    """A date and time as the form sends it (datetime-local, or typed in German) in the
    organisation's zone; ValueError if it is none."""
    value = value.strip().replace("Uhr", "").strip().rstrip(",")
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y %H:%M",
                "%d.%m.%Y, %H:%M", "%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    raise ValueError(value)


async def _sources(session: SessionDep, process: Process) -> dict[str, list[dict[str, str]]]:
    refs = [r for r in (process.template_snapshot or {}).get("surveys", []) or []
            if isinstance(r, dict) and r.get("key")]
    entries = await visible_templates(session, [process.organisation_id], "survey")
    return {
        "process": [{"value": f"prozess:{r['key']}",
                     "label": f"{r.get('title') or r['key']} (Vorlage {r.get('survey')})"}
                    for r in refs],
        "templates": [{"value": f"vorlage:{e.key}",
                       "label": f"{e.title} ({ORIGIN_LABELS.get(e.origin, e.origin)}, "
                                f"{e.questions} Fragen)"}
                      for e in entries],
    }


async def _new_page(request: Request, session: SessionDep, principal: Principal,
                    process: Process, form: dict[str, str], errors: dict[str, str],
                    status_code: int = 200) -> Response:
    sources = await _sources(session, process)
    return templates.TemplateResponse(request, "surveys/new.html", {
        "principal": principal, "process": process, "form": form, "errors": errors,
        "summary": _summary(errors, CREATE_LABELS), "sources": sources,
        "phases": _phases(process), "anonymity_labels": ANONYMITY_LABELS,
        "datetime_hint": DATETIME_HINT,
    }, status_code=status_code)


@router.get("/app/processes/{process_id}/surveys/new", response_class=HTMLResponse)
async def new_page(process_id: uuid.UUID, request: Request, session: SessionDep,
                   principal: StaffUser) -> Response:
    with shown_as_page(principal):
        process = await process_for(session, principal, process_id, *EDITORS)
    sources = await _sources(session, process)
    first = (sources["process"] or sources["templates"] or [{"value": "leer"}])[0]["value"]
    form = dict.fromkeys(CREATE_NAMES, "") | {"vorlage": first, "anonymitaet": "anonymous"}
    return await _new_page(request, session, principal, process, form, {})


def _create_body(form: dict[str, str], tz: ZoneInfo) -> SurveyCreate:
    errors: dict[str, str] = {}
    body: dict[str, Any] = {"phase": form["abschnitt"] or None}
    source = form["vorlage"]
    if source.startswith(("prozess:", "vorlage:")):
        body["from_template"] = source.split(":", 1)[1]
        if form["titel"]:
            body["title"] = form["titel"]
    elif source == "leer":
        if not form["titel"]:
            errors["titel"] = "Bitte einen Titel angeben."
        if not form["erste_frage"]:
            errors["erste_frage"] = ("Bitte die erste Frage angeben; weitere Fragen und "
                                     "ihre Art legen Sie danach im Fragen-Editor fest.")
        body |= {"title": form["titel"] or "-", "anonymity": form["anonymitaet"] or None,
                 "questions": [{"id": slug(form["erste_frage"]) or "frage_1", "kind": "text",
                                "text": form["erste_frage"] or "-"}]}
    else:
        errors["vorlage"] = "Bitte eine Vorlage oder „leere Umfrage“ wählen."
    for name, key in (("beginn", "opens_at"), ("ende", "closes_at")):
        if form[name]:
            try:
                body[key] = parse_local(form[name], tz)
            except ValueError:
                errors[name] = f"Bitte Datum und Uhrzeit angeben ({DATETIME_HINT})."
    try:
        created = SurveyCreate.model_validate(body)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err.get("loc", ()))
            name = {"opens_at": "beginn", "closes_at": "ende", "anonymity": "anonymitaet",
                    "title": "titel"}.get(str(loc[0]) if loc else "", "ende")
            errors.setdefault(name, _german(err))
        created = None
    if errors or created is None:
        raise FormInvalid(errors)
    return created


def _create_errors(exc: DomainError) -> dict[str, str]:
    """The service's refusal at the create form's fields."""
    errors: dict[str, str] = {}
    details = exc.details if isinstance(exc.details, list) else []
    for d in details:
        if not isinstance(d, dict):
            continue
        where = str(d.get("field", ""))
        if where == "phase":
            errors["abschnitt"] = exc.message
        elif where.startswith("title"):
            errors["titel"] = "Bitte einen Titel angeben (der deutsche Text fehlt)."
        elif where.startswith("anonymity") or where.startswith("allow_edits"):
            errors["anonymitaet"] = exc.message
    if not errors:
        errors["vorlage" if exc.code == "template_not_found" else "allgemein"] = exc.message
    return errors


@router.post("/app/processes/{process_id}/surveys/new", response_class=HTMLResponse)
async def create_page(process_id: uuid.UUID, request: Request, session: SessionDep,
                      principal: StaffUser) -> Response:
    with shown_as_page(principal):
        process = await process_for(session, principal, process_id, *EDITORS)
    form = _form_dict(await request.form(), CREATE_NAMES)
    try:
        body = _create_body(form, await time_zone_of(session, process.organisation_id))
        survey = await service.create_survey(session, process.id, body, actor=principal.email)
    except FormInvalid as exc:
        return await _new_page(request, session, principal, process, form, exc.errors, 422)
    except DomainError as exc:
        await session.rollback()
        process = await process_for(session, principal, process_id, *EDITORS)
        return await _new_page(request, session, principal, process, form,
                               _create_errors(exc), exc.status_code)
    return RedirectResponse(f"/app/surveys/{survey.id}/bearbeiten?ok=created", status_code=303)


# --- the editor -------------------------------------------------------------------------

SETTINGS_NAMES = ["titel_de", "titel_en", "einleitung_de", "einleitung_en", "anonymitaet",
                  "aenderbar", "bloecke"]
EDITOR_LABELS = {"titel_de": "Titel", "titel_en": "Titel (englisch)",
                 "einleitung_de": "Einleitung", "anonymitaet": "Anonymität",
                 "aenderbar": "Antworten änderbar", "bloecke": "Blöcke",
                 "allgemein": "Umfrage", "papier": "Papierbögen"}


def _settings_form(out: SurveyOut) -> dict[str, str]:
    return {"titel_de": out.title.get("de", ""), "titel_en": out.title.get("en", ""),
            "einleitung_de": out.introduction.get("de", ""),
            "einleitung_en": out.introduction.get("en", ""), "anonymitaet": out.anonymity,
            "aenderbar": "1" if out.allow_edits else "",
            "bloecke": "\n".join(" | ".join([b["key"], b["title"].get("de", "")]
                                            + ([b["title"]["en"]] if b["title"].get("en")
                                               else []))
                                 for b in out.blocks)}


def _version_note(ed: Editor) -> str | None:
    if not ed.out.responses:
        return None
    n = ed.out.responses
    return (f"Diese Umfrage (Version {ed.out.version}) hat bereits {n} "
            f"{'Antwort' if n == 1 else 'Antworten'}. Jede Änderung legt eine neue Version "
            f"{ed.out.version + 1} an; die Antworten bleiben bei Version {ed.out.version}, "
            "Einladungen zu ihr ebenso.")


def _editor_page(request: Request, principal: Principal, ed: Editor, *,
                 settings: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                 status_code: int = 200) -> Response:
    errors = errors or {}
    ok = request.query_params.get("ok") or ""
    flash = FLASH.get(ok)
    if ok == "version":
        flash = (f"Gespeichert als neue Version {ed.out.version}. Die bisherigen Antworten "
                 "bleiben bei der vorigen Version.")
    return templates.TemplateResponse(request, "surveys/editor.html", {
        "principal": principal, "ed": ed, "s": ed.out, "pick": pick,
        "settings": settings or _settings_form(ed.out), "errors": errors,
        "summary": _summary(errors, EDITOR_LABELS), "flash": None if errors else flash,
        "kind_labels": KIND_LABELS, "anonymity_labels": ANONYMITY_LABELS,
        "status_labels": STATUS_LABELS, "local": _local, "version_note": _version_note(ed),
        "can_edit": principal.role_in(ed.survey.organisation_id) in (*EDITORS, Role.admin),
        # The paper form in German and each language the survey's title is written in.
        "paper_languages": [(lang, i18n.GERMAN_NAMES[lang])
                            for lang in poster_languages(ed.out.title)],
        "print_limit": paper_print.PRINT_LIMIT,
        "can_print_personal": principal.role_in(ed.survey.organisation_id)
        in (Role.coordinator, Role.admin),
    }, status_code=status_code)


def _saved(survey: Survey, new: Survey, ok: str, anchor: str = "") -> Response:
    target = f"/app/surveys/{new.id}/bearbeiten?ok={'version' if new.id != survey.id else ok}"
    return RedirectResponse(target + anchor, status_code=303)


@router.get("/app/surveys/{survey_id}/bearbeiten", response_class=HTMLResponse)
async def editor_page(survey_id: uuid.UUID, request: Request, session: SessionDep,
                      principal: StaffUser) -> Response:
    with shown_as_page(principal):
        ed = await _editor(session, principal, survey_id)
    return _editor_page(request, principal, ed)


@router.post("/app/surveys/{survey_id}/einstellungen", response_class=HTMLResponse)
async def settings_post(survey_id: uuid.UUID, request: Request, session: SessionDep,
                        principal: StaffUser) -> Response:
    """Title, introduction, anonymity, editable answers and the blocks."""
    with shown_as_page(principal):
        ed = await _editor(session, principal, survey_id, *EDITORS)
    form = _form_dict(await request.form(), SETTINGS_NAMES)
    data = _definition(ed.out)
    blocks, errors = [], {}
    for n, line in enumerate(form["bloecke"].splitlines(), start=1):
        parts = [p.strip() for p in line.split("|")]
        if not any(parts):
            continue
        if len(parts) not in (2, 3):
            errors["bloecke"] = f"Zeile {n}: Schlüssel | Titel | englischer Titel (optional)."
            continue
        blocks.append({"key": parts[0], "title": _i18n(parts[1], parts[2] if len(parts) == 3
                                                        else "")})
    data |= {"title": _i18n(form["titel_de"], form["titel_en"]),
             "introduction": _i18n(form["einleitung_de"], form["einleitung_en"]),
             "anonymity": form["anonymitaet"], "allow_edits": form["aenderbar"] == "1",
             "blocks": blocks}
    try:
        if errors:
            raise FormInvalid(errors)
        new = await service.change_questions(
            session, ed.survey, _check_definition(data), actor=principal.email)
    except FormInvalid as exc:
        return _editor_page(request, principal, ed, settings=form, errors=exc.errors,
                            status_code=422)
    except DomainError as exc:
        await session.rollback()
        ed = await _editor(session, principal, survey_id, *EDITORS)
        return _editor_page(request, principal, ed, settings=form,
                            errors={"allgemein": exc.message}, status_code=exc.status_code)
    return _saved(ed.survey, new, "saved", "#einstellungen")


def _position(ed: Editor, question_id: str) -> int:
    for i, q in enumerate(ed.out.questions):
        if q["id"] == question_id:
            return i
    raise NotFound("Diese Frage gibt es in der Umfrage nicht.", code="question_not_found")


@router.post("/app/surveys/{survey_id}/fragen/{question_id}/verschieben",
             response_class=HTMLResponse)
async def move_post(survey_id: uuid.UUID, question_id: str, request: Request,
                    session: SessionDep, principal: StaffUser) -> Response:
    return await _reorder(survey_id, question_id, request, session, principal, remove=False)


@router.post("/app/surveys/{survey_id}/fragen/{question_id}/entfernen",
             response_class=HTMLResponse)
async def remove_post(survey_id: uuid.UUID, question_id: str, request: Request,
                      session: SessionDep, principal: StaffUser) -> Response:
    return await _reorder(survey_id, question_id, request, session, principal, remove=True)


async def _reorder(survey_id: uuid.UUID, question_id: str, request: Request,
                   session: SessionDep, principal: Principal, *,
                   remove: bool) -> Response:
    with shown_as_page(principal):
        ed = await _editor(session, principal, survey_id, *EDITORS)
        i = _position(ed, question_id)
    data = _definition(ed.out)
    questions = data["questions"]
    anchor = ""
    if remove:
        questions.pop(i)
    else:
        j = i - 1 if _text(await request.form(), "richtung") == "hoch" else i + 1
        if 0 <= j < len(questions):
            questions[i], questions[j] = questions[j], questions[i]
        anchor = f"#frage-{question_id}"
    try:
        new = await service.change_questions(
            session, ed.survey, _check_definition(data), actor=principal.email)
    except FormInvalid as exc:
        return _editor_page(request, principal, ed, errors=exc.errors, status_code=422)
    except DomainError as exc:
        await session.rollback()
        ed = await _editor(session, principal, survey_id, *EDITORS)
        return _editor_page(request, principal, ed, errors={"allgemein": exc.message},
                            status_code=exc.status_code)
    return _saved(ed.survey, new, "removed" if remove else "moved", anchor or "#fragen")


# --- one question -----------------------------------------------------------------------

QUESTION_LABELS = {
    "kennung": "Kennung", "typ": "Art der Frage", "text_de": "Fragetext",
    "text_en": "Fragetext (englisch)", "hilfe_de": "Hinweis", "optionen": "Antwortmöglichkeiten",
    "likert_de_1": "Beschriftungen der Skala", "likert_en_1": "Beschriftungen (englisch)",
    "min": "Kleinster Wert", "max": "Größter Wert", "max_laenge": "Höchstlänge",
    "min_wahl": "Mindestens zu wählen", "max_wahl": "Höchstens zu wählen",
    "bedingung_frage": "Bedingung", "bedingung_werte": "Bedingung: Antworten",
    "block": "Block", "allgemein": "Frage",
}


def _question_page(request: Request, principal: Principal, ed: Editor,
                   question_id: str | None, form: dict[str, str], errors: dict[str, str],
                   status_code: int = 200) -> Response:
    index = (len(ed.out.questions) if question_id is None
             else next((i for i, q in enumerate(ed.out.questions)
                        if q["id"] == question_id), len(ed.out.questions)))
    earlier = ed.out.questions[:index]
    return templates.TemplateResponse(request, "surveys/question.html", {
        "principal": principal, "ed": ed, "s": ed.out, "pick": pick, "form": form,
        "errors": errors, "summary": _summary(errors, QUESTION_LABELS),
        "question_id": question_id, "kind_labels": KIND_LABELS, "earlier": earlier,
        "default_likert": DEFAULT_LIKERT_LABELS, "version_note": _version_note(ed),
    }, status_code=status_code)


@router.get("/app/surveys/{survey_id}/neue-frage", response_class=HTMLResponse)
async def new_question_page(survey_id: uuid.UUID, request: Request, session: SessionDep,
                            principal: StaffUser, typ: str = "single") -> Response:
    with shown_as_page(principal):
        ed = await _editor(session, principal, survey_id, *EDITORS)
    form = dict.fromkeys(QUESTION_NAMES, "") | {
        "typ": typ if typ in KIND_LABELS else "single", "max_laenge": "2000"}
    return _question_page(request, principal, ed, None, form, {})


@router.get("/app/surveys/{survey_id}/fragen/{question_id}", response_class=HTMLResponse)
async def question_page(survey_id: uuid.UUID, question_id: str, request: Request,
                        session: SessionDep, principal: StaffUser) -> Response:
    with shown_as_page(principal):
        ed = await _editor(session, principal, survey_id, *EDITORS)
        i = _position(ed, question_id)
    return _question_page(request, principal, ed, question_id,
                          question_form(ed.out.questions[i]), {})


@router.post("/app/surveys/{survey_id}/neue-frage", response_class=HTMLResponse)
async def add_question_post(survey_id: uuid.UUID, request: Request, session: SessionDep,
                            principal: StaffUser) -> Response:
    return await _question_post(survey_id, None, request, session, principal)


@router.post("/app/surveys/{survey_id}/fragen/{question_id}", response_class=HTMLResponse)
async def edit_question_post(survey_id: uuid.UUID, question_id: str, request: Request,
                             session: SessionDep, principal: StaffUser) -> Response:
    return await _question_post(survey_id, question_id, request, session, principal)


async def _question_post(survey_id: uuid.UUID, question_id: str | None, request: Request,
                         session: SessionDep, principal: Principal) -> Response:
    with shown_as_page(principal):
        ed = await _editor(session, principal, survey_id, *EDITORS)
        index = len(ed.out.questions) if question_id is None else _position(ed, question_id)
    raw = await request.form()
    form = _form_dict(raw, QUESTION_NAMES)
    if _text(raw, "aktion") == "typ":
        # "Felder zur gewählten Art zeigen": the form again for the new type, nothing saved.
        return _question_page(request, principal, ed, question_id, form, {})
    data = _definition(ed.out)
    taken = {q["id"] for i, q in enumerate(data["questions"]) if i != index}
    question, errors = question_data(form, taken)
    if question["id"] in taken:
        errors.setdefault("kennung", "Diese Kennung hat schon eine andere Frage.")
    try:
        QuestionDef.model_validate(question)
    except ValidationError as exc:
        errors = _question_errors(exc) | errors
    if question_id is None:
        data["questions"].append(question)
    else:
        data["questions"][index] = question
        # Conditions on this question follow a changed key.
        for q in data["questions"]:
            if (q.get("show_if") or {}).get("question") == question_id:
                q["show_if"] = {**q["show_if"], "question": question["id"]}
    try:
        if errors:
            raise FormInvalid(errors)
        new = await service.change_questions(
            session, ed.survey, _check_definition(data, index), actor=principal.email)
    except FormInvalid as exc:
        return _question_page(request, principal, ed, question_id, form, exc.errors, 422)
    except DomainError as exc:
        await session.rollback()
        ed = await _editor(session, principal, survey_id, *EDITORS)
        return _question_page(request, principal, ed, question_id, form,
                              {"allgemein": exc.message}, exc.status_code)
    return _saved(ed.survey, new, "added" if question_id is None else "saved",
                  f"#frage-{question['id']}")


# --- preview, open and close ------------------------------------------------------------


@router.get("/app/surveys/{survey_id}/vorschau", response_class=HTMLResponse)
async def preview(survey_id: uuid.UUID, request: Request, session: SessionDep,
                  principal: StaffUser, lang: str = "de") -> Response:
    with shown_as_page(principal):
        survey = await service.survey_for(session, principal, survey_id)
    view = SurveyView(id=survey.id, revision=survey.revision, title=survey.title,
                      introduction=survey.introduction, anonymity=survey.anonymity,
                      allow_edits=survey.allow_edits, opens_at=survey.opens_at,
                      closes_at=survey.closes_at)
    lang = "en" if lang == "en" else "de"
    base = f"/app/surveys/{survey.id}/vorschau"
    switch = ((f"{base}?lang=en", "Vorschau auf Englisch") if lang == "de"
              else (base, "Vorschau auf Deutsch"))
    return preview_page(request, view, await service.survey_questions(session, survey), lang,
                        back=f"/app/surveys/{survey.id}/bearbeiten", switch=switch)


@router.get("/app/surveys/{survey_id}/papierbogen.pdf")
async def paper_form(survey_id: uuid.UUID, request: Request, session: SessionDep,
                     principal: StaffUser, sprache: str = "de") -> Response:
    """The blank paper form in one language (staff of the survey's organisation). The
    numbered and personal sheets will take their sheets from the allocations; the rendering
    (`paper.survey_paper_forms`) already takes any list of them."""
    with shown_as_page(principal):
        survey = await service.survey_for(session, principal, survey_id)
        lang = paper.paper_language(sprache)
        data = await paper.survey_paper_forms(session, survey, language=lang)
    return _attachment(data, f"papierbogen-{survey.id}-{lang}.pdf")


def _attachment(data: bytes, filename: str) -> Response:
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


async def _print(request: Request, session: SessionDep, principal: Principal,
                 survey_id: uuid.UUID, settings: Settings, *,
                 kind: Literal["numbered", "personal"]) -> Response:
    """A print run from the survey page's forms (services/surveys/paper_print.py); a refused
    one re-renders the page with the message at the paper forms."""
    form = await request.form()
    roles = ENTRY_ROLES if kind == "numbered" else (Role.coordinator,)
    with shown_as_page(principal):
        survey = await service.survey_for(session, principal, survey_id, *roles)
    try:
        run = await paper_print.print_run(
            session, survey, kind=kind, language=paper.paper_language(str(form.get("sprache"))),
            count=_form_int(form, "anzahl"), campaign_id=_form_uuid(form, "kampagne"),
            part=_form_int(form, "teil") or 1, secret_key=settings.resolved_secret_key(),
            public_url=settings.public_url)
    except DomainError as exc:
        await session.rollback()
        ed = await _editor(session, principal, survey_id)
        return _editor_page(request, principal, ed, errors={"papier": exc.message},
                            status_code=exc.status_code)
    return pdf_attachment(run)


def _form_int(form: FormData, name: str) -> int:
    value = str(form.get(name) or "").strip()
    return int(value) if value.isdigit() and len(value) < 7 else 0


def _form_uuid(form: FormData, name: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(form.get(name) or ""))
    except ValueError:
        return None


@router.post("/app/surveys/{survey_id}/papierbogen/nummeriert")
async def numbered_paper_forms(survey_id: uuid.UUID, request: Request, session: SessionDep,
                               principal: StaffUser, settings: SettingsDep) -> Response:
    return await _print(request, session, principal, survey_id, settings, kind="numbered")


@router.post("/app/surveys/{survey_id}/papierbogen/persoenlich")
async def personal_paper_forms(survey_id: uuid.UUID, request: Request, session: SessionDep,
                               principal: StaffUser, settings: SettingsDep) -> Response:
    return await _print(request, session, principal, survey_id, settings, kind="personal")


async def _open_close(survey_id: uuid.UUID, request: Request, session: SessionDep,
                      principal: Principal, *, open_: bool) -> Response:
    with shown_as_page(principal):
        ed = await _editor(session, principal, survey_id, *EDITORS)
    try:
        if open_:
            await service.open_survey(session, ed.survey, actor=principal.email)
        else:
            await service.close_survey(session, ed.survey, actor=principal.email)
    except DomainError as exc:
        await session.rollback()
        ed = await _editor(session, principal, survey_id, *EDITORS)
        return _editor_page(request, principal, ed, errors={"allgemein": exc.message},
                            status_code=exc.status_code)
    return RedirectResponse(f"/app/surveys/{survey_id}/bearbeiten?ok="
                            f"{'opened' if open_ else 'closed'}#zeitraum", status_code=303)


@router.post("/app/surveys/{survey_id}/oeffnen", response_class=HTMLResponse)
async def open_post(survey_id: uuid.UUID, request: Request, session: SessionDep,
                    principal: StaffUser) -> Response:
    return await _open_close(survey_id, request, session, principal, open_=True)


@router.post("/app/surveys/{survey_id}/beenden", response_class=HTMLResponse)
async def close_post(survey_id: uuid.UUID, request: Request, session: SessionDep,
                     principal: StaffUser) -> Response:
    return await _open_close(survey_id, request, session, principal, open_=False)
