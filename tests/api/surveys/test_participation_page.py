"""The participant's page without a browser: forms, errors, PRG, status pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.surveys import counts, make_campaign, make_invites, make_process, make_survey


async def _invite(session, make_staff, **kw):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, from_template="weiterstadt-bedarfe-und-wuensche")
    campaign = await make_campaign(session, survey)
    (inv,) = await make_invites(session, campaign, **kw)
    return survey, inv


async def test_form_errors_then_submit_then_answered(client, session, make_staff):
    _, inv = await _invite(session, make_staff)
    r = await client.get(f"/t/{inv.token}")
    assert r.status_code == 200
    assert "<legend>1. In welcher Rolle nehmen Sie teil?" in r.text
    assert f'href="/t/{inv.token}/decline"' in r.text
    before = await counts(session)
    r = await client.post(f"/t/{inv.token}", data={"q_gruppe": "politik",
                                                   "aktion": "absenden"})
    assert r.status_code == 422
    assert 'class="error-summary"' in r.text and 'href="#q-themen-0"' in r.text
    assert 'aria-describedby="q-themen-hint q-themen-error"' in r.text
    assert 'value="politik" checked' in r.text  # what was entered stays
    # Nothing submitted; the valid answer is kept as the draft.
    assert await counts(session) == {**before, "drafts": before["drafts"] + 1}
    form = {"q_gruppe": "politik", "q_themen": ["arbeit", "bildung"], "q_zusammenleben": "4",
            "q_formate__workshop": "2", "q_formate__online": "1",
            "q_formate__stadtgespraech": "3", "q_formate__interview": "4",
            "q_bedarfe": "Mehr Treffpunkte", "aktion": "absenden"}
    r = await client.post(f"/t/{inv.token}", data=form)
    # Even "absenden" from an old page only leads to the review.
    assert r.status_code == 303 and r.headers["location"] == f"/t/{inv.token}/pruefen"
    assert (await counts(session))["responses"] == before["responses"]
    r = await client.post(f"/t/{inv.token}/absenden")
    assert r.status_code == 303 and r.headers["location"] == f"/t/{inv.token}/danke"
    assert (await counts(session))["responses"] == before["responses"] + 1
    r = await client.get(f"/t/{inv.token}/danke")
    assert "Vielen Dank" in r.text
    r = await client.get(f"/t/{inv.token}")
    assert "Bereits beantwortet" in r.text
    r = await client.post(f"/t/{inv.token}", data=form)
    assert r.status_code == 409 and "Bereits beantwortet" in r.text
    r = await client.post(f"/t/{inv.token}/absenden")
    assert r.status_code == 409 and "Bereits beantwortet" in r.text
    assert (await counts(session))["responses"] == before["responses"] + 1


async def test_bad_ranking_keeps_choices(client, session, make_staff):
    _, inv = await _invite(session, make_staff)
    form = {"q_gruppe": "politik", "q_themen": "arbeit", "q_zusammenleben": "4",
            "q_formate__workshop": "1", "q_formate__online": "1", "aktion": "absenden"}
    r = await client.post(f"/t/{inv.token}", data=form)
    assert r.status_code == 422 and "jeden Rang genau einmal" in r.text


async def test_save_and_resume(client, session, make_staff):
    _, inv = await _invite(session, make_staff)
    r = await client.post(f"/t/{inv.token}", data={"q_gruppe": "verwaltung",
                                                   "aktion": "speichern"})
    assert r.status_code == 303 and r.headers["location"].endswith("?gespeichert=1")
    r = await client.get(r.headers["location"])
    assert "zwischengespeichert" in r.text and 'value="verwaltung" checked' in r.text


async def test_english_and_status_pages(client, session, make_staff):
    _, inv = await _invite(session, make_staff, language="en")
    r = await client.get(f"/t/{inv.token}")
    assert '<html lang="en" dir="ltr">' in r.text and "Continue to review" in r.text
    r = await client.get("/t/unbekannt")
    assert r.status_code == 404 and "Link unbekannt" in r.text
    _, expired = await _invite(session, make_staff,
                               expires_at=datetime.now(UTC) - timedelta(days=1))
    r = await client.get(f"/t/{expired.token}")
    assert r.status_code == 410 and "abgelaufen" in r.text
    survey, open_inv = await _invite(session, make_staff)
    survey.closes_at = datetime.now(UTC) - timedelta(seconds=1)
    await session.flush()
    r = await client.get(f"/t/{open_inv.token}")
    assert r.status_code == 410 and "Umfrage beendet" in r.text


async def test_not_yet_open_and_thanks_without_answer(client, session, make_staff):
    survey, inv = await _invite(session, make_staff)
    r = await client.get(f"/t/{inv.token}/danke")
    assert r.status_code == 303 and r.headers["location"] == f"/t/{inv.token}"
    survey.opens_at = datetime.now(UTC) + timedelta(days=3)
    await session.flush()
    r = await client.get(f"/t/{inv.token}")
    assert "noch nicht geöffnet" in r.text
    before = await counts(session)
    r = await client.post(f"/t/{inv.token}", data={"q_gruppe": "politik", "aktion": "absenden"})
    assert r.status_code == 409 and "noch nicht geöffnet" in r.text
    r = await client.post(f"/t/{inv.token}/absenden")
    assert r.status_code == 409 and "noch nicht geöffnet" in r.text
    r = await client.post(f"/api/v1/participation/{inv.token}/response",
                          json={"answers": {"gruppe": "politik"}})
    assert r.status_code == 409 and r.json()["error"]["code"] == "survey_not_open"
    assert await counts(session) == before
