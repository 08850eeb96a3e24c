"""The coordinator's survey pages without a browser: a process's surveys, creating one from a
template or empty, the question editor for all six types, its errors, versioning once answers
exist, opening and closing (pages and API), the preview, and other organisations' surveys."""

from __future__ import annotations

import html
import re
import uuid
from datetime import date
from types import SimpleNamespace
from typing import Any

from api.deps import SESSION_COOKIE
from contracts.input_rules import DATE_RANGE_MESSAGE
from services.models.organisation import Role
from services.models.process import Process
from services.surveys.service import get_survey, survey_out
from tests.support.forms import form_token
from tests.support.surveys import make_campaign, make_invites

SNAPSHOT = {
    "phases": [{"key": "planung", "title": "Planung"}, {"key": "kickoff", "title": "Auftakt"},
               {"key": "tag-2", "title": "Ausbildungstag 2"}],
    "surveys": [{"key": "feedback-tag-1", "survey": "vielfaltsmanager-feedback",
                 "title": "Feedback Ausbildungstag 1", "phase": "kickoff"}],
}


async def _process(session, org_id) -> Process:  # type: ignore[no-untyped-def]
    pid = uuid.uuid4()
    process = Process(
        id=pid, organisation_id=org_id, template_key="vielfaltsmanager-ausbildung",
        template_version=1, title="Ausbildung", starts_on=date(2026, 2, 1), status="running",
        current_phase="kickoff", template_snapshot=SNAPSHOT, workflow_id=f"process-{pid}")
    session.add(process)
    await session.flush()
    return process


async def _signed_in(client, session, make_staff, role=Role.coordinator):  # type: ignore[no-untyped-def]
    staff = await make_staff(role=role)
    process = await _process(session, staff.org_id)
    client.cookies.set(SESSION_COOKIE, staff.token)
    csrf = await form_token(client, f"/app/processes/{process.id}/surveys/new"
                            if role == Role.coordinator else "/app/passwort")
    # Only its id: the tests expire the session's objects to read what the pages stored.
    return staff, SimpleNamespace(id=process.id), csrf


async def _create(client, process, csrf, **form) -> uuid.UUID:  # type: ignore[no-untyped-def]
    r = await client.post(f"/app/processes/{process.id}/surveys/new",
                          data={"csrf_token": csrf, **form})
    assert r.status_code == 303, r.text
    m = re.fullmatch(r"/app/surveys/([0-9a-f-]+)/bearbeiten\?ok=created", r.headers["location"])
    assert m, r.headers["location"]
    return uuid.UUID(m.group(1))


async def _stored(session, survey_id) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return (await survey_out(session, await get_survey(session, survey_id))).model_dump(
        mode="json")


def _field_error(page: str, name: str) -> str:
    m = re.search(rf'<p class="field-error" id="{name}-fehler">(.*?)</p>', page, re.S)
    assert m, f"no message at {name}"
    return html.unescape(re.sub(r'<span class="visually-hidden">Fehler: </span>', "",
                                m.group(1)))


async def test_create_from_templates_and_the_process_list(client, session, make_staff):  # type: ignore[no-untyped-def]
    _, process, csrf = await _signed_in(client, session, make_staff)
    page = await client.get(f"/app/processes/{process.id}/surveys/new")
    # The process template's own survey comes first (and is preselected).
    options = re.findall(r'<option value="((?:prozess|vorlage):[^"]+)"', page.text)
    assert options[0] == "prozess:feedback-tag-1"
    assert "vorlage:weiterstadt-bedarfe-und-wuensche" in options
    assert 'value="prozess:feedback-tag-1" selected' in page.text

    first = await _create(client, process, csrf, vorlage="prozess:feedback-tag-1")
    second = await _create(client, process, csrf, vorlage="vorlage:vielfaltsmanager-feedback",
                           abschnitt="tag-2", beginn="2026-03-01T09:00",
                           ende="01.04.2026 18:00")
    one, two = await _stored(session, first), await _stored(session, second)
    assert (one["phase"], one["template_key"]) == ("kickoff", "vielfaltsmanager-feedback")
    assert one["questions"] and one["title"] == two["title"]
    assert two["phase"] == "tag-2"
    # Entered in the organisation's zone (Berlin, winter): 09:00 local is 08:00 UTC.
    assert two["opens_at"].startswith("2026-03-01T08:00") and two["status"] == "closed"

    listing = await client.get(f"/app/processes/{process.id}/surveys")
    assert listing.status_code == 200
    text = html.unescape(listing.text)
    # Same title twice: told apart by phase, template, dates and version.
    assert text.count("aus vielfaltsmanager-feedback, Auftakt, Version 1") == 1
    assert "aus vielfaltsmanager-feedback, Ausbildungstag 2, Version 1" in text
    assert "ab 01.03.2026, 09:00 Uhr" in text and "bis 01.04.2026, 18:00 Uhr" in text
    assert f'href="/app/surveys/{first}/bearbeiten"' in text
    assert f'href="/app/processes/{process.id}"' in text  # back to the process
    detail = await client.get(f"/app/processes/{process.id}")
    assert detail.status_code == 200
    assert f'href="/app/processes/{process.id}/surveys"' in detail.text  # and there


async def test_create_empty_with_errors_next_to_the_fields(client, session, make_staff):  # type: ignore[no-untyped-def]
    _, process, csrf = await _signed_in(client, session, make_staff)
    url = f"/app/processes/{process.id}/surveys/new"
    r = await client.post(url, data={"csrf_token": csrf, "vorlage": "leer", "titel": "",
                                     "beginn": "1990-05-01T10:00", "ende": "morgen",
                                     "erste_frage": "Was wünschen Sie sich?"})
    assert r.status_code == 422 and 'class="error-summary"' in r.text
    assert _field_error(r.text, "titel") == "Bitte einen Titel angeben."
    assert "JJJJ" not in _field_error(r.text, "ende") and "Datum und Uhrzeit" in _field_error(
        r.text, "ende")
    assert 'value="Was wünschen Sie sich?"' in html.unescape(r.text)  # kept
    assert 'aria-invalid="true"' in r.text and 'href="#titel"' in r.text

    r = await client.post(url, data={"csrf_token": csrf, "vorlage": "leer", "titel": "Wünsche",
                                     "beginn": "1990-05-01T10:00", "erste_frage": "Was?"})
    assert r.status_code == 422
    assert _field_error(r.text, "beginn") == DATE_RANGE_MESSAGE

    r = await client.post(url, data={"csrf_token": csrf, "vorlage": "leer", "titel": "Wünsche",
                                     "beginn": "2026-05-02T10:00", "ende": "2026-05-01T10:00",
                                     "erste_frage": "Was?"})
    assert r.status_code == 422
    assert _field_error(r.text, "ende") == "Das Ende liegt nicht nach dem Beginn."

    r = await client.post(url, data={"csrf_token": csrf, "vorlage": "vorlage:gibt-es-nicht"})
    assert r.status_code == 404 and "gibt es nicht" in _field_error(r.text, "vorlage")

    r = await client.post(url, data={"csrf_token": csrf, "vorlage": "leer", "titel": "Wünsche",
                                     "abschnitt": "unbekannt", "erste_frage": "Was?"})
    assert r.status_code == 422 and "unbekannt" in _field_error(r.text, "abschnitt")

    survey_id = await _create(client, process, csrf, vorlage="leer", titel="Wünsche",
                              anonymitaet="identified", erste_frage="Was wünschen Sie sich?")
    stored = await _stored(session, survey_id)
    assert stored["title"] == {"de": "Wünsche"} and stored["anonymity"] == "identified"
    assert [(q["id"], q["kind"]) for q in stored["questions"]] == [
        ("was_wuenschen_sie_sich", "text")]
    assert stored["opens_at"] is None and stored["status"] == "open"


# One form per question type, as a coordinator fills it in (fields of other types are sent
# too and ignored, as a browser sends them after a change of the type).
QUESTIONS: list[dict[str, str]] = [
    {"typ": "single", "text_de": "In welcher Rolle nehmen Sie teil?", "text_en": "Your role?",
     "pflicht": "1", "optionen": "Bürgerin oder Bürger\nverwaltung | Verwaltung | Administration",
     "max_laenge": "17"},
    {"typ": "multiple", "kennung": "themen", "text_de": "Welche Themen?", "optionen":
     "arbeit | Arbeit\nbildung | Bildung\nwohnen | Wohnen", "min_wahl": "1", "max_wahl": "2",
     "bedingung_frage": "in_welcher_rolle_nehmen_sie_teil", "bedingung_werte": "verwaltung"},
    {"typ": "likert", "kennung": "leitbild", "text_de": "Es gibt ein Leitbild.",
     "block": "strategie", **{f"likert_de_{i}": f"Stufe {i}" for i in range(1, 6)}},
    {"typ": "number", "kennung": "alter", "text_de": "Wie alt sind Sie?", "min": "0",
     "max": "120,5", "ganzzahl": "1", "optionen": "bleibt | unbeachtet"},
    {"typ": "ranking", "kennung": "formate", "text_de": "Welche Formate zuerst?",
     "optionen": "Workshop\nOnline-Umfrage\nInterview", "hilfe_de": "Rang 1 ist am wichtigsten"},
    {"typ": "text", "kennung": "wuensche", "text_de": "Was wünschen Sie sich?",
     "max_laenge": "500"},
]


async def _empty_survey(client, process, csrf) -> uuid.UUID:  # type: ignore[no-untyped-def]
    return await _create(client, process, csrf, vorlage="leer", titel="Alles",
                         erste_frage="Platzhalter")


async def test_editor_adds_each_question_type(client, session, make_staff):  # type: ignore[no-untyped-def]
    _, process, csrf = await _signed_in(client, session, make_staff)
    survey_id = await _empty_survey(client, process, csrf)
    base = f"/app/surveys/{survey_id}"
    r = await client.post(f"{base}/einstellungen", data={
        "csrf_token": csrf, "titel_de": "Alles", "titel_en": "Everything",
        "anonymitaet": "anonymous", "bloecke": "strategie | Strategie | Strategy"})
    assert r.status_code == 303 and r.headers["location"].endswith("ok=saved#einstellungen")
    for form in QUESTIONS:
        page = await client.get(f"{base}/neue-frage", params={"typ": form["typ"]})
        assert page.status_code == 200 and 'name="typ"' in page.text
        r = await client.post(f"{base}/neue-frage", data={"csrf_token": csrf, **form,
                                                          "aktion": "speichern"})
        assert r.status_code == 303, (form["typ"], r.text[:3000])
        assert "?ok=added#frage-" in r.headers["location"]
    page = await client.get(r.headers["location"])
    assert page.status_code == 200 and "Die Frage wurde hinzugefügt." in page.text

    # The placeholder goes; the text question moves up one.
    r = await client.post(f"{base}/fragen/platzhalter/entfernen", data={"csrf_token": csrf})
    assert r.status_code == 303
    r = await client.post(f"{base}/fragen/wuensche/verschieben",
                          data={"csrf_token": csrf, "richtung": "hoch"})
    assert r.status_code == 303 and r.headers["location"].endswith("#frage-wuensche")

    stored = await _stored(session, survey_id)
    assert stored["title"] == {"de": "Alles", "en": "Everything"}
    assert stored["blocks"] == [{"key": "strategie",
                                 "title": {"de": "Strategie", "en": "Strategy"}}]
    q = {x["id"]: x for x in stored["questions"]}
    assert [x["id"] for x in stored["questions"]] == [
        "in_welcher_rolle_nehmen_sie_teil", "themen", "leitbild", "alter", "wuensche",
        "formate"]
    role = q["in_welcher_rolle_nehmen_sie_teil"]
    assert role["kind"] == "single" and role["required"] is True
    assert role["text"] == {"de": "In welcher Rolle nehmen Sie teil?", "en": "Your role?"}
    assert role["options"] == [
        {"value": "buergerin_oder_buerger", "label": {"de": "Bürgerin oder Bürger"}},
        {"value": "verwaltung", "label": {"de": "Verwaltung", "en": "Administration"}}]
    assert "max_length" not in role  # another type's field is not stored
    themen = q["themen"]
    assert themen["kind"] == "multiple" and themen["min_choices"] == 1
    assert themen["max_choices"] == 2
    assert themen["show_if"] == {"question": "in_welcher_rolle_nehmen_sie_teil",
                                 "in": ["verwaltung"]}
    assert q["leitbild"]["labels"] == {"de": [f"Stufe {i}" for i in range(1, 6)]}
    assert q["leitbild"]["block"] == "strategie"
    alter = q["alter"]
    assert (alter["min"], alter["max"], alter["integer"]) == (0, 120.5, True)
    assert "options" not in alter
    assert [o["value"] for o in q["formate"]["options"]] == ["workshop", "online_umfrage",
                                                             "interview"]
    assert q["formate"]["help"] == {"de": "Rang 1 ist am wichtigsten"}
    assert q["wuensche"]["max_length"] == 500

    # Editing a question: the form shows what is stored; a changed key moves its conditions.
    page = await client.get(f"{base}/fragen/in_welcher_rolle_nehmen_sie_teil")
    assert "verwaltung | Verwaltung | Administration" in page.text
    form = {**QUESTIONS[0], "kennung": "rolle", "pflicht": ""}
    r = await client.post(f"{base}/fragen/in_welcher_rolle_nehmen_sie_teil",
                          data={"csrf_token": csrf, **form, "aktion": "speichern"})
    assert r.status_code == 303 and r.headers["location"].endswith("ok=saved#frage-rolle")
    stored = await _stored(session, survey_id)
    q = {x["id"]: x for x in stored["questions"]}
    assert "required" not in q["rolle"] and q["themen"]["show_if"]["question"] == "rolle"
    assert stored["version"] == 1  # no answers: the same survey changed


async def test_question_errors_rerender_with_values(client, session, make_staff):  # type: ignore[no-untyped-def]
    _, process, csrf = await _signed_in(client, session, make_staff)
    survey_id = await _empty_survey(client, process, csrf)
    url = f"/app/surveys/{survey_id}/neue-frage"
    before = await _stored(session, survey_id)

    r = await client.post(url, data={"csrf_token": csrf, "typ": "single", "text_de": "Wer?",
                                     "optionen": "Nur eine", "aktion": "speichern"})
    assert r.status_code == 422
    assert _field_error(r.text, "optionen") == "Mindestens zwei Antwortmöglichkeiten nötig."
    assert ">Nur eine</textarea>" in r.text and 'href="#optionen"' in r.text

    r = await client.post(url, data={"csrf_token": csrf, "typ": "number", "text_de": "Wie?",
                                     "min": "zehn", "max": "5", "kennung": "Größe!",
                                     "aktion": "speichern"})
    assert r.status_code == 422
    assert _field_error(r.text, "min") == "Bitte eine Zahl eingeben (z. B. 3 oder 2,5)."
    assert "Kleinbuchstaben" in _field_error(r.text, "kennung")
    assert 'value="zehn"' in r.text and 'value="Größe!"' in html.unescape(r.text)

    r = await client.post(url, data={"csrf_token": csrf, "typ": "number", "text_de": "Wie?",
                                     "min": "10", "max": "5", "aktion": "speichern"})
    assert r.status_code == 422
    assert _field_error(r.text, "max") == "Der Mindestwert ist größer als der Höchstwert."

    r = await client.post(url, data={"csrf_token": csrf, "typ": "multiple", "text_de": "Was?",
                                     "optionen": "a | A\nb | B", "min_wahl": "3",
                                     "aktion": "speichern"})
    assert r.status_code == 422 and "nie beantwortet" in _field_error(r.text, "min_wahl")

    # A condition on a value the earlier question does not offer; a condition without values.
    await client.post(url, data={"csrf_token": csrf, "typ": "single", "kennung": "rolle",
                                 "text_de": "Rolle?", "optionen": "a | A\nb | B",
                                 "aktion": "speichern"})
    r = await client.post(url, data={"csrf_token": csrf, "typ": "text", "text_de": "Warum?",
                                     "bedingung_frage": "rolle", "bedingung_werte": "c",
                                     "aktion": "speichern"})
    assert r.status_code == 422 and "unbekannte Werte" in _field_error(r.text,
                                                                       "bedingung_werte")
    r = await client.post(url, data={"csrf_token": csrf, "typ": "text", "text_de": "Warum?",
                                     "bedingung_frage": "rolle", "aktion": "speichern"})
    assert r.status_code == 422 and "Antwort" in _field_error(r.text, "bedingung_werte")

    r = await client.post(url, data={"csrf_token": csrf, "typ": "likert", "text_de": "So?",
                                     "likert_de_1": "nur eine", "aktion": "speichern"})
    assert r.status_code == 422 and "alle fünf" in _field_error(r.text, "likert_de_1")

    r = await client.post(url, data={"csrf_token": csrf, "typ": "text", "text_de": "",
                                     "aktion": "speichern"})
    assert r.status_code == 422 and "deutsche Text fehlt" in _field_error(r.text, "text_de")

    # Switching the type keeps the entries and saves nothing.
    r = await client.post(url, data={"csrf_token": csrf, "typ": "ranking", "text_de": "Wie?",
                                     "aktion": "typ"})
    assert r.status_code == 200 and 'id="optionen"' in r.text and ">Wie?</textarea>" in r.text

    # Removing the question a condition points at is refused with the reason.
    await client.post(url, data={"csrf_token": csrf, "typ": "text", "text_de": "Warum?",
                                 "bedingung_frage": "rolle", "bedingung_werte": "a",
                                 "aktion": "speichern"})
    r = await client.post(f"/app/surveys/{survey_id}/fragen/rolle/entfernen",
                          data={"csrf_token": csrf})
    assert r.status_code == 422 and "Bedingung" in r.text
    stored = await _stored(session, survey_id)
    assert [q["id"] for q in stored["questions"]] == [
        before["questions"][0]["id"], "rolle", "warum"]

    # Neither an unknown question nor bad settings are a 500.
    r = await client.get(f"/app/surveys/{survey_id}/fragen/gibtsnicht")
    assert r.status_code == 404 and "Nicht gefunden" in r.text
    r = await client.post(f"/app/surveys/{survey_id}/einstellungen", data={
        "csrf_token": csrf, "titel_de": "", "anonymitaet": "anonymous", "aenderbar": "1",
        "bloecke": "nur-ein-teil"})
    assert r.status_code == 422 and "Zeile 1" in _field_error(r.text, "bloecke")
    r = await client.post(f"/app/surveys/{survey_id}/einstellungen", data={
        "csrf_token": csrf, "titel_de": "", "anonymitaet": "anonymous"})
    assert r.status_code == 422 and "deutsche Text fehlt" in _field_error(r.text, "titel_de")
    r = await client.post(f"/app/surveys/{survey_id}/einstellungen", data={
        "csrf_token": csrf, "titel_de": "Alles", "anonymitaet": "anonymous", "aenderbar": "1"})
    assert r.status_code == 422 and "Anonyme Antworten" in _field_error(r.text, "aenderbar")
    assert 'id="aenderbar" name="aenderbar" value="1" checked' in r.text


async def test_editing_a_survey_with_answers_makes_a_new_version(client, session, make_staff):  # type: ignore[no-untyped-def]
    _, process, csrf = await _signed_in(client, session, make_staff)
    survey_id = await _create(client, process, csrf, vorlage="vorlage:weiterstadt-bedarfe-und-"
                              "wuensche", abschnitt="kickoff")
    survey = await get_survey(session, survey_id)
    (inv,) = await make_invites(session, await make_campaign(session, survey))
    answers = {"q_gruppe": "politik", "q_themen": ["arbeit"], "q_zusammenleben": "4",
               "q_formate__workshop": "2", "q_formate__online": "1",
               "q_formate__stadtgespraech": "3", "q_formate__interview": "4",
               "aktion": "pruefen"}
    assert (await client.post(f"/t/{inv.token}", data=answers)).status_code == 303
    assert (await client.post(f"/t/{inv.token}/absenden")).status_code == 303

    page = await client.get(f"/app/surveys/{survey_id}/bearbeiten")
    assert "Neue Version beim Speichern" in page.text and "bereits 1 Antwort." in page.text
    assert "Als neue Version speichern" in page.text
    form = await client.get(f"/app/surveys/{survey_id}/neue-frage", params={"typ": "text"})
    assert "Neue Version beim Speichern" in form.text

    r = await client.post(f"/app/surveys/{survey_id}/neue-frage", data={
        "csrf_token": csrf, "typ": "text", "kennung": "sonst", "text_de": "Sonst noch etwas?",
        "aktion": "speichern"})
    assert r.status_code == 303
    m = re.fullmatch(r"/app/surveys/([0-9a-f-]+)/bearbeiten\?ok=version#frage-sonst",
                     r.headers["location"])
    assert m and uuid.UUID(m.group(1)) != survey_id
    new = await _stored(session, uuid.UUID(m.group(1)))
    old = await _stored(session, survey_id)
    assert (new["version"], new["lineage_id"], new["responses"]) == (2, str(survey_id), 0)
    assert "sonst" in [q["id"] for q in new["questions"]]
    assert "sonst" not in [q["id"] for q in old["questions"]] and old["responses"] == 1
    page = await client.get(r.headers["location"])
    assert "Gespeichert als neue Version 2" in page.text
    listing = await client.get(f"/app/processes/{process.id}/surveys")
    assert listing.text.count(f'href="/app/surveys/{survey_id}/bearbeiten"') == 1
    assert "Version 1" in listing.text and "Version 2" in listing.text


async def test_open_and_close_pages_and_api(client, session, make_staff):  # type: ignore[no-untyped-def]
    staff, process, csrf = await _signed_in(client, session, make_staff)
    survey_id = await _create(client, process, csrf, vorlage="vorlage:vielfaltsmanager-feedback",
                              beginn="2099-01-01T10:00")
    base = f"/app/surveys/{survey_id}"
    page = await client.get(f"{base}/bearbeiten")
    assert "<strong>geplant</strong>" in page.text and "Jetzt öffnen" in page.text

    r = await client.post(f"{base}/oeffnen", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"].endswith("ok=opened#zeitraum")
    assert (await _stored(session, survey_id))["status"] == "open"
    page = await client.get(r.headers["location"])
    assert "Die Umfrage ist jetzt geöffnet." in page.text and "Jetzt öffnen" not in page.text
    r = await client.post(f"{base}/oeffnen", data={"csrf_token": csrf})
    assert r.status_code == 409 and "bereits geöffnet" in r.text

    survey = await get_survey(session, survey_id)
    (inv,) = await make_invites(session, await make_campaign(session, survey))
    assert (await client.get(f"/t/{inv.token}")).status_code == 200
    r = await client.post(f"{base}/beenden", data={"csrf_token": csrf})
    assert r.status_code == 303
    assert (await _stored(session, survey_id))["status"] == "closed"
    r = await client.get(f"/t/{inv.token}")  # the participant's link knows it
    assert r.status_code == 410 and "Umfrage beendet" in r.text

    # A steering member sees the survey but cannot open it.
    steering = await make_staff(role=Role.steering, org_slug=staff.org_slug)
    client.cookies.set(SESSION_COOKIE, steering.token)
    page = await client.get(f"{base}/bearbeiten")
    assert page.status_code == 200 and "Jetzt öffnen" not in page.text
    assert "Frage hinzufügen" not in page.text
    token = await form_token(client, "/app/passwort")
    r = await client.post(f"{base}/oeffnen", data={"csrf_token": token})
    assert r.status_code == 403 and "Ihre Rolle erlaubt diese Aktion nicht." in r.text
    r = await client.get(f"{base}/neue-frage")
    assert r.status_code == 403
    assert (await _stored(session, survey_id))["status"] == "closed"

    # The API: the PUT's roles, errors as API.md says.
    api = f"/api/v1/surveys/{survey_id}"
    client.cookies.clear()
    r = await client.post(f"{api}/close", headers=staff.headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "survey_already_closed"
    r = await client.post(f"{api}/open", headers=staff.headers)
    assert r.status_code == 200 and r.json()["status"] == "open"
    assert r.json()["closes_at"] is None
    r = await client.post(f"{api}/open", headers=staff.headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "survey_already_open"
    r = await client.post(f"{api}/close", headers=staff.headers)
    assert r.status_code == 200 and r.json()["status"] == "closed"
    r = await client.post(f"{api}/open", headers=steering.headers)
    assert r.status_code == 403 and r.json()["error"]["code"] == "role_required"
    other = await make_staff()
    r = await client.post(f"{api}/open", headers=other.headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await client.post(f"/api/v1/surveys/{uuid.uuid4()}/close", headers=staff.headers)
    assert r.status_code == 404


async def test_closing_a_survey_that_has_not_opened(client, session, make_staff):  # type: ignore[no-untyped-def]
    _, process, csrf = await _signed_in(client, session, make_staff)
    survey_id = await _create(client, process, csrf, vorlage="vorlage:vielfaltsmanager-feedback",
                              beginn="2099-01-01T10:00", ende="2099-02-01T10:00")
    r = await client.post(f"/app/surveys/{survey_id}/beenden", data={"csrf_token": csrf})
    assert r.status_code == 303
    stored = await _stored(session, survey_id)
    # Closed now, and consistently so: it never took an answer.
    assert stored["status"] == "closed" and stored["opens_at"] == stored["closes_at"]


async def test_preview_shows_the_participant_form_read_only(client, session, make_staff):  # type: ignore[no-untyped-def]
    _, process, csrf = await _signed_in(client, session, make_staff)
    survey_id = await _create(client, process, csrf,
                              vorlage="vorlage:weiterstadt-bedarfe-und-wuensche")
    page = await client.get(f"/app/surveys/{survey_id}/vorschau")
    assert page.status_code == 200
    text = page.text
    assert "<legend>1. In welcher Rolle nehmen Sie teil?" in text  # the participant's markup
    assert "Vorschau:" in text and f'href="/app/surveys/{survey_id}/bearbeiten"' in text
    assert 'method="post"' not in text.split('id="antworten"')[0].rsplit("<form", 1)[-1]
    assert 'value="pruefen" disabled' in text and 'value="speichern" class="secondary" ' \
        'disabled' in text
    assert "/t/" not in text and "Abmelden" not in text  # the participant's header
    english = await client.get(f"/app/surveys/{survey_id}/vorschau", params={"lang": "en"})
    assert '<html lang="en" dir="ltr">' in english.text and "Continue to review" in english.text

    # Exactly what a participant sees: the same markup from the title to the buttons.
    survey = await get_survey(session, survey_id)
    (inv,) = await make_invites(session, await make_campaign(session, survey))
    real = (await client.get(f"/t/{inv.token}")).text

    def questions(page: str) -> str:
        body = page.split("<h1>", 1)[1].split('<div class="actions">', 1)[0]
        return body.replace(f'method="post" action="/t/{inv.token}" ', "")

    assert questions(real) == questions(text)


async def test_other_organisations_surveys_are_not_found(client, session, make_staff):  # type: ignore[no-untyped-def]
    _, process, csrf = await _signed_in(client, session, make_staff)
    survey_id = await _empty_survey(client, process, csrf)
    stranger = await make_staff()
    client.cookies.set(SESSION_COOKIE, stranger.token)
    token = await form_token(client, "/app/passwort")
    for path in (f"/app/processes/{process.id}/surveys",
                 f"/app/processes/{process.id}/surveys/new", f"/app/surveys/{survey_id}/bearbeiten",
                 f"/app/surveys/{survey_id}/vorschau", f"/app/surveys/{survey_id}/neue-frage",
                 f"/app/surveys/{survey_id}/fragen/platzhalter"):
        r = await client.get(path)
        assert r.status_code == 404 and "Nicht gefunden" in r.text, path
        assert "Alles" not in r.text
    for path in (f"/app/processes/{process.id}/surveys/new", f"/app/surveys/{survey_id}/oeffnen",
                 f"/app/surveys/{survey_id}/beenden", f"/app/surveys/{survey_id}/neue-frage",
                 f"/app/surveys/{survey_id}/einstellungen",
                 f"/app/surveys/{survey_id}/fragen/platzhalter/entfernen"):
        r = await client.post(path, data={"csrf_token": token, "titel": "x", "text_de": "x"})
        assert r.status_code == 404, path
    assert (await _stored(session, survey_id))["status"] == "open"
    assert [q["id"] for q in (await _stored(session, survey_id))["questions"]] == ["platzhalter"]


async def test_hostile_form_values_are_never_a_500(client, session, make_staff):  # type: ignore[no-untyped-def]
    """The page fuzz (tests/api/test_page_form_fuzz.py) cannot see these forms' fields (the
    pages read the form themselves): every field of every survey form, hostile or plausible."""
    import os
    import random

    from api.pages.surveys import CREATE_NAMES, QUESTION_NAMES, SETTINGS_NAMES
    from tests.api.test_api_fuzz import POISON

    seed = int(os.environ.get("FORM_FUZZ_SEED", random.randrange(2**32)))
    rng = random.Random(seed)
    _, process, csrf = await _signed_in(client, session, make_staff)
    survey_id = await _create(client, process, csrf, vorlage="vorlage:weiterstadt-bedarfe-und-"
                              "wuensche")
    plausible = {
        "vorlage": ["leer", "prozess:feedback-tag-1", "vorlage:vielfaltsmanager-feedback",
                    "vorlage:", "prozess:x"],
        "abschnitt": ["kickoff", "planung", "x"], "beginn": ["2026-03-01T09:00", "99999-01-01"],
        "ende": ["01.03.2026 09:00", "31.02.2026 10:00"], "anonymitaet": ["identified", "x"],
        "typ": ["single", "multiple", "likert", "number", "ranking", "text", "x"],
        "optionen": ["a | A\nb | B", "a|b|c|d", "x\n|", "a | A\na | B"], "min": ["1,5", "1e400"],
        "max": ["-3", "nan"], "max_laenge": ["0", "20001", "2000"], "min_wahl": ["-1", "2"],
        "max_wahl": ["0", "1"], "bedingung_frage": ["gruppe", "themen", "x"],
        "bedingung_werte": ["politik", "1, 2"], "block": ["x"], "kennung": ["gruppe", "neu"],
        "bloecke": ["a | A", "A | b | c | d"], "aenderbar": ["1"], "richtung": ["hoch", "x"],
        "aktion": ["speichern", "typ"], "pflicht": ["1"], "ganzzahl": ["1"],
    }

    def value(name: str) -> str:
        roll = rng.random()
        if roll < 0.5 and plausible.get(name):
            return rng.choice(plausible[name])
        return rng.choice([*POISON, "", "x" * 30000])

    base = f"/app/surveys/{survey_id}"
    forms = [(f"/app/processes/{process.id}/surveys/new", CREATE_NAMES),
             (f"{base}/einstellungen", SETTINGS_NAMES), (f"{base}/neue-frage", QUESTION_NAMES),
             (f"{base}/fragen/gruppe", QUESTION_NAMES),
             (f"{base}/fragen/themen/verschieben", ["richtung"])]
    problems = []
    for path, names in forms:
        for _ in range(15):
            data = {n: value(n) for n in [*names, "aktion"] if rng.random() < 0.9}
            r = await client.post(path, data={"csrf_token": csrf, **data})
            if r.status_code >= 500:
                problems.append(f"{path}: {r.status_code} for {data!r:.300}")
    assert problems == [], f"seed {seed}:\n" + "\n".join(problems[:20])
