"""The survey invitation through the SMTP sink: the English mail names the survey by its
English title, and an organisation is greeted as a team, not as a person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.campaigns import service as campaigns
from services.campaigns.schemas import Audience, CampaignCreate
from tests.support.campaigns import add_stakeholders, mail_setup, make_org, send_round
from tests.support.surveys import make_process, make_survey

TITLE = {"de": "Bedarfe und Wünsche", "en": "Needs and wishes"}


async def _send(maker, sink, *, title: str | None = None):  # type: ignore[no-untyped-def]
    org_id = await make_org(maker)
    tag = org_id.hex[:8]
    people = {
        "anna": ("Anna Albers", "person", "de"),
        "ben": ("Ben Brown", "person", "en"),
        "beirat": ("Seniorenbeirat Weiterstadt", "organisation", "de"),
        "club": ("Riverside Club", "organisation", "en"),
    }
    await add_stakeholders(maker, org_id, [
        {"name": name, "email": f"{key}@{tag}.example", "kind": kind, "language": lang,
         "group_key": "g"} for key, (name, kind, lang) in people.items()])
    async with maker() as s:
        process = await make_process(s, org_id)
        survey = await make_survey(s, process, title=TITLE,
                                   questions=[{"id": "q", "kind": "text", "text": "Frage"}])
        body = CampaignCreate(kind="survey", target_id=survey.id, title=title or "",
                              audience=Audience(groups=["g"]), reminders=[],
                              deadline=datetime.now(UTC) + timedelta(days=7))
        # As the API does: the survey's German title when none is given.
        body = await campaigns.check_target(s, org_id, process.id, body)
        campaign = await campaigns.create_campaign(s, org_id, None, body)
        await s.commit()
    async with maker() as s:
        await campaigns.select_audience(s, campaign.id, secret_key="k" * 40, batch_size=50,
                                        started_at=datetime.now(UTC))
        await s.commit()
    outcome = await send_round(mail_setup(maker, sink.host, sink.port), campaign.id)
    assert outcome.sent == 4
    return {key: next(m.message for m in sink.messages if m.envelope_to == [f"{key}@{tag}.example"])
            for key in people}


def _texts(msg) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


async def test_english_mail_uses_the_english_survey_title(committed_maker, smtp_sink):
    mails = await _send(committed_maker, smtp_sink)
    assert mails["ben"]["Subject"] == "Invitation: Needs and wishes"
    plain, html = _texts(mails["ben"])
    assert '"Needs and wishes"' in plain and "Needs and wishes" in html
    assert "Bedarfe" not in plain and "Bedarfe" not in html
    assert mails["anna"]["Subject"] == "Einladung: Bedarfe und Wünsche"
    assert "„Bedarfe und Wünsche“" in _texts(mails["anna"])[0]


async def test_a_typed_campaign_title_is_kept(committed_maker, smtp_sink):
    mails = await _send(committed_maker, smtp_sink, title="Ihre Meinung zählt")
    assert mails["ben"]["Subject"] == "Invitation: Ihre Meinung zählt"


async def test_organisations_are_greeted_as_a_team(committed_maker, smtp_sink):
    mails = await _send(committed_maker, smtp_sink)
    plain, html = _texts(mails["beirat"])
    assert plain.startswith("Guten Tag, liebes Team von Seniorenbeirat Weiterstadt,")
    assert "<p>Guten Tag, liebes Team von Seniorenbeirat Weiterstadt,</p>" in html
    plain, html = _texts(mails["club"])
    assert plain.startswith("Dear Riverside Club team,")
    assert "<p>Dear Riverside Club team,</p>" in html
    # People keep their personal greeting.
    assert _texts(mails["anna"])[0].startswith("Guten Tag Anna Albers,")
    assert _texts(mails["ben"])[0].startswith("Hello Ben Brown,")
