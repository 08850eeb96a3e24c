"""Multiplier links (issue 12): the API, the participant's pages at /m/{secret}, the partner's
read-only page and the poster, against the app on the real database."""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import UTC, datetime, timedelta

import pypdf
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select, text

from api.app import create_app
from api.deps import SESSION_COOKIE
from api.ratelimit import MultiplierLimits
from services.identity.service import create_organisation
from services.models.organisation import Role
from services.models.survey import MultiplierLink, SurveyResponse
from services.stakeholders.repository import StakeholderRepository
from services.surveys import multiplier
from tests.support.forms import form_token
from tests.support.multiplier import ANSWERS, FORM, answer, csrf_of, make_link, make_partner
from tests.support.surveys import make_process, make_survey

TEMPLATE = "vielfaltsmanager-feedback"


async def _survey(session, make_staff, **staff):
    who = await make_staff(**staff)
    process = await make_process(session, who.org_id)
    survey = await make_survey(session, process, from_template=TEMPLATE)
    return who, survey


async def _responses(session, survey_id):
    return list(await session.scalars(
        select(SurveyResponse).where(SurveyResponse.survey_id == survey_id)))


# --- the API -------------------------------------------------------------------------------

async def test_create_list_close_and_other_org_gets_404(client, session, make_staff, settings):
    staff, survey = await _survey(session, make_staff)
    partner = await make_partner(session, staff.org_id, group="jugend", tier=2)
    base = f"/api/v1/surveys/{survey.id}/multiplier-links"
    r = await client.post(base, headers=staff.headers, json={
        "partner_id": str(partner.id), "cap": 30,
        "closes_at": (datetime.now(UTC) + timedelta(days=14)).isoformat()})
    assert r.status_code == 201, r.text
    link = r.json()
    # Defaults: the partner's group, tier and name.
    assert (link["group"], link["tier"], link["label"], link["cap"], link["answers"],
            link["status"]) == ("jugend", 2, "Kulturverein Nord", 30, 0, "open")
    secret = link["link"].rsplit("/m/", 1)[1]
    assert len(secret) == 16 and link["link"] == f"{settings.public_url}/m/{secret}"
    assert link["results_link"].endswith("/ergebnis")
    # At rest only the hashes.
    row = await session.get(MultiplierLink, uuid.UUID(link["id"]))
    assert secret not in (row.secret_hash, row.results_hash) and len(row.secret_hash) == 64

    listed = (await client.get(base, headers=staff.headers)).json()
    assert [x["id"] for x in listed] == [link["id"]]
    r = await client.post(f"{base}/{link['id']}/close", headers=staff.headers)
    assert r.status_code == 200 and r.json()["status"] == "closed"
    r = await client.post(f"{base}/{link['id']}/close", headers=staff.headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "link_already_closed"

    # Another organisation: exactly the 404 of a missing survey, for every endpoint.
    other = await make_staff()
    for method, path in (("get", base), ("post", base), ("get", f"{base}/{link['id']}"),
                         ("post", f"{base}/{link['id']}/close"),
                         ("get", f"{base}/{link['id']}/poster.pdf")):
        r = await client.request(method, path, headers=other.headers,
                                 json={"partner_id": str(partner.id)} if method == "post"
                                 else None)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["error"]["code"] == "not_found"


async def test_create_checks_role_partner_and_fields(client, session, make_staff):
    staff, survey = await _survey(session, make_staff)
    person = await make_partner(session, staff.org_id, kind="person")
    base = f"/api/v1/surveys/{survey.id}/multiplier-links"
    r = await client.post(base, headers=staff.headers, json={"partner_id": str(person.id)})
    assert r.status_code == 422 and r.json()["error"]["code"] == "partner_not_organisation"
    assert r.json()["error"]["details"][0]["field"] == "partner_id"
    r = await client.post(base, headers=staff.headers, json={"partner_id": str(uuid.uuid4())})
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_partner"
    partner = await make_partner(session, staff.org_id)
    r = await client.post(base, headers=staff.headers,
                          json={"partner_id": str(partner.id), "cap": 0, "tier": 7})
    assert r.status_code == 422
    fields = {d["field"] for d in r.json()["error"]["details"]}
    assert {"cap", "tier"} <= {f.rsplit(".", 1)[-1] for f in fields}, fields
    r = await client.post(base, headers=staff.headers,
                          json={"partner_id": str(partner.id), "group": "gibt-es-nicht"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_group"
    assert r.json()["error"]["details"][0]["field"] == "group"
    await StakeholderRepository.from_session(session).add_groups(
        staff.org_id, [("senioren", "Seniorinnen und Senioren")], "manual")
    r = await client.post(base, headers=staff.headers,
                          json={"partner_id": str(partner.id), "group": "senioren", "tier": 1,
                                "label": "Seniorentreff"})
    assert r.status_code == 201 and (r.json()["group"], r.json()["tier"], r.json()["label"]) \
        == ("senioren", 1, "Seniorentreff")
    steering = await make_staff(role=Role.steering, org_slug=staff.org_slug)
    r = await client.post(base, headers=steering.headers, json={"partner_id": str(partner.id)})
    assert r.status_code == 403
    assert (await client.get(base, headers=steering.headers)).status_code == 200


# --- answering through the link -------------------------------------------------------------

async def test_answer_is_anonymous_multiplier_with_the_links_group_and_tier(
        client, session, make_staff, settings):
    staff, survey = await _survey(session, make_staff)
    partner = await make_partner(session, staff.org_id, group="migrantenorganisationen", tier=3)
    link_id, secret, _ = await make_link(session, survey, partner, settings.resolved_secret_key())
    page = await client.get(f"/m/{secret}")
    assert page.status_code == 200
    assert 'action="/m/' + secret + '"' in page.text and 'id="cookie-hinweis"' in page.text
    assert "/decline" not in page.text and "/unsubscribe" not in page.text
    assert 'hreflang' in page.text or '?lang=en' in page.text  # the language switch
    r = await answer(client, secret)
    assert r.status_code == 303 and r.headers["location"] == f"/m/{secret}/danke"
    assert "m_beantwortet=1" in r.headers["set-cookie"]
    (resp,) = await _responses(session, survey.id)
    assert (resp.channel, resp.group_key, resp.reach_tier, resp.language) == (
        "multiplier", "migrantenorganisationen", 3, None)
    assert (await session.get(MultiplierLink, link_id)).answers == 1
    answers = dict((await session.execute(text(
        "SELECT question_key, coalesce(choice, text, num::text) FROM survey_answers "
        "WHERE response_id = :r AND ordinal = 0"), {"r": resp.id})).all())
    assert answers["tag"] == "tag1" and answers["mitnehmen"] == ANSWERS["mitnehmen"]
    assert (await session.scalar(text("SELECT count(*) FROM survey_drafts WHERE survey_id = :s"),
                                 {"s": survey.id})) == 0
    thanks = await client.get(f"/m/{secret}/danke")
    assert thanks.status_code == 200 and "Vielen Dank" in thanks.text


async def test_the_cookie_blocks_a_second_answer_from_the_same_browser(
        client, session, make_staff, settings):
    staff, survey = await _survey(session, make_staff)
    partner = await make_partner(session, staff.org_id)
    _, secret, _ = await make_link(session, survey, partner, settings.resolved_secret_key())
    assert (await answer(client, secret)).status_code == 303
    again = await client.get(f"/m/{secret}")
    assert again.status_code == 200 and "Bereits beantwortet" in again.text
    assert 'id="antworten"' not in again.text
    r = await client.post(f"/m/{secret}", data={**FORM, "aktion": "pruefen"})
    assert r.status_code == 409
    r = await client.post(f"/m/{secret}/absenden")
    assert r.status_code == 409
    assert len(await _responses(session, survey.id)) == 1
    # Another browser (no cookie) may answer.
    async with AsyncClient(transport=client._transport, base_url="http://testserver") as other:
        assert (await answer(other, secret)).status_code == 303
    assert len(await _responses(session, survey.id)) == 2


async def test_review_step_and_language_switch(client, session, make_staff, settings):
    staff, survey = await _survey(session, make_staff)
    partner = await make_partner(session, staff.org_id)
    _, secret, _ = await make_link(session, survey, partner, settings.resolved_secret_key())
    page = await client.get(f"/m/{secret}?lang=en")
    assert page.status_code == 200 and '<html lang="en"' in page.text
    r = await client.post(f"/m/{secret}", data={**FORM, **csrf_of(page.text),
                                                "aktion": "pruefen"})
    assert r.status_code == 303 and r.headers["location"].startswith(
        f"/m/{secret}/pruefen?entwurf=")
    review = await client.get(f"/m/{secret}/pruefen")  # the cookie names the draft
    assert review.status_code == 200 and '<html lang="en"' in review.text  # the kept choice
    assert f'action="/m/{secret}/absenden?entwurf=' in review.text
    assert await _responses(session, survey.id) == []  # the review submits nothing
    # Missing required answers come back named, nothing is stored.
    r = await client.post(f"/m/{secret}", data={"q_tag": "tag1", **csrf_of(page.text),
                                                "aktion": "pruefen"})
    assert r.status_code == 422 and 'class="error-summary"' in r.text


async def test_a_browser_without_cookies_can_answer(client, session, make_staff, settings):
    staff, survey = await _survey(session, make_staff)
    partner = await make_partner(session, staff.org_id)
    _, secret, _ = await make_link(session, survey, partner, settings.resolved_secret_key())

    async def bare(method, url, **kw):
        client.cookies.clear()  # it keeps none of ours
        return await client.request(method, url, **kw)

    await bare("GET", f"/m/{secret}")
    # "Zwischenspeichern" keeps the draft under the key in the address.
    r = await bare("POST", f"/m/{secret}", data={"q_tag": "tag1", "aktion": "speichern"})
    assert r.status_code == 303 and "gespeichert=1" in r.headers["location"]
    saved = await bare("GET", r.headers["location"])
    assert "zwischengespeichert" in saved.text and 'value="tag1" checked' in saved.text
    form_action = saved.text.split('id="antworten"', 1)[0].rsplit('action="', 1)[1]
    assert form_action.startswith(f"/m/{secret}?entwurf=")
    r = await bare("POST", f"/m/{secret}", data={**FORM, "aktion": "pruefen"})
    assert r.status_code == 303 and "?entwurf=" in r.headers["location"]
    review = await bare("GET", r.headers["location"])
    assert review.status_code == 200 and "?entwurf=" in review.text
    action = review.text.split('<form method="post" action="', 1)[1].split('"', 1)[0]
    r = await bare("POST", action.replace("&amp;", "&"))
    assert r.status_code == 303 and r.headers["location"] == f"/m/{secret}/danke"
    assert len(await _responses(session, survey.id)) == 1
    # The draft went with the submission: its key opens nothing any more.
    r = await bare("GET", action.replace("/absenden", "/pruefen"))
    assert r.status_code == 303 and r.headers["location"] == f"/m/{secret}"


async def test_closed_expired_and_full_links_refuse(client, session, make_staff, settings):
    staff, survey = await _survey(session, make_staff)
    partner = await make_partner(session, staff.org_id)
    key = settings.resolved_secret_key()
    link_id, secret, _ = await make_link(session, survey, partner, key)
    page = await client.get(f"/m/{secret}")
    r = await client.post(f"/m/{secret}", data={**FORM, **csrf_of(page.text),
                                                "aktion": "pruefen"})
    assert r.status_code == 303
    # Closed by the coordinator between review and confirmation: the submit is refused.
    r = await client.post(f"/api/v1/surveys/{survey.id}/multiplier-links/{link_id}/close",
                          headers=staff.headers)
    assert r.status_code == 200
    r = await client.post(f"/m/{secret}/absenden", data=csrf_of(page.text))
    assert r.status_code == 410 and "Link geschlossen" in r.text
    assert (await client.get(f"/m/{secret}")).status_code == 410
    assert await _responses(session, survey.id) == []

    _, expired, _ = await make_link(session, survey, partner, key,
                                    opens_at=datetime.now(UTC) - timedelta(days=2),
                                    closes_at=datetime.now(UTC) - timedelta(days=1))
    assert (await client.get(f"/m/{expired}")).status_code == 410

    _, later, _ = await make_link(session, survey, partner, key,
                                  opens_at=datetime.now(UTC) + timedelta(days=1))
    r = await client.get(f"/m/{later}")
    assert r.status_code == 200 and 'id="antworten"' not in r.text

    _, small, _ = await make_link(session, survey, partner, key, cap=1)
    assert (await answer(client, small)).status_code == 303
    client.cookies.clear()
    r = await client.get(f"/m/{small}")
    assert r.status_code == 409 and "Keine weiteren Antworten" in r.text
    assert (await client.get("/m/unbekannt")).status_code == 404


async def test_submissions_are_rate_limited_per_address(client, app, session, make_staff,
                                                        settings):
    staff, survey = await _survey(session, make_staff)
    partner = await make_partner(session, staff.org_id)
    _, secret, _ = await make_link(session, survey, partner, settings.resolved_secret_key())
    app.state.multiplier_limits = MultiplierLimits(submits_per_minute=1)
    assert (await answer(client, secret)).status_code == 303
    client.cookies.clear()  # a new browser, the same address
    r = await answer(client, secret)
    assert r.status_code == 429 and r.headers["retry-after"] == "60"
    assert len(await _responses(session, survey.id)) == 1
    # Only a keyed hash of the address is kept, in memory.
    keys = list(app.state.multiplier_limits.submits.buckets)
    assert keys and all("127.0.0.1" not in k and len(k) == 32 for k in keys)


async def test_the_cap_holds_under_50_concurrent_submissions(settings, committed_maker):
    """50 browsers (each its own client, cookies and database session) confirm at once on a
    link with a cap of 20: exactly 20 answers are stored, the rest see "no more answers"."""
    async with committed_maker() as s:
        org = await create_organisation(s, f"cap-{uuid.uuid4().hex[:8]}", "Cap-Stadt")
        process = await make_process(s, org.id)
        survey = await make_survey(s, process, from_template=TEMPLATE)
        partner = await make_partner(s, org.id)
        link_id, secret, _ = await make_link(s, survey, partner, settings.resolved_secret_key(),
                                             cap=20)
        await s.commit()
    app = create_app(settings, sessionmaker=committed_maker)
    app.state.multiplier_limits = MultiplierLimits(views_per_minute=0, submits_per_minute=0)
    transport = ASGITransport(app=app)
    clients = [AsyncClient(transport=transport, base_url="http://testserver")
               for _ in range(50)]
    try:
        # Everyone reaches the review first, so the 50 confirmations really race.
        reviews = []
        for web in clients:
            page = await web.get(f"/m/{secret}")
            r = await web.post(f"/m/{secret}", data={**FORM, **csrf_of(page.text),
                                                     "aktion": "pruefen"})
            assert r.status_code == 303
            reviews.append(csrf_of((await web.get(f"/m/{secret}/pruefen")).text))
        outcomes = await asyncio.gather(*(
            web.post(f"/m/{secret}/absenden", data=form)
            for web, form in zip(clients, reviews, strict=True)))
    finally:
        for web in clients:
            await web.aclose()
    codes = sorted(r.status_code for r in outcomes)
    assert codes.count(303) == 20 and codes.count(409) == 30, codes
    async with committed_maker() as s:
        stored = await s.scalar(text("SELECT count(*) FROM survey_responses WHERE survey_id = :s"),
                                {"s": survey.id})
        link = await s.get(MultiplierLink, link_id)
        assert stored == 20 and link.answers == 20


# --- the partner's page and the poster ------------------------------------------------------

async def test_partner_page_shows_fewer_than_five_below_five(client, session, make_staff,
                                                             settings):
    staff, survey = await _survey(session, make_staff)
    partner = await make_partner(session, staff.org_id)
    link_id, secret, results = await make_link(session, survey, partner,
                                               settings.resolved_secret_key())
    page = await client.get(f"/m/{results}/ergebnis")
    assert page.status_code == 200 and "<strong>weniger als 5</strong>" in page.text
    for n in range(1, 7):
        client.cookies.clear()
        assert (await answer(client, secret)).status_code == 303
        page = await client.get(f"/m/{results}/ergebnis")
        if n < 5:
            assert "<strong>weniger als 5</strong>" in page.text, n
        else:
            assert f"<strong>{n}</strong>" in page.text and "weniger als 5</strong>" not in \
                page.text
    # The answer link's secret does not open the results, nor the other way round.
    assert (await client.get(f"/m/{secret}/ergebnis")).status_code == 404
    assert (await client.get(f"/m/{results}")).status_code == 404


async def test_poster_pdf_parses_back_with_the_short_link(client, session, make_staff,
                                                          settings):
    staff, survey = await _survey(session, make_staff)
    partner = await make_partner(session, staff.org_id)
    link_id, secret, _ = await make_link(session, survey, partner,
                                         settings.resolved_secret_key())
    r = await client.get(f"/api/v1/surveys/{survey.id}/multiplier-links/{link_id}/poster.pdf",
                         headers=staff.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(r.content))
    texts = [p.extract_text() for p in reader.pages]
    short = multiplier.answer_url(settings.public_url, secret)
    assert "Ihre Meinung zählt!" in texts[0] and survey.title["de"] in texts[0]
    # A page per language of the survey (this template has all six), each with the link.
    assert len(texts) == 6 and all(short in t for t in texts)
    assert "Your opinion counts!" in texts[1] and "Görüşünüz önemli!" in texts[2]
    assert "Ihre Meinung zum Kurs·tag" in texts[5]  # Leichte Sprache: its own title
    assert round(float(reader.pages[0].mediabox.width)) == 595  # A4
    # The flyer: the same on A6.
    r = await client.get(f"/api/v1/surveys/{survey.id}/multiplier-links/{link_id}/poster.pdf",
                         params={"size": "a6"}, headers=staff.headers)
    flyer = pypdf.PdfReader(io.BytesIO(r.content))
    assert round(float(flyer.pages[0].mediabox.width)) == 298 and len(flyer.pages) == 6
    assert all(short in p.extract_text() for p in flyer.pages)
    assert 'filename="flyer-' in r.headers["content-disposition"]


# --- the staff page --------------------------------------------------------------------------

async def test_staff_page_creates_lists_closes_and_serves_the_poster(client, session,
                                                                     make_staff, settings):
    staff, survey = await _survey(session, make_staff)
    partner = await make_partner(session, staff.org_id)
    client.cookies.set(SESSION_COOKIE, staff.token)
    base = f"/app/surveys/{survey.id}/multiplikatoren"
    editor = await client.get(f"/app/surveys/{survey.id}/bearbeiten")
    assert f'href="{base}"' in editor.text
    csrf = await form_token(client, base)
    r = await client.post(base, data={"csrf_token": csrf, "partner": "", "stufe": "9",
                                      "ende": "morgen"})
    assert r.status_code == 422 and 'class="error-summary"' in r.text
    assert 'id="partner-fehler"' in r.text and 'id="ende-fehler"' in r.text
    r = await client.post(base, data={"csrf_token": csrf, "partner": str(partner.id),
                                      "obergrenze": "40", "ende": "31.12.2099 18:00"})
    assert r.status_code == 303, r.text
    page = await client.get(r.headers["location"])
    (link,) = (await client.get(f"/api/v1/surveys/{survey.id}/multiplier-links",
                                headers=staff.headers)).json()
    assert "Der Link wurde angelegt." in page.text and link["link"] in page.text
    assert "0 von höchstens 40" in page.text
    secret = link["link"].rsplit("/m/", 1)[1]
    async with AsyncClient(transport=client._transport, base_url="http://testserver") as anyone:
        assert (await answer(anyone, secret)).status_code == 303
    page = await client.get(base)
    assert "1 von höchstens 40" in page.text  # the answers count
    for name in ("plakat", "flyer"):
        doc = await client.get(f"{base}/{link['id']}/{name}.pdf")
        assert doc.status_code == 200 and f'href="{base}/{link["id"]}/{name}.pdf"' in page.text
        assert link["link"] in pypdf.PdfReader(io.BytesIO(doc.content)).pages[0].extract_text()
    r = await client.post(f"{base}/{link['id']}/schliessen", data={"csrf_token": csrf})
    assert r.status_code == 303
    page = await client.get(r.headers["location"])
    assert "Der Link ist geschlossen." in page.text and "Sofort schließen" not in page.text
    async with AsyncClient(transport=client._transport, base_url="http://testserver") as anyone:
        assert (await anyone.get(f"/m/{secret}")).status_code == 410
    # Another organisation's staff: the 404 of a missing survey.
    other = await make_staff()
    client.cookies.set(SESSION_COOKIE, other.token)
    assert (await client.get(base)).status_code == 404


async def test_results_api_and_page_show_answers_by_channel(client, session, make_staff,
                                                            settings):
    staff, survey = await _survey(session, make_staff)
    partner = await make_partner(session, staff.org_id, group="jugend", tier=2)
    _, secret, _ = await make_link(session, survey, partner, settings.resolved_secret_key())
    for _ in range(5):
        client.cookies.clear()
        assert (await answer(client, secret)).status_code == 303
    r = await client.get(f"/api/v1/surveys/{survey.id}/results", headers=staff.headers)
    channels = {c["channel"]: c for c in r.json()["by_channel"]["channels"]}
    assert channels["multiplier"]["responses"] == 5
    assert channels["invitation"]["responses"] == 0
    client.cookies.set(SESSION_COOKIE, staff.token)
    page = await client.get(f"/app/surveys/{survey.id}/results")
    assert page.status_code == 200 and 'id="kanal-h"' in page.text
    assert "Multiplikatoren-Link</th>\n    <td>5</td>" in page.text
