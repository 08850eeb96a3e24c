"""Presentation (issue 13): times in the organisation's zone (summer and winter time), German
numbers and percentages, durations in words, tier and group titles; and a staff page that
shows a deadline as the organisation's local time, never as UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from httpx import ASGITransport, AsyncClient

from api.deps import SESSION_COOKIE
from api.pages.campaigns import _campaign_request
from api.presentation import (
    duration,
    group_title,
    local_date,
    local_datetime,
    local_time,
    number,
    percent,
    tier_title,
)
from services.models.campaign import Campaign
from services.models.organisation import Role
from services.stakeholders.repository import StakeholderRepository
from tests.support.surveys import make_process

NBSP = "\u00a0"


@pytest.mark.parametrize(("instant", "expected"), [
    (datetime(2026, 7, 1, 21, 59, tzinfo=UTC), "01.07.2026, 23:59 Uhr"),  # CEST, UTC+2
    (datetime(2026, 12, 1, 22, 59, tzinfo=UTC), "01.12.2026, 23:59 Uhr"),  # CET, UTC+1
    # The night the clocks go forward: 01:59 CET, then 03:00 CEST.
    (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "29.03.2026, 01:59 Uhr"),
    (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "29.03.2026, 03:00 Uhr"),
], ids=["summer", "winter", "before-switch", "after-switch"])
def test_times_in_the_organisations_zone(instant, expected):  # type: ignore[no-untyped-def]
    assert local_datetime(instant) == expected
    assert local_time(instant) == expected.split(", ")[1]


def test_other_zones_languages_and_days() -> None:
    summer = datetime(2026, 7, 1, 21, 59, tzinfo=UTC)
    assert local_datetime(summer, "en") == "1 Jul 2026, 23:59"
    assert local_datetime(summer, "de", "America/New_York") == "01.07.2026, 17:59 Uhr"
    # The calendar day is the local one: 23:30 UTC on 1 March is 2 March in Berlin.
    assert local_date(datetime(2026, 3, 1, 23, 30, tzinfo=UTC)) == "02.03.2026"
    assert local_date(None) == "" and local_datetime(None) == ""
    # Dates kept as ISO text in JSON (a rejection's "decided_on").
    assert local_date("2027-03-04") == "04.03.2027"


def test_numbers_and_percentages() -> None:
    assert number(1234.5) == "1.234,5"
    assert number(1234.5, "en") == "1,234.5"
    assert number(3.14159, digits=2) == "3,14" and number(2.0) == "2"
    assert number(None) == "–"
    assert percent(0.458) == f"45,8{NBSP}%"
    assert percent(0.458, "en") == "45.8%"
    assert percent(1, digits=0) == f"100{NBSP}%"
    assert percent(None) == "–"


def test_durations_in_words() -> None:
    assert duration("P7D") == "7 Tage"
    assert duration("P1D") == "1 Tag"
    assert duration("P2W") == "14 Tage"
    assert duration("PT12H") == "12 Stunden"
    assert duration("P1DT6H") == "30 Stunden"
    assert duration(timedelta(minutes=90)) == "90 Minuten"
    assert duration("P7D", "en") == "7 days"
    assert duration("kein Wert") == "kein Wert"


def test_tier_and_group_titles() -> None:
    assert tier_title(1) == "Stufe 1 (gut erreichbar)"
    assert tier_title("3") == "Stufe 3 (kaum erreicht)"
    assert tier_title(2, "en") == "Tier 2"
    assert group_title("senioren", {"senioren": "Seniorinnen und Senioren"}) == \
        "Seniorinnen und Senioren"
    assert group_title("unbekannt", {}) == "unbekannt"


def test_a_form_deadline_ends_at_local_midnight() -> None:
    form = {"deadline": "2026-07-01", "survey": "00000000-0000-0000-0000-000000000001",
            "title": "x", "groups": [], "tiers": [], "reminder_days": [7], "reminder_other": ""}
    summer = _campaign_request(form, ZoneInfo("Europe/Berlin")).deadline
    assert summer.astimezone(UTC) == datetime(2026, 7, 1, 21, 59, tzinfo=UTC)
    berlin = ZoneInfo("Europe/Berlin")
    winter = _campaign_request({**form, "deadline": "2026-12-01"}, berlin).deadline
    assert winter.astimezone(UTC) == datetime(2026, 12, 1, 22, 59, tzinfo=UTC)


async def test_the_campaign_page_shows_local_time(app, session, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff(role=Role.coordinator)
    process = await make_process(session, staff.org_id)
    await StakeholderRepository.from_session(session).add_groups(
        staff.org_id, [("senioren", "Seniorinnen und Senioren")], "manual")
    campaign = Campaign(
        organisation_id=staff.org_id, process_id=process.id, kind="survey",
        target_id=process.id, title="Bedarfe", audience={"groups": ["senioren"], "tiers": [3]},
        reminders=["P7D", "P14D"], deadline=datetime(2026, 7, 1, 21, 59, tzinfo=UTC),
        status="closed")
    session.add(campaign)
    await session.commit()
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver",
                           cookies={SESSION_COOKIE: staff.token}) as web:
        page = (await web.get(f"/app/campaigns/{campaign.id}")).text
    assert 'Frist: <span id="frist">01.07.2026, 23:59 Uhr</span>' in page
    assert "UTC" not in page and "21:59" not in page
    assert "Gruppen: Seniorinnen und Senioren" in page
    assert "Erreichbarkeitsstufen: Stufe 3 (kaum erreicht)" in page
    assert "Erinnerungen: nach 7 Tagen, nach 14 Tagen" in page
    assert "P7D" not in page


async def test_the_survey_page_shows_its_end_in_the_organisations_zone(client, session,  # type: ignore[no-untyped-def]
                                                                      make_staff):
    from sqlalchemy import update

    from services.models.organisation import Organisation
    from services.models.survey import Survey
    from tests.support.surveys import make_campaign as make_survey_campaign
    from tests.support.surveys import make_invites, make_survey

    staff = await make_staff()
    await session.execute(update(Organisation).where(Organisation.id == staff.org_id)
                          .values(time_zone="America/New_York"))
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, from_template="weiterstadt-bedarfe-und-wuensche")
    await session.execute(update(Survey).where(Survey.id == survey.id).values(
        closes_at=datetime(2027, 7, 1, 21, 59, tzinfo=UTC)))
    [invite] = await make_invites(session, await make_survey_campaign(session, survey))
    await session.commit()
    page = (await client.get(f"/t/{invite.token}")).text
    # New York in summer is UTC-4 (it was always shown as Berlin time before).
    assert "Die Umfrage läuft bis 1. Juli 2027, 17:59 Uhr." in page
