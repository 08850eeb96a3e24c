"""The participant's pages without JavaScript: register through the personal link, see the code
or the waitlist position, change and cancel (the waitlist moves up), English; the public
registration with double opt-in and its rate limit."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from services.meetings.links import public_token
from services.models.meeting import MeetingMail, MeetingRegistration, MeetingSelfDescription
from services.models.organisation import Role
from tests.api.meetings.test_meetings_api import _event, _links
from tests.support.surveys import make_process


async def test_register_waitlist_and_cancel_by_page(client, session, make_staff):
    staff = await make_staff(role=Role.coordinator)
    process = await make_process(session, staff.org_id)
    event = (await _event(client, staff, process.id, accessibility="Aufzug vorhanden")).json()
    a, b = await _links(session, staff.org_id, process.id, event["id"], 2)

    page = await client.get(f"/t/{a}")
    assert page.status_code == 200
    assert "Kick-off" in page.text and "Aufzug vorhanden" in page.text
    assert "<script" not in page.text
    assert 'name="companions"' in page.text and 'name="sd_origin_consent"' in page.text

    r = await client.post(f"/t/{a}", data={"attending": "yes", "companions": "0",
                                           "wheelchair": "1", "interpreter": "ar",
                                           "sd_age_band": "27_44", "sd_origin": "eu"})
    assert r.status_code == 303 and r.headers["location"] == f"/t/{a}?gespeichert=1"
    page = await client.get(r.headers["location"])
    assert "Sie sind angemeldet." in page.text
    code = re.search(r'class="code">([A-Z2-9]{8})<', page.text)
    assert code and not set(code.group(1)) & set("01OI")
    # The self-description is stored apart; without the consent, no origin.
    sd = (await session.scalars(select(MeetingSelfDescription).where(
        MeetingSelfDescription.meeting_id == event["id"]))).one()
    assert (sd.age_band, sd.origin) == ("27_44", "keine_angabe")

    r = await client.post(f"/t/{b}", data={"attending": "yes", "companions": "0"})
    page = await client.get(r.headers["location"])
    assert "Warteliste, Platz 1" in page.text

    # Bad input: the page again with an error summary (422), nothing stored.
    bad = await client.post(f"/t/{b}", data={"attending": "yes", "companions": "viele"})
    assert bad.status_code == 422 and "error-summary" in bad.text

    # a cancels on the page: b moves up.
    r = await client.post(f"/t/{a}", data={"aktion": "absagen"})
    assert r.status_code == 303
    assert "abgemeldet" in (await client.get(f"/t/{a}")).text
    assert "Sie sind angemeldet." in (await client.get(f"/t/{b}")).text

    english = await client.get(f"/t/{b}?lang=en")
    assert "You are registered." in english.text and '<html lang="en" dir="ltr">' in english.text

    # Declining without registering first.
    [c] = await _links(session, staff.org_id, process.id, event["id"], 1)
    r = await client.post(f"/t/{c}", data={"attending": "no"})
    assert "Sie haben abgesagt." in (await client.get(r.headers["location"])).text


async def test_public_registration_with_double_opt_in(client, session, make_staff, settings):
    staff = await make_staff(role=Role.coordinator)
    process = await make_process(session, staff.org_id)
    hidden = (await _event(client, staff, process.id)).json()
    event = (await _event(client, staff, process.id, public=True, capacity=10)).json()
    assert (await client.get(f"/veranstaltungen/{hidden['id']}/anmeldung")).status_code == 404
    form = await client.get(f"/veranstaltungen/{event['id']}/anmeldung")
    assert form.status_code == 200 and 'name="email"' in form.text
    assert "<script" not in form.text

    bad = await client.post(f"/veranstaltungen/{event['id']}/anmeldung",
                            data={"name": "Ada", "email": "keine-adresse"})
    assert bad.status_code == 422 and "error-summary" in bad.text

    r = await client.post(f"/veranstaltungen/{event['id']}/anmeldung",
                          data={"name": "Ada Muster", "email": "Ada@Example.org",
                                "companions": "1"})
    assert r.status_code == 303
    sent = await client.get(r.headers["location"])
    assert "E-Mail geschickt" in sent.text
    reg = (await session.scalars(select(MeetingRegistration).where(
        MeetingRegistration.meeting_id == event["id"]))).one()
    # Nobody is registered before the link in the mail is used.
    assert (reg.status, reg.email) == ("pending", "ada@example.org")
    mails = list(await session.scalars(select(MeetingMail.kind).where(
        MeetingMail.registration_id == reg.id)))
    assert mails == ["optin"]
    # The same address again: the same answer, no second registration, no second mail.
    again = await client.post(f"/veranstaltungen/{event['id']}/anmeldung",
                              data={"name": "Ada Muster", "email": "ada@example.org"})
    assert again.status_code == 303
    assert await session.scalar(select(func.count()).select_from(MeetingMail).where(
        MeetingMail.registration_id == reg.id)) == 1

    token = public_token(settings.resolved_secret_key(), reg.id)
    confirm = await client.get(f"/anmeldung/{token}/bestaetigen")
    assert confirm.status_code == 200 and "Anmeldung bestätigen" in confirm.text
    await session.refresh(reg)
    assert reg.status == "pending"  # opening the link (a mail scanner) confirms nothing
    r = await client.post(f"/anmeldung/{token}/bestaetigen")
    assert r.status_code == 303
    status = await client.get(f"/anmeldung/{token}")
    assert "Sie sind angemeldet." in status.text
    assert (await client.get("/anmeldung/falsch")).status_code == 404
    r = await client.post(f"/anmeldung/{token}/absagen")
    assert "abgemeldet" in (await client.get(f"/anmeldung/{token}")).text


async def test_public_registration_is_rate_limited(client, session, make_staff):
    staff = await make_staff(role=Role.coordinator)
    process = await make_process(session, staff.org_id)
    event = (await _event(client, staff, process.id, public=True)).json()
    codes = []
    for _ in range(4):
        r = await client.post(f"/veranstaltungen/{event['id']}/anmeldung",
                              data={"name": "Eve", "email": "opfer@example.org"})
        codes.append(r.status_code)
    assert codes == [303, 303, 303, 429]
    api = await client.post(f"/api/v1/events/{event['id']}/public-registrations",
                            json={"name": "Eve", "email": "opfer@example.org"})
    assert api.status_code == 429


async def test_the_invitations_decline_link_cancels_the_registration(client, session,
                                                                      make_staff):
    staff = await make_staff(role=Role.coordinator)
    process = await make_process(session, staff.org_id)
    event = (await _event(client, staff, process.id)).json()  # one place
    a, b, c = await _links(session, staff.org_id, process.id, event["id"], 3)
    for token in (a, b):
        await client.post(f"/api/v1/participation/{token}/registration",
                          json={"attending": True})
    form = await client.get(f"/t/{a}/decline")
    assert form.status_code == 200
    r = await client.post(f"/t/{a}/decline")
    assert r.status_code == 200 and "Absage erhalten" in r.text
    assert (await client.get(f"/api/v1/participation/{a}/registration")).json()["status"] \
        == "cancelled"
    assert (await client.get(f"/api/v1/participation/{b}/registration")).json()["status"] \
        == "registered"
    api = await client.post(f"/api/v1/participation/{c}/decline")
    assert api.status_code == 200 and api.json()["status"] == "declined"


ENGLISH_DEFAULTS = ("Input should", "String should", "Field required", "valid integer",
                    "Value error", "should have")


def _summary(page: str) -> str:
    found = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert found, page
    return found.group(0)


async def test_bad_input_is_explained_in_the_pages_language(client, session, make_staff):  # type: ignore[no-untyped-def]
    """Bad input on the personal link's page and on the public page: German messages with the
    form's labels (English on the English page), never pydantic's English defaults."""
    staff = await make_staff(role=Role.coordinator)
    process = await make_process(session, staff.org_id)
    event = (await _event(client, staff, process.id, public=True, capacity=10)).json()
    [token] = await _links(session, staff.org_id, process.id, event["id"], 1)
    bad_link = {"attending": "yes", "companions": "viele", "interpreter": "x" * 60,
                "sd_group": "g" * 101}

    r = await client.post(f"/t/{token}", data=bad_link)
    assert r.status_code == 422
    summary = _summary(r.text)
    assert "Begleitpersonen (zusätzlich zu Ihnen): ungültige Auswahl" in summary
    assert "Dolmetschen in folgender Sprache: höchstens 50 Zeichen" in summary
    assert "Ich komme als …: höchstens 100 Zeichen" in summary
    assert not any(s in summary for s in ENGLISH_DEFAULTS), summary
    assert "needs.interpreter" not in summary

    r = await client.post(f"/t/{token}?lang=en", data=bad_link)
    assert r.status_code == 422
    summary = _summary(r.text)
    assert "Companions (in addition to you): not one of the choices" in summary
    assert "Interpreting into this language: at most 50 characters" in summary
    assert not any(s in summary for s in ENGLISH_DEFAULTS), summary

    url = f"/veranstaltungen/{event['id']}/anmeldung"
    bad_public = {"name": "", "email": "keine-adresse", "companions": "99"}
    r = await client.post(url, data=bad_public)
    assert r.status_code == 422
    summary = _summary(r.text)
    assert "Name: fehlt" in summary
    assert "Begleitpersonen (zusätzlich zu Ihnen): ungültige Auswahl" in summary
    assert not any(s in summary for s in ENGLISH_DEFAULTS), summary
    # The address itself is checked by the service (after the form's rules): German.
    r = await client.post(url, data={"name": "Ada", "email": "keine-adresse"})
    assert r.status_code == 422
    assert "E-Mail-Adresse: Keine gültige E-Mail-Adresse." in _summary(r.text)

    r = await client.post(f"{url}?lang=en", data={**bad_public, "email": "ohne-at"})
    assert r.status_code == 422
    summary = _summary(r.text)
    assert "Name: missing" in summary
    assert "Companions (in addition to you): not one of the choices" in summary
    assert not any(s in summary for s in ENGLISH_DEFAULTS), summary
    r = await client.post(f"{url}?lang=en", data={"name": "Ada", "email": "auch-ohne-at"})
    assert r.status_code == 422
    assert "E-mail address: This is not a valid e-mail address." in _summary(r.text)
    assert "Keine gültige" not in _summary(r.text)
