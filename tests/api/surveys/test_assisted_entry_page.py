"""The staff's entry page `/app/surveys/{id}/erfassen` (issue 12, assisted entry), and the
issue's end to end: Bergkamen's interview guide, 50 interviews keyed in by an interviewer on
the page, the results by tier and channel."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select

from api.deps import SESSION_COOKIE
from services.models.organisation import Role
from services.models.process import Process
from services.models.survey import SurveyResponse
from services.stakeholders.repository import StakeholderRepository
from services.surveys import assisted
from services.template_store.service import resolve_process_template
from tests.support.forms import form_token, token_in
from tests.support.surveys import make_campaign, make_invites, make_process, make_survey

GUIDE = "bergkamen-interviewleitfaden"
FORM = {"q_integration": "Dazugehören, mitreden können.", "q_erreichbarkeit": "kaum"}


async def _survey(session, make_staff, *, role=Role.interviewer, **body):
    who = await make_staff(role=role)
    process = await make_process(session, who.org_id)
    survey = await make_survey(session, process, from_template=GUIDE, **body)
    await StakeholderRepository.from_session(session).add_groups(
        who.org_id, [("jugendliche", "Jugendliche")], "manual")
    return who, survey


async def _responses(session, survey_id):
    return list(await session.scalars(
        select(SurveyResponse).where(SurveyResponse.survey_id == survey_id)))


async def _post(client, survey, data):
    base = f"/app/surveys/{survey.id}/erfassen"
    token = await form_token(client, base)
    return await client.post(base, data={**data, "csrf_token": token})


async def test_page_shows_the_questions_channels_and_fields(client, session, make_staff):
    who, survey = await _survey(session, make_staff)
    client.cookies.set(SESSION_COOKIE, who.token)
    page = await client.get(f"/app/surveys/{survey.id}/erfassen")
    assert page.status_code == 200, page.text
    text = page.text
    token_in(text)
    for needle in ('name="kanal" value="interview"', 'name="kanal" value="paper"',
                   'id="einwilligung"', 'id="gruppe"', 'id="stufe"', 'id="bogennummer"',
                   'id="code"', 'name="q_integration"', 'name="q_erreichbarkeit"',
                   "Was verstehen Sie unter Integration?", ">Jugendliche</option>"):
        assert needle in text, needle
    # An interviewer sees no colleague's counts; the coordinator does (below).
    assert 'id="zaehlung"' not in text
    # The interviewer's way in: the organisation's open surveys.
    overview = await client.get(f"/app/orgs/{who.org_slug}/erfassen")
    assert overview.status_code == 200 and f"/app/surveys/{survey.id}/erfassen" in overview.text
    start = await client.get("/app")
    assert f"/app/orgs/{who.org_slug}/erfassen" in start.text


async def test_the_surveys_staff_page_links_to_it(client, session, make_staff):
    who, survey = await _survey(session, make_staff, role=Role.coordinator)
    client.cookies.set(SESSION_COOKIE, who.token)
    page = await client.get(f"/app/surveys/{survey.id}/bearbeiten")
    assert page.status_code == 200 and f'href="/app/surveys/{survey.id}/erfassen"' in page.text


async def test_interview_saved_then_an_empty_form_with_the_confirmation(
        client, session, make_staff):
    who, survey = await _survey(session, make_staff)
    client.cookies.set(SESSION_COOKIE, who.token)
    r = await _post(client, survey, {**FORM, "kanal": "interview", "einwilligung": "ja",
                                     "gruppe": "jugendliche", "stufe": "3"})
    assert r.status_code == 303, r.text
    assert r.headers["location"].endswith("?ok=interview&kanal=interview#meldung")
    page = await client.get(r.headers["location"])
    assert 'role="status" id="meldung" tabindex="-1" autofocus' in page.text
    assert "Gespeichert (Interview)" in page.text
    assert "Dazugehören" not in page.text  # empty for the next interviewee
    assert 'value="interview" checked' in page.text  # the channel stays chosen
    [row] = await _responses(session, survey.id)
    assert (row.channel, row.group_key, row.reach_tier, row.language) == (
        "interview", "jugendliche", 3, None)


async def test_refused_entry_shows_errors_and_keeps_what_was_entered(
        client, session, make_staff):
    who, survey = await _survey(session, make_staff)
    client.cookies.set(SESSION_COOKIE, who.token)
    # No consent: 422, the error names the field, the answers are still there.
    r = await _post(client, survey, {**FORM, "kanal": "interview", "gruppe": "jugendliche"})
    assert r.status_code == 422, r.text
    assert 'href="#einwilligung"' in r.text and 'id="einwilligung-fehler"' in r.text
    assert "Dazugehören, mitreden können." in r.text
    assert 'value="jugendliche" selected' in r.text
    # A required question left out: named in the summary, linked to its field.
    r = await _post(client, survey, {"q_erreichbarkeit": "kaum", "kanal": "interview",
                                     "einwilligung": "ja"})
    assert r.status_code == 422 and 'href="#q-integration"' in r.text
    assert 'id="einwilligung" name="einwilligung" value="ja" checked' in r.text
    assert await _responses(session, survey.id) == []


async def test_paper_forms_on_the_page_are_entered_once(client, session, make_staff):
    who, survey = await _survey(session, make_staff)
    [number] = await assisted.issue_form_numbers(session, survey.id, 1)
    [invite] = await make_invites(session, await make_campaign(session, survey))
    code = await assisted.paper_code_for(session, invite.invitation)
    client.cookies.set(SESSION_COOKIE, who.token)
    for ref in ({"bogennummer": str(number)}, {"code": code}):
        r = await _post(client, survey, {**FORM, "kanal": "paper", **ref})
        assert r.status_code == 303, r.text
        r = await _post(client, survey, {**FORM, "kanal": "paper", **ref})
        assert r.status_code == 409, r.text
        field = "bogennummer" if "bogennummer" in ref else "code"
        assert f'id="{field}-fehler"' in r.text and "bereits erfasst" in r.text
    r = await _post(client, survey, {**FORM, "kanal": "paper", "bogennummer": "77"})
    assert r.status_code == 422 and "nicht ausgegeben" in r.text
    assert sorted(x.channel for x in await _responses(session, survey.id)) == ["paper",
                                                                              "paper"]


async def test_coordinator_sees_counts_and_another_org_gets_404(client, session, make_staff):
    who, survey = await _survey(session, make_staff)
    coordinator = await make_staff(role=Role.coordinator, org_slug=who.org_slug)
    for person in (who, who, coordinator):
        client.cookies.set(SESSION_COOKIE, person.token)
        r = await _post(client, survey, {**FORM, "kanal": "interview", "einwilligung": "ja"})
        assert r.status_code == 303, r.text
    page = await client.get(f"/app/surveys/{survey.id}/erfassen")
    assert 'id="zaehlung"' in page.text
    assert f"({who.email})</th><td>Interview</td><td>2</td>" in page.text
    assert f"({coordinator.email})</th><td>Interview</td><td>1</td>" in page.text
    other = await make_staff(role=Role.coordinator)
    client.cookies.set(SESSION_COOKIE, other.token)
    assert (await client.get(f"/app/surveys/{survey.id}/erfassen")).status_code == 404
    steering = await make_staff(role=Role.steering, org_slug=who.org_slug)
    client.cookies.set(SESSION_COOKIE, steering.token)
    assert (await client.get(f"/app/surveys/{survey.id}/erfassen")).status_code == 403


async def test_bergkamen_fifty_interviews_end_to_end(client, session, make_staff):
    """Bergkamen's process template and its interview guide; an interviewer keys in 50
    interviews on the page (24 in tier 3, 16 in tier 2, 7 in tier 1, 3 without a tier); the
    results count them by channel and tier, the 3 without a tier suppressed (and a
    complement)."""
    interviewer = await make_staff(role=Role.interviewer)
    coordinator = await make_staff(role=Role.coordinator, org_slug=interviewer.org_slug)
    template = await resolve_process_template(session, interviewer.org_id, "bergkamen-for-all")
    await StakeholderRepository.from_session(session).add_groups(
        interviewer.org_id, [(g.key, g.title) for g in template.stakeholder_groups], "template")
    pid = uuid.uuid4()
    process = Process(id=pid, organisation_id=interviewer.org_id,
                      template_key="bergkamen-for-all", template_version=template.version,
                      title="Bergkamen for all", starts_on=date(2026, 3, 1), status="running",
                      current_phase="interviews",
                      template_snapshot=template.model_dump(mode="json"),
                      workflow_id=f"process-{pid}")
    session.add(process)
    await session.flush()
    # The survey the process template names, from the built-in interview guide.
    survey = await make_survey(session, process, from_template="integrationsbegriff",
                               phase=None)
    assert survey.template_key == GUIDE and survey.phase_key == "interviews"
    plan = ([("jugendliche", "3", "kaum")] * 14 + [("nicht-organisierte", "3", "teilweise")] * 10
            + [("nachbarschaften", "2", "teilweise")] * 16 + [("hauptamtliche", "1", "gut")] * 7
            + [("", "", "kaum")] * 3)
    assert len(plan) == 50
    client.cookies.set(SESSION_COOKIE, interviewer.token)
    for i, (group, tier, reach) in enumerate(plan):
        r = await _post(client, survey, {
            "kanal": "interview", "einwilligung": "ja", "gruppe": group, "stufe": tier,
            "sprache": "tr" if i % 5 == 0 else "de", "q_integration": f"Antwort {i}",
            "q_erreichbarkeit": reach, "q_mehr_als": str(1 + i % 5)})
        assert r.status_code == 303, (i, r.text)

    client.cookies.set(SESSION_COOKIE, coordinator.token)
    r = await client.get(f"/api/v1/surveys/{survey.id}/results", headers=coordinator.headers)
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["responses"] == 50
    channels = {c["channel"]: c for c in res["by_channel"]["channels"]}
    assert channels["interview"] == {"channel": "interview", "label": "Interview",
                                     "responses": 50, "suppressed": False}
    by_tier = {t["tier"]: t for t in res["by_channel"]["interview"]["by_tier"]}
    assert (by_tier[3]["responses"], by_tier[2]["responses"]) == (24, 16)
    # The 3 without a tier are hidden, and so is the smallest other tier (the 7 of tier 1):
    # 50 - 24 - 16 would give them back.
    assert by_tier[0]["suppressed"] and by_tier[0]["responses"] is None
    assert by_tier[1]["suppressed"] and by_tier[1]["responses"] is None
    reach = {q["id"]: q for q in res["questions"]}["erreichbarkeit"]
    counts = {o["value"]: o["count"] for o in reach["options"]}
    assert counts == {"gut": 7, "teilweise": 26, "kaum": 17}
    # Nothing ties the anonymous answers to the interviewer but the count.
    assert {x.language for x in await _responses(session, survey.id)} == {None}
    [count] = await assisted.entry_counts(session, survey)
    assert (count.user_id, count.channel, count.entries) == (interviewer.user_id,
                                                             "interview", 50)
    # The page and the export label the channel in German.
    page = await client.get(f"/app/surveys/{survey.id}/results")
    assert "Interview</th>\n    <td>50</td>" in page.text and 'id="kanal-interview-h"' in page.text
    csv = await client.get(f"/api/v1/surveys/{survey.id}/results.csv?tabelle=kanaele",
                           headers=coordinator.headers)
    assert csv.status_code == 200, csv.text
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert "Interview;gesamt;gesamt;50;nein" in lines
    assert "Interview;gesamt;3;24;nein" in lines
    assert "Interview;gesamt;ohne Angabe;;ja" in lines
