"""Issue 12: invitations and reminders go out in the stakeholder's language (six templates,
German where one is missing), through the real sender into the SMTP sink."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services import i18n
from services.campaigns import mails
from services.campaigns import service as campaigns
from tests.support.campaigns import (
    add_stakeholders,
    mail_setup,
    make_campaign,
    make_org,
    send_round,
)
from tests.support.languages import LANGUAGES, assert_language


async def test_invitations_and_reminders_in_the_stakeholders_language(committed_maker,
                                                                       smtp_sink):
    maker = committed_maker
    org_id = await make_org(maker)
    tag = org_id.hex[:8]
    address = {lang: f"{lang}-{tag}@example.org" for lang in LANGUAGES}
    await add_stakeholders(maker, org_id, [
        {"name": f"Person {lang}", "email": address[lang], "group_key": "g", "language": lang}
        for lang in LANGUAGES])
    deadline = datetime(2030, 3, 3, 17, 0, tzinfo=UTC)
    campaign = await make_campaign(maker, org_id, deadline=deadline, reminders=["P7D"])
    async with maker() as s:
        await campaigns.select_audience(s, campaign.id, secret_key="k" * 40, batch_size=50,
                                        started_at=datetime.now(UTC) - timedelta(days=8))
        await s.commit()
    setup = mail_setup(maker, smtp_sink.host, smtp_sink.port)
    assert (await send_round(setup, campaign.id)).sent == len(LANGUAGES)
    invitations = {m.envelope_to[0]: m.message for m in smtp_sink.messages}
    smtp_sink.clear()
    async with maker() as s:
        batches, recipients = await campaigns.plan_reminders(s, campaign.id, 1)
        await s.commit()
    assert recipients == len(LANGUAGES)
    for b in batches:
        await send_round(setup, campaign.id, kind="reminder", reminder_no=1, batch_no=b)
    reminders = {m.envelope_to[0]: m.message for m in smtp_sink.messages}

    for lang in LANGUAGES:
        t = i18n.texts(lang, "campaign_mail")
        for kind, msg in (("invitation", invitations[address[lang]]),
                          ("reminder", reminders[address[lang]])):
            assert msg["Content-Language"] == lang
            assert str(msg["Subject"]) == t[f"subject_{kind}"].format(title=campaign.title)
            html = msg.get_body(("html",)).get_content()
            assert_language(html, lang, switch=False)
            text = msg.get_body(("plain",)).get_content()
            assert f"Person {lang}" in text and "/t/" in text
            # The deadline in the locale's words and order.
            assert mails.format_deadline(deadline, lang, "Europe/Berlin") in text
            assert i18n.date_text(deadline, lang) in text
    # Each language has its own text, not the German one.
    bodies = {lang: invitations[address[lang]].get_body(("plain",)).get_content()
              for lang in LANGUAGES}
    assert len({b.split(",")[0] for b in bodies.values()}) == len(LANGUAGES)


def test_a_language_without_a_template_falls_back_to_german(tmp_path, monkeypatch):
    from jinja2 import Environment, FileSystemLoader

    # Only the German templates: a Turkish mail is German, not an error.
    for name in ("campaign.de.txt", "campaign.de.html"):
        (tmp_path / name).write_text((mails.TEMPLATES / name).read_text())
    monkeypatch.setattr(mails, "_env", Environment(loader=FileSystemLoader(tmp_path)))
    assert "Guten Tag" in mails._template("tr", "txt").render(name="X")
