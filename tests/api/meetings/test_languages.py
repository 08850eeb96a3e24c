"""Issue 12, languages: the event pages (personal link, public registration, confirmation,
status) in all six variants, and the event mails (through the SMTP sink) in the
registration's language."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from services import i18n
from services.meetings import delivery, service
from services.meetings.links import public_token
from services.meetings.mails import format_span
from services.meetings.schemas import RegistrationIn
from services.models.meeting import Meeting, MeetingRegistration
from services.models.organisation import Role
from tests.api.meetings.test_meetings_api import _event, _links
from tests.support.languages import LANGUAGES, assert_language
from tests.support.meetings import delivery_setup, make_event, make_links
from tests.support.surveys import make_process


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_event_link_pages_in_every_language(client, session, make_staff, lang):
    staff = await make_staff(role=Role.coordinator)
    process = await make_process(session, staff.org_id)
    event = (await _event(client, staff, process.id, capacity=5)).json()
    (token,) = await _links(session, staff.org_id, process.id, event["id"], 1)
    t = i18n.texts(lang, "event")

    page = assert_language((await client.get(f"/t/{token}?lang={lang}")).text, lang)
    assert t["needs"] in page.source and t["yes"] in page.source
    assert i18n.texts(lang, "event_group")["verein"] in page.source
    # The choice is kept: the form posts to the bare link and the answer comes back in it.
    r = await client.post(f"/t/{token}", data={"attending": "yes", "companions": "0"})
    assert r.status_code == 303 and r.headers["location"] == f"/t/{token}?gespeichert=1"
    done = assert_language((await client.get(r.headers["location"])).text, lang)
    assert t["registered"] in done.source and t["saved"] in done.source
    bad = await client.post(f"/t/{token}", data={"attending": "yes", "companions": "viele"})
    assert bad.status_code == 422
    assert t["error_title"] in assert_language(bad.text, lang).source
    # The registration (and so its mails) is in the language chosen on the page.
    reg = (await session.scalars(select(MeetingRegistration).where(
        MeetingRegistration.meeting_id == event["id"]))).one()
    assert reg.language == lang
    declined = await client.get(f"/t/{token}/decline")
    assert i18n.text(lang, "optout.decline_button") in assert_language(
        declined.text, lang).source


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_public_registration_pages_in_every_language(client, session, make_staff,
                                                           settings, lang):
    staff = await make_staff(role=Role.coordinator)
    process = await make_process(session, staff.org_id)
    event = (await _event(client, staff, process.id, public=True, capacity=10)).json()
    t = i18n.texts(lang, "event")
    base = f"/veranstaltungen/{event['id']}/anmeldung"
    form = assert_language((await client.get(f"{base}?lang={lang}")).text, lang)
    assert t["public_submit"] in form.source and f'name="language" value="{lang}"' in form.source
    assert_language((await client.get(f"/veranstaltungen/{uuid.uuid4()}/anmeldung?lang={lang}"
                                      )).text, lang, switch=True)

    r = await client.post(f"{base}?lang={lang}", data={
        "name": "Ada", "email": f"ada-{lang}@example.org", "language": lang})
    assert r.status_code == 303
    sent = assert_language((await client.get(r.headers["location"])).text, lang)
    assert t["check_mail"] in sent.source
    reg = (await session.scalars(select(MeetingRegistration).where(
        MeetingRegistration.meeting_id == event["id"]))).one()
    assert reg.language == lang  # the mails follow the page's language

    token = public_token(settings.resolved_secret_key(), reg.id)
    confirm = assert_language((await client.get(f"/anmeldung/{token}/bestaetigen")).text, lang)
    assert t["confirm_intro"] in confirm.source
    await client.post(f"/anmeldung/{token}/bestaetigen")
    status = assert_language((await client.get(f"/anmeldung/{token}")).text, lang)
    assert t["registered"] in status.source and t["cancel"] in status.source
    unknown = await client.get(f"/anmeldung/falsch?lang={lang}")
    assert unknown.status_code == 404 and t["unknown"] in assert_language(unknown.text,
                                                                           lang).source


async def test_event_mails_in_the_registrations_language(committed_maker, smtp_sink):
    """The confirmation (with calendar and QR code): subject, greeting, lead, the date in the
    locale's words and Content-Language, in each of the six (the header was lost before:
    set_content drops Content-* headers set earlier)."""
    setup = await make_event(committed_maker, capacity=20)
    tokens = {lang: (await make_links(committed_maker, setup, 1, language=lang))[0]
              for lang in LANGUAGES}
    async with committed_maker() as s:
        for token in tokens.values():
            await service.register_by_token(s, token, RegistrationIn(attending=True))
        await s.commit()
    assert await delivery.deliver(delivery_setup(committed_maker, smtp_sink.port),
                                  setup.meeting_id) == len(LANGUAGES)
    async with committed_maker() as s:
        regs = {r.language: r for r in (await s.scalars(select(MeetingRegistration).where(
            MeetingRegistration.meeting_id == setup.meeting_id))).all()}
        meeting = await s.get(Meeting, setup.meeting_id)
    assert meeting is not None
    assert set(regs) == set(LANGUAGES)
    for lang, reg in regs.items():
        [mail] = smtp_sink.to(reg.email)
        msg = mail.message
        assert msg["Content-Language"] == lang
        subject = i18n.text(lang, "event_mail_subject.confirmation", title=meeting.title)
        assert str(msg["Subject"]) == subject
        body = msg.get_body(("plain",)).get_content()
        labels = i18n.texts(lang, "event_mail")
        assert body.startswith(f"{labels['hello']} {reg.name}")
        assert i18n.text(lang, "event_mail_lead.confirmation", title=meeting.title) in body
        assert format_span(meeting, "Europe/Berlin", lang) in body
        assert labels["code"] in body
