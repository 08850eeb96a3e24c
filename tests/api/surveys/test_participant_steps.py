"""The participant's self-check: its seven fields as headed fieldsets, "weiß nicht / keine
Angabe" stored but never scored, and the review step before the final submit."""

from __future__ import annotations

import re

from sqlalchemy import select

from services.campaigns.tokens import hash_token
from services.models.survey import SurveyAnswer, SurveyDraft
from services.surveys import service
from services.surveys.results import compute_results
from services.surveys.schemas import DONT_KNOW
from services.surveys.templates import survey_template
from tests.support.surveys import counts, make_campaign, make_invites, make_process, make_survey

SELF_CHECK = "weltoffene-kommune-selbstcheck"


async def _campaign(session, make_staff, template=SELF_CHECK):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, from_template=template)
    return staff, survey, await make_campaign(session, survey)


def _likert_ids():
    return [q.id for q in survey_template(SELF_CHECK).questions if q.kind == "likert"]


async def test_self_check_is_grouped_under_its_seven_fields(client, session, make_staff):
    _, _, campaign = await _campaign(session, make_staff)
    (inv,) = await make_invites(session, campaign)
    r = await client.get(f"/t/{inv.token}")
    assert r.status_code == 200
    blocks = survey_template(SELF_CHECK).blocks
    headings = re.findall(r'<fieldset class="block" id="feld-(\w+)">\s*'
                          r'<legend><h2 class="block-title">([^<]+)</h2></legend>', r.text)
    assert headings == [(b.key, b.title["de"]) for b in blocks]
    # Each field's statements sit inside its fieldset; numbering runs on across fields.
    first, second = r.text.split('id="feld-oeffnung"')
    assert "1. Weltoffenheit und Vielfalt" in first and "4. Unsere Beschäftigten" in second
    assert "q_management_1" in first and "q_oeffnung_1" not in first
    # The free text outside any field is not inside one.
    tail = r.text.rsplit("</fieldset>", 1)[1]
    assert 'name="q_anmerkungen"' in tail
    # The English page takes the English field titles.
    (en,) = await make_invites(session, campaign, language="en")
    r = await client.get(f"/t/{en.token}")
    assert '<h2 class="block-title">Management and steering</h2>' in r.text
    assert "don&#39;t know / no answer" in r.text


async def test_dont_know_is_stored_but_not_scored(client, session, make_staff):
    staff, survey, campaign = await _campaign(session, make_staff)
    ids = _likert_ids()
    (inv,) = await make_invites(session, campaign)
    r = await client.get(f"/t/{inv.token}")
    assert (f'name="q_management_1" value="{DONT_KNOW}"' in r.text
            and "weiß nicht / keine Angabe" in r.text)
    # Five say 5 to everything; a sixth does not know about management and says 1 elsewhere.
    invites = await make_invites(session, campaign, 6)
    for inv in invites[:5]:
        await service.submit(session, inv.token, dict.fromkeys(ids, 5))
    sixth = {k: (DONT_KNOW if k.startswith("management") else 5) for k in ids}
    form = {f"q_{k}": str(v) for k, v in sixth.items()}
    r = await client.post(f"/t/{invites[5].token}", data={**form, "aktion": "pruefen"})
    assert r.status_code == 303
    r = await client.get(r.headers["location"])
    assert "weiß nicht / keine Angabe" in r.text
    r = await client.post(f"/t/{invites[5].token}/absenden")
    assert r.status_code == 303
    stored = list(await session.scalars(select(SurveyAnswer).where(
        SurveyAnswer.survey_id == survey.id, SurveyAnswer.question_key == "management_1",
        SurveyAnswer.choice == DONT_KNOW)))
    assert len(stored) == 1 and stored[0].num is None  # stored, without a number

    r = (await compute_results(session, survey)).as_dict()
    q = {x["id"]: x for x in r["questions"]}
    assert q["management_1"]["answered"] == 6 and q["management_1"]["dont_know"] == 1
    assert q["management_1"]["mean"] == 5.0  # not pulled down by "weiß nicht"
    assert [d["count"] for d in q["management_1"]["distribution"]] == [0, 0, 0, 0, 5]
    assert q["management_1"]["distribution"][4]["share"] == 1.0
    blocks = {b["key"]: b for b in r["blocks"]}
    assert blocks["management"]["score"] == 100.0 and blocks["management"]["dont_know"] == 3
    assert blocks["zugang"]["dont_know"] == 0
    # The results page and the export count it apart.
    r = await client.get(f"/api/v1/surveys/{survey.id}/results.csv", headers=staff.headers)
    text = r.content.decode("utf-8-sig")
    assert "frage;management_1;" in text
    assert f";likert;{DONT_KNOW};weiß nicht / keine Angabe;1;" in text
    r = await client.get(f"/app/surveys/{survey.id}/results", headers=staff.headers)
    assert "„weiß nicht / keine Angabe“: 1 (nicht im Mittelwert)" in r.text


async def test_dont_know_only_where_offered(session, make_staff):
    _, _, campaign = await _campaign(session, make_staff, "weiterstadt-bedarfe-und-wuensche")
    (inv,) = await make_invites(session, campaign)
    p = await service.open_token(session, inv.token)
    likert = next(q for q in p.questions if q.kind == "likert")
    assert not likert.dont_know
    from services.surveys.validation import check_answers

    _, _, errors = check_answers(p.questions, {likert.id: DONT_KNOW}, partial=True)
    assert [e.field for e in errors] == [likert.id]


async def test_review_step_before_the_final_submit(client, session, make_staff):
    _, _, campaign = await _campaign(session, make_staff, "weiterstadt-bedarfe-und-wuensche")
    (inv,) = await make_invites(session, campaign)
    r = await client.get(f"/t/{inv.token}")
    buttons = re.findall(r'<button type="submit" name="aktion" value="(\w+)"', r.text)
    # Enter in a field presses the first button: the review, never the final submit.
    assert buttons == ["pruefen", "speichern"]
    assert f'action="/t/{inv.token}/absenden"' not in r.text
    before = await counts(session)
    form = {"q_gruppe": "politik", "q_themen": ["arbeit", "bildung"], "q_zusammenleben": "4",
            "q_formate__workshop": "2", "q_formate__online": "1",
            "q_formate__stadtgespraech": "3", "q_formate__interview": "4",
            "q_bedarfe": "Mehr Treffpunkte", "aktion": "pruefen"}
    r = await client.post(f"/t/{inv.token}", data=form)
    assert r.status_code == 303 and r.headers["location"] == f"/t/{inv.token}/pruefen"
    after_review = await counts(session)
    assert after_review == {**before, "drafts": before["drafts"] + 1}  # nothing submitted
    r = await client.get(f"/t/{inv.token}/pruefen")
    assert r.status_code == 200 and "Antworten überprüfen" in r.text
    assert "Mehr Treffpunkte" in r.text and "4 – trifft eher zu" in r.text
    assert "Arbeit" in r.text and "1. " in r.text
    assert f'href="/t/{inv.token}#q-bedarfe"' in r.text and ">Ändern</a>" in r.text
    assert f'<form method="post" action="/t/{inv.token}/absenden"' in r.text
    assert "Verbindlich absenden" in r.text
    assert await counts(session) == after_review  # looking does not submit either

    # "Ändern": the form again, with every answer from the draft.
    r = await client.get(f"/t/{inv.token}")
    assert 'value="politik" checked' in r.text and "Mehr Treffpunkte</textarea>" in r.text

    r = await client.post(f"/t/{inv.token}/absenden")
    assert r.status_code == 303 and r.headers["location"] == f"/t/{inv.token}/danke"
    done = await counts(session)
    assert done["responses"] == before["responses"] + 1
    assert done["answers"] > before["answers"] and done["drafts"] == before["drafts"]
    r = await client.post(f"/t/{inv.token}/absenden")  # twice: stored once
    assert r.status_code == 409 and "Bereits beantwortet" in r.text
    assert await counts(session) == done
    r = await client.get(f"/t/{inv.token}/pruefen")
    assert "Bereits beantwortet" in r.text


async def test_review_names_what_is_missing_and_keeps_the_rest(client, session, make_staff):
    _, _, campaign = await _campaign(session, make_staff, "weiterstadt-bedarfe-und-wuensche")
    (inv,) = await make_invites(session, campaign)
    # Straight to the review or the confirmation without answers: back to the form.
    r = await client.get(f"/t/{inv.token}/pruefen")
    assert r.status_code == 303 and r.headers["location"] == f"/t/{inv.token}"
    r = await client.post(f"/t/{inv.token}/absenden")
    assert r.status_code == 303 and r.headers["location"] == f"/t/{inv.token}"
    before = await counts(session)
    r = await client.post(f"/t/{inv.token}", data={"q_gruppe": "politik",
                                                   "aktion": "pruefen"})
    assert r.status_code == 422 and 'href="#q-themen-0"' in r.text
    draft = await session.scalar(select(SurveyDraft.answers).where(
        SurveyDraft.token_hash == hash_token(inv.token)))
    assert draft == {"gruppe": "politik"}  # the valid answer is kept
    assert (await counts(session))["responses"] == before["responses"]
    # A draft that misses a required answer cannot be confirmed: the form names it.
    r = await client.post(f"/t/{inv.token}/absenden")
    assert r.status_code == 422 and 'href="#q-themen-0"' in r.text
    assert (await counts(session))["responses"] == before["responses"]


async def test_an_identified_answer_keeps_dont_know_when_edited(client, session, make_staff):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, title="Namentlich", anonymity="identified",
                               allow_edits=True, questions=[
                                   {"id": "aussage", "kind": "likert", "text": "Aussage",
                                    "dont_know": True, "required": True}])
    campaign = await make_campaign(session, survey)
    (inv,) = await make_invites(session, campaign)
    await service.submit(session, inv.token, {"aussage": DONT_KNOW})
    # Editing shows the stored choice, and the edit replaces it (review, then confirm).
    r = await client.get(f"/t/{inv.token}")
    assert f'value="{DONT_KNOW}" checked' in r.text
    r = await client.post(f"/t/{inv.token}", data={"q_aussage": "2", "aktion": "pruefen"})
    assert r.status_code == 303
    r = await client.post(f"/t/{inv.token}/absenden")
    assert r.status_code == 303
    rows = list(await session.execute(select(SurveyAnswer.choice, SurveyAnswer.num).where(
        SurveyAnswer.survey_id == survey.id)))
    assert [tuple(x) for x in rows] == [(None, 2.0)]


async def test_a_choice_limit_is_said_before_the_submit(client, session, make_staff):
    """A multiple-choice question with "höchstens 2" tells the participant so next to the
    question (WCAG 3.3.2), in their language - before, it only said "Mehrere Antworten
    möglich." and the limit came as an error after submitting (seen in the coordinator
    journey)."""
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    options = [{"value": v, "label": v.title()} for v in ("arbeit", "bildung", "wohnen")]
    survey = await make_survey(session, process, title="Grenze", questions=[
        {"id": "themen", "kind": "multiple", "text": "Themen", "options": options,
         "max_choices": 2},
        {"id": "frei", "kind": "multiple", "text": "Frei", "options": options}])
    campaign = await make_campaign(session, survey)
    de, en = await make_invites(session, campaign, 1) + await make_invites(
        session, campaign, 1, language="en")
    page = (await client.get(f"/t/{de.token}")).text
    assert "Bis zu 2 Antworten möglich." in page
    assert page.count("Mehrere Antworten möglich.") == 1  # the question without a limit
    assert "You can choose up to 2 answers." in (await client.get(f"/t/{en.token}")).text


async def test_a_german_title_on_an_english_page_is_marked_german(client, session, make_staff):
    """A survey titled only in German, on the English form and review: the heading marks the
    title lang="de" (WCAG 3.1.2), as the questions' fallbacks are; the window title stays
    plain text. Seen in the coordinator journey (a survey built in the German editor)."""
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, title="Wünsche für das Quartier",
                               questions=[{"id": "frei", "kind": "text", "text": "Frei"}])
    campaign = await make_campaign(session, survey)
    (inv,) = await make_invites(session, campaign, 1, language="en")
    marked = '<span lang="de" dir="ltr">Wünsche für das Quartier</span>'
    form = (await client.get(f"/t/{inv.token}")).text
    assert f"<h1>{marked}</h1>" in form
    assert "<title>Wünsche für das Quartier – Mitwirken</title>" in form
    r = await client.post(f"/t/{inv.token}", data={"q_frei": "Mehr Bänke", "aktion": "pruefen"})
    assert r.status_code == 303
    review = (await client.get(f"/t/{inv.token}/pruefen")).text
    assert f"<h1>Review your answers: {marked}</h1>" in review
    assert "<title>Review your answers: Wünsche für das Quartier – Mitwirken</title>" in review
