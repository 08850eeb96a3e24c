"""Issue 12, languages: the participant's survey pages in all six variants (lang and dir on
<html>, the switch, texts from the catalogs and the survey), the choice kept for the token,
the language on identified answers only, missing translations listed, results across
languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services import i18n
from services.models.organisation import Role
from services.models.survey import SurveyResponse
from services.surveys import service
from services.surveys.results import compute_results
from services.surveys.templates import builtin_survey_templates, survey_template
from services.surveys.translations import missing_translations
from tests.support.languages import LANGUAGES, assert_language
from tests.support.surveys import make_campaign, make_invites, make_process, make_survey

TEMPLATE = "weiterstadt-bedarfe-und-wuensche"
ANSWERS = {"q_gruppe": "politik", "q_themen": ["arbeit", "bildung"], "q_zusammenleben": "4",
           "q_formate__workshop": "2", "q_formate__online": "1",
           "q_formate__stadtgespraech": "3", "q_formate__interview": "4",
           "q_bedarfe": "Mehr Treffpunkte", "aktion": "absenden"}


async def _campaign(session, make_staff, **survey):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, from_template=TEMPLATE, **survey)
    return survey, await make_campaign(session, survey)


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_survey_pages_in_every_language(client, session, make_staff, lang):
    survey, campaign = await _campaign(session, make_staff)
    title = survey_template(TEMPLATE).title[lang]
    t = i18n.texts(lang, "survey")
    # The stakeholder's language (on the invitation) preselects the page's.
    inv, other = await make_invites(session, campaign, 2, language=lang)

    form = await client.get(f"/t/{inv.token}")
    page = assert_language(form.text, lang)
    assert "".join(page.h1) == title
    assert t["review"] in page.source and t["anonymous"] in page.source
    # A Likert question shows the scale's words of this language.
    assert i18n.texts(lang, "likert")["items"][3] in page.source

    bad = await client.post(f"/t/{inv.token}", data={"q_gruppe": "politik",
                                                     "aktion": "absenden"})
    assert bad.status_code == 422
    shown = assert_language(bad.text, lang).source
    assert t["error_title"] in shown and i18n.text(lang, "validation.required") in shown

    saved = await client.post(f"/t/{inv.token}", data={"q_gruppe": "politik",
                                                       "aktion": "speichern"})
    assert t["saved"] in assert_language((await client.get(saved.headers["location"])).text,
                                         lang).source

    review = await client.post(f"/t/{inv.token}", data=ANSWERS)
    assert review.status_code == 303 and review.headers["location"] == f"/t/{inv.token}/pruefen"
    shown = assert_language((await client.get(review.headers["location"])).text, lang).source
    assert t["review_title"] in shown and t["confirm"] in shown
    done = await client.post(f"/t/{inv.token}/absenden")
    assert done.status_code == 303
    thanks = await client.get(done.headers["location"])
    assert t["thanks"] in assert_language(thanks.text, lang).source
    again = await client.get(f"/t/{inv.token}")
    assert t["answered_title"] in assert_language(again.text, lang).source

    # Decline and unsubscribe, form and result.
    o = i18n.texts(lang, "optout")
    for what, done_key in (("decline", "declined"), ("unsubscribe", "unsubscribed")):
        shown = await client.get(f"/t/{other.token}/{what}")
        assert o[f"{what}_button"] in assert_language(shown.text, lang).source
        acted = await client.post(f"/t/{other.token}/{what}")
        assert o[done_key] in assert_language(acted.text, lang).source

    # A link nobody knows: the language asked for (else German).
    unknown = await client.get(f"/t/unbekannt-{lang}?lang={lang}")
    assert unknown.status_code == 404 and t["unknown"] in assert_language(unknown.text,
                                                                           lang).source


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_not_yet_open_and_closed_pages_in_every_language(client, session, make_staff,
                                                               lang):
    survey, campaign = await _campaign(session, make_staff)
    (inv,) = await make_invites(session, campaign, language=lang)
    survey.opens_at = datetime(2099, 3, 3, 17, 0, tzinfo=UTC)
    await session.flush()
    early = await client.get(f"/t/{inv.token}")
    page = assert_language(early.text, lang)
    # The date in the locale's own words (Babel), not a German date in a Turkish sentence.
    assert i18n.date_text(survey.opens_at, lang) in page.source
    survey.opens_at, survey.closes_at = None, datetime.now(UTC) - timedelta(seconds=1)
    await session.flush()
    closed = await client.get(f"/t/{inv.token}")
    assert closed.status_code == 410
    assert i18n.text(lang, "survey.closed") in assert_language(closed.text, lang).source


async def test_the_switch_is_kept_for_the_token(client, session, make_staff):
    survey, campaign = await _campaign(session, make_staff, anonymity="identified")
    inv, other = await make_invites(session, campaign, 2, language="de")

    first = await client.get(f"/t/{inv.token}")
    page = assert_language(first.text, "de")
    assert {a["lang"]: a["href"] for a in page.switch}["tr"] == f"/t/{inv.token}?lang=tr"
    chosen = await client.get(f"/t/{inv.token}?lang=tr")
    assert_language(chosen.text, "tr")
    assert chosen.cookies.get("sprache") == "tr"
    # The cookie belongs to this link's path: its pages keep Turkish, another link does not.
    assert f"path=/t/{inv.token}".lower() in chosen.headers["set-cookie"].lower()
    assert_language((await client.get(f"/t/{inv.token}")).text, "tr")
    assert_language((await client.get(f"/t/{inv.token}/decline")).text, "tr")
    assert_language((await client.get(f"/t/{other.token}")).text, "de")

    await client.post(f"/t/{inv.token}", data=ANSWERS)  # to the review, then submitted
    done = await client.post(f"/t/{inv.token}/absenden")
    assert_language((await client.get(done.headers["location"])).text, "tr")
    # An identified answer keeps the language it was given in: the one chosen on the page.
    stored = (await session.scalars(select(SurveyResponse.language).where(
        SurveyResponse.survey_id == survey.id))).all()
    assert stored == ["tr"]
    # Unknown codes are ignored (the kept choice stays).
    assert_language((await client.get(f"/t/{inv.token}?lang=xx")).text, "tr")


async def test_anonymous_answers_keep_no_language_whatever_was_chosen(client, session,
                                                                       make_staff):
    survey, campaign = await _campaign(session, make_staff)  # the template is anonymous
    assert survey.anonymity == "anonymous"
    (inv,) = await make_invites(session, campaign, language="tr")
    await client.get(f"/t/{inv.token}?lang=ar")
    await client.post(f"/t/{inv.token}", data=ANSWERS)  # to the review, then submitted
    done = await client.post(f"/t/{inv.token}/absenden")
    assert done.status_code == 303 and done.headers["location"].endswith("/danke")
    stored = (await session.scalars(select(SurveyResponse.language).where(
        SurveyResponse.survey_id == survey.id))).all()
    assert stored == [None]


def test_every_built_in_survey_template_is_complete_in_all_six():
    for key, template in builtin_survey_templates().items():
        d = template.definition()
        missing = missing_translations(d.title, d.introduction,
                                       [b.model_dump() for b in d.blocks], d.questions)
        assert missing == {lang: [] for lang in LANGUAGES if lang != "de"}, key
        # Leichte Sprache has texts of its own, not the standard German copied.
        texts = [(q.text["de"], q.text["de-x-ls"]) for q in d.questions]
        assert sum(de != ls for de, ls in texts) >= len(texts) * 0.7, key


QUESTIONS = [
    {"id": "wahl", "kind": "single", "text": {"de": "Wahl", "en": "Choice", "tr": "Seçim"},
     "options": [{"value": "a", "label": {"de": "A", "en": "A", "tr": "A"}},
                 {"value": "b", "label": "B"}]},
    {"id": "frei", "kind": "text", "text": {"de": "Frei", "ar": "حر"},
     "help": {"de": "Hilfe"}},
]


async def test_missing_translations_are_listed_and_shown_in_german(client, session,
                                                                     make_staff):
    staff = await make_staff(role=Role.coordinator)
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, title={"de": "Titel", "uk": "Назва"},
                               questions=QUESTIONS)
    r = await client.get(f"/api/v1/surveys/{survey.id}/translations", headers=staff.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["fallback"] == "de" and body["texts"] == 6 and body["status"] == "open"
    by_lang = {x["language"]: x for x in body["languages"]}
    assert set(by_lang) == {"en", "tr", "ar", "uk", "de-x-ls"}
    assert by_lang["tr"]["missing"] == ["title", "questions.wahl.options.b",
                                        "questions.frei.text", "questions.frei.help"]
    assert by_lang["uk"]["missing"] == ["questions.wahl.text", "questions.wahl.options.a",
                                        "questions.wahl.options.b", "questions.frei.text",
                                        "questions.frei.help"]
    assert not by_lang["de-x-ls"]["complete"] and len(by_lang["de-x-ls"]["missing"]) == 6
    # Another organisation's survey is not found.
    stranger = await make_staff(role=Role.coordinator)
    assert (await client.get(f"/api/v1/surveys/{survey.id}/translations",
                             headers=stranger.headers)).status_code == 404

    # The participant sees German where the survey has no text in the page's language.
    campaign = await make_campaign(session, survey)
    (inv,) = await make_invites(session, campaign, language="tr")
    page = await client.get(f"/t/{inv.token}")
    assert "Titel – Mitwirken" in page.text and "1. Seçim" in page.text
    # The German fallback is marked as German (a screen reader switches its voice).
    assert '<span lang="de" dir="ltr">B</span>' in page.text
    assert '<span lang="de" dir="ltr">Hilfe</span>' in page.text
    assert '<span lang="de" dir="ltr">A</span>' not in page.text


async def test_results_count_across_languages_and_show_the_texts_language(session,
                                                                          make_staff):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    identified = await make_survey(session, process, title="Ergebnis", questions=QUESTIONS,
                                   anonymity="identified")
    anonymous = await make_survey(session, process, title="Anonym", questions=QUESTIONS)
    for survey in (identified, anonymous):
        campaign = await make_campaign(session, survey)
        for lang in LANGUAGES:
            (inv,) = await make_invites(session, campaign, language=lang)
            # The same choice whatever the language the participant read it in.
            await service.submit(session, inv.token, {"wahl": "a", "frei": f"Text {lang}"},
                                 language=lang)
    r = (await compute_results(session, identified, lang="tr")).as_dict()
    q = {x["id"]: x for x in r["questions"]}
    assert r["responses"] == 6 and q["wahl"]["text"] == "Seçim"
    assert [(o["value"], o["label"], o["count"]) for o in q["wahl"]["options"]] == [
        ("a", "A", 6), ("b", "B", 0)]
    texts = dict(zip(q["frei"]["texts"], q["frei"]["text_languages"], strict=True))
    assert texts == {f"Text {lang}": lang for lang in LANGUAGES}
    # Anonymous: counted the same, the texts come without a language.
    a = {x["id"]: x for x in (await compute_results(session, anonymous)).as_dict()["questions"]}
    assert a["wahl"]["options"][0]["count"] == 6
    assert a["frei"]["text_languages"] == [None] * 6
