"""Public pages per organisation (issue 13): the admin maintains Impressum, privacy notice
(DSGVO Art. 13) and contact (page form and API, the same rules and German messages); anyone
reads them at /o/{slug}/...; every participant page links them in its footer (and no longer
offers the staff login), and so does every participant mail."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from httpx import ASGITransport, AsyncClient
from sqlalchemy import select

from api.deps import SESSION_COOKIE
from services.campaigns import service as campaigns
from services.legal import service as legal
from services.meetings import delivery
from services.meetings import service as meetings
from services.meetings.schemas import RegistrationIn
from services.models.organisation import Organisation, Role
from tests.support.campaigns import (
    add_stakeholders,
    mail_setup,
    make_campaign,
    make_org,
    send_round,
)
from tests.support.forms import form_token
from tests.support.meetings import delivery_setup, make_event, make_links, registrations
from tests.support.surveys import make_campaign as make_survey_campaign
from tests.support.surveys import make_invites, make_process, make_survey

FILLED = {
    "responsible": "Stadt Weiterstadt\nRiedbahnstraße 6\n64331 Weiterstadt",
    "represented_by": "Bürgermeister Ralf Möller",
    "email": "beteiligung@weiterstadt.example",
    "phone": "06150 400-0",
    "imprint_extra": "",
    "dpo_name": "Datenschutzbeauftragte der Stadt",
    "dpo_email": "datenschutz@weiterstadt.example",
    "purpose": "",
    "legal_basis": "",
    "retention": "Bis zum 31.12.2027.",
    "supervisory_authority": "Der Hessische Beauftragte für Datenschutz und Informationsfreiheit",
    "contact_note": "Sprechzeiten: Di und Do 9–12 Uhr",
}


def _web(app, token: str | None = None) -> AsyncClient:  # type: ignore[no-untyped-def]
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver",
                       cookies={SESSION_COOKIE: token} if token else {})


def assert_footer(html: str, slug: str, lang: str = "de") -> None:
    q = "?lang=en" if lang == "en" else ""
    for page in ("impressum", "datenschutz", "kontakt"):
        assert f'href="/o/{slug}/{page}{q}"' in html, html
    # A participant page offers no way into the staff login.
    assert 'href="/"' not in html and 'href="/login' not in html and 'href="/app"' not in html


async def _save(maker, org_id: uuid.UUID) -> None:  # type: ignore[no-untyped-def]
    async with maker() as s:
        await legal.save(s, org_id, FILLED, actor="admin@example.org")
        await s.commit()


async def _slug(maker, org_id: uuid.UUID) -> str:  # type: ignore[no-untyped-def]
    async with maker() as s:
        return str(await s.scalar(select(Organisation.slug).where(Organisation.id == org_id)))


async def test_admin_fills_in_the_pages_and_anyone_reads_them(app, make_staff):  # type: ignore[no-untyped-def]
    admin = await make_staff(role=Role.admin)
    slug = admin.org_slug
    async with _web(app) as anyone:
        # Before: the pages answer, and say that nothing is filled in yet.
        for page in ("impressum", "datenschutz", "kontakt"):
            r = await anyone.get(f"/o/{slug}/{page}")
            assert r.status_code == 200
            assert "hat die Angaben für diese Seite noch nicht hinterlegt" in r.text
            assert_footer(r.text, slug)
        r = await anyone.get(f"/o/{slug}/datenschutz")
        assert "Art. 6 Abs. 1 lit. a DSGVO" in r.text and "Art. 15 DSGVO" in r.text

    url = f"/app/orgs/{slug}/rechtliches"
    async with _web(app, admin.token) as web:
        assert f'href="{url}"' in (await web.get("/app")).text
        csrf = await form_token(web, url)
        bad = {**FILLED, "responsible": "  ", "dpo_email": "keine-adresse"}
        r = await web.post(url, data={"csrf_token": csrf, **bad})
        # The form again, on a page (not a bare message), with each problem and what was typed.
        assert r.status_code == 422 and "<form" in r.text
        assert "Bitte „Verantwortliche Stelle (Name und Anschrift)“ ausfüllen." in r.text
        assert "Bitte eine gültige E-Mail-Adresse angeben." in r.text
        assert 'aria-invalid="true"' in r.text
        assert 'value="keine-adresse"' in r.text and 'value="Bürgermeister Ralf Möller"' in r.text
        r = await web.post(url, data={"csrf_token": csrf, **FILLED})
        assert r.status_code == 303 and r.headers["location"] == f"{url}?ok=1"
        page = await web.get(r.headers["location"])
        assert "Die Angaben wurden gespeichert." in page.text
        assert "Sprechzeiten: Di und Do 9–12 Uhr" in page.text

    async with _web(app) as anyone:
        imprint = (await anyone.get(f"/o/{slug}/impressum")).text
        assert "noch nicht hinterlegt" not in imprint
        assert "Riedbahnstraße 6" in imprint and "Bürgermeister Ralf Möller" in imprint
        assert 'href="mailto:beteiligung@weiterstadt.example"' in imprint
        privacy = (await anyone.get(f"/o/{slug}/datenschutz")).text
        # Art. 13: responsible, DPO, purpose, legal basis, retention, rights, authority.
        for text in ("Riedbahnstraße 6", "datenschutz@weiterstadt.example",
                     legal.DEFAULT_PURPOSE, "Art. 6 Abs. 1 lit. a DSGVO", "Bis zum 31.12.2027.",
                     "Art. 17", "Art. 77", "Der Hessische Beauftragte"):
            assert text in privacy, text
        contact = (await anyone.get(f"/o/{slug}/kontakt")).text
        assert "Sprechzeiten: Di und Do 9–12 Uhr" in contact
        english = await anyone.get(f"/o/{slug}/datenschutz?lang=en")
        assert '<html lang="en" dir="ltr">' in english.text
        assert "<h1>Privacy notice</h1>" in english.text
        assert_footer(english.text, slug, "en")


async def test_the_api_shares_the_rules_and_only_admins_write(app, client, make_staff):  # type: ignore[no-untyped-def]
    admin = await make_staff(role=Role.admin)
    coordinator = await make_staff(role=Role.coordinator, org_slug=admin.org_slug)
    stranger = await make_staff(role=Role.admin)  # the admin of another organisation
    path = f"/api/v1/orgs/{admin.org_slug}/legal"

    r = await client.put(path, json={**FILLED, "dpo_email": "x"}, headers=admin.headers)
    assert r.status_code == 422
    assert r.json()["error"]["details"] == [
        {"field": "dpo_email", "message": "Bitte eine gültige E-Mail-Adresse angeben."}]
    r = await client.put(path, json=FILLED, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["dpo_email"] == "datenschutz@weiterstadt.example"
    assert r.json()["pages"]["impressum"] == f"/o/{admin.org_slug}/impressum"

    # A coordinator reads but may not write; another organisation's admin sees nothing.
    assert (await client.get(path, headers=coordinator.headers)).json()["email"] == FILLED["email"]
    r = await client.put(path, json={**FILLED, "email": "evil@example.org"},
                         headers=coordinator.headers)
    assert r.status_code == 403 and r.json()["error"]["code"] == "role_required"
    assert (await client.get(path, headers=stranger.headers)).status_code == 404
    r = await client.put(path, json={**FILLED, "email": "evil@example.org"},
                         headers=stranger.headers)
    assert r.status_code == 404
    assert (await client.get(path, headers=admin.headers)).json()["email"] == FILLED["email"]

    # The stranger's own pages stay theirs: nothing of the first organisation shows.
    other = (await client.get(f"/o/{stranger.org_slug}/impressum")).text
    assert "noch nicht hinterlegt" in other and "Riedbahnstraße" not in other


async def test_a_non_admin_gets_no_form(app, make_staff):  # type: ignore[no-untyped-def]
    admin = await make_staff(role=Role.admin)
    coordinator = await make_staff(role=Role.coordinator, org_slug=admin.org_slug)
    url = f"/app/orgs/{admin.org_slug}/rechtliches"
    async with _web(app, coordinator.token) as web:
        assert f'href="{url}"' not in (await web.get("/app")).text
        r = await web.get(url, headers={"Accept": "text/html"})
        assert r.status_code == 403 and "<form" not in r.text.split("</header>")[1]
        csrf = await form_token(web, "/app/passwort")
        r = await web.post(url, data={"csrf_token": csrf, **FILLED})
        assert r.status_code == 403
    async with _web(app) as anyone:
        assert "noch nicht hinterlegt" in (await anyone.get(f"/o/{admin.org_slug}/impressum")).text


async def test_survey_decline_and_unsubscribe_pages_link_them(client, session, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, from_template="weiterstadt-bedarfe-und-wuensche")
    campaign = await make_survey_campaign(session, survey)
    first, second, english = (await make_invites(session, campaign, 2)
                              + await make_invites(session, campaign, 1, language="en"))
    slug = staff.org_slug

    form = await client.get(f"/t/{first.token}")
    assert form.status_code == 200 and "<form" in form.text
    assert_footer(form.text, slug)
    assert "<strong>Mitwirken</strong>" in form.text

    for token, what in ((first.token, "decline"), (second.token, "unsubscribe")):
        page = await client.get(f"/t/{token}/{what}")
        assert_footer(page.text, slug)
        done = await client.post(f"/t/{token}/{what}")
        assert done.status_code == 200
        assert_footer(done.text, slug)
        # What happens next, and somewhere useful to go.
        assert "Sie müssen nichts weiter tun." in done.text or "schreiben Sie uns" in done.text
        assert f'href="/o/{slug}/kontakt">Fragen? So erreichen Sie uns</a>' in done.text

    r = await client.post(f"/t/{english.token}/decline")
    assert "There is nothing more you need to do." in r.text
    assert_footer(r.text, slug, "en")
    # The survey link of a declined invitation: its status page links the pages, too.
    declined = await client.get(f"/t/{first.token}")
    assert_footer(declined.text, slug)


async def test_event_pages_link_them(client, committed_maker):  # type: ignore[no-untyped-def]
    setup = await make_event(committed_maker, public=True)
    slug = await _slug(committed_maker, setup.org_id)
    [token] = await make_links(committed_maker, setup, 1)
    page = await client.get(f"/t/{token}")
    assert page.status_code == 200 and "Kick-off-Veranstaltung" in page.text
    assert_footer(page.text, slug)
    r = await client.post(f"/t/{token}", data={"attending": "yes", "companions": "0"})
    assert r.status_code == 303, r.text
    done = await client.get(r.headers["location"])
    # What happens next: the confirmation mail and a reminder.
    assert "Die Bestätigung mit Kalendereintrag und Check-in-Code kommt per E-Mail" in done.text
    assert_footer(done.text, slug)
    public = await client.get(f"/veranstaltungen/{setup.meeting_id}/anmeldung")
    assert public.status_code == 200
    assert_footer(public.text, slug)
    sent = await client.get(f"/veranstaltungen/{setup.meeting_id}/anmeldung/gesendet?lang=en")
    assert_footer(sent.text, slug, "en")


async def test_participant_mails_link_them(committed_maker, smtp_sink):  # type: ignore[no-untyped-def]
    # A campaign invitation, German and English, through the real sender and SMTP.
    org_id = await make_org(committed_maker)
    slug = await _slug(committed_maker, org_id)
    await _save(committed_maker, org_id)
    tag = org_id.hex[:8]
    await add_stakeholders(committed_maker, org_id, [
        {"name": "Erika", "email": f"erika@{tag}.example", "group_key": "g"},
        {"name": "Emma", "email": f"emma@{tag}.example", "group_key": "g", "language": "en"}])
    campaign = await make_campaign(committed_maker, org_id,
                                   deadline=datetime.now(UTC) + timedelta(days=5))
    async with committed_maker() as s:
        await campaigns.select_audience(s, campaign.id, secret_key="k" * 40, batch_size=50,
                                        started_at=datetime.now(UTC))
        await s.commit()
    outcome = await send_round(mail_setup(committed_maker, smtp_sink.host, smtp_sink.port),
                               campaign.id)
    assert outcome.sent == 2
    base = f"http://testserver/o/{slug}"
    [de] = smtp_sink.to(f"erika@{tag}.example")
    text = de.message.get_body(("plain",)).get_content()
    markup = de.message.get_body(("html",)).get_content()
    assert f"Impressum: {base}/impressum" in text and f"Datenschutz: {base}/datenschutz" in text
    assert f"Kontakt: {base}/kontakt" in text
    assert f'<a href="{base}/datenschutz">Datenschutz</a>' in markup
    [en] = smtp_sink.to(f"emma@{tag}.example")
    assert f"Privacy: {base}/datenschutz?lang=en" in en.message.get_body(("plain",)).get_content()

    # An event's confirmation mail.
    setup = await make_event(committed_maker)
    event_slug = await _slug(committed_maker, setup.org_id)
    [token] = await make_links(committed_maker, setup, 1)
    async with committed_maker() as s:
        await meetings.register_by_token(s, token, RegistrationIn(attending=True))
        await s.commit()
    assert await delivery.deliver(delivery_setup(committed_maker, smtp_sink.port),
                                  setup.meeting_id) == 1
    [reg] = await registrations(committed_maker, setup.meeting_id)
    [mail] = smtp_sink.to(reg.email)
    body = mail.message.get_body(("plain",)).get_content()
    assert f"Impressum: http://testserver/o/{event_slug}/impressum" in body
    assert f"Kontakt: http://testserver/o/{event_slug}/kontakt" in body
