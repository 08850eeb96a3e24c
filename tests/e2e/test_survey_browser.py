"""The participant's survey page in Chromium against a real uvicorn server.

Open an invitation link, leave a required field empty, see the error summary, follow its link
to the field, fix it with the keyboard, go on to the review, submit for good there, see the
thanks page; the same link again shows "already answered". axe-core finds no serious or
critical violation on the survey page (also in its error state) and on the review.
"""

from __future__ import annotations

import pytest

from api.app import create_app
from tests.support.browser import ARGS, CHROMIUM
from tests.support.browser import serious_violations as _serious
from tests.support.live_server import live_server
from tests.support.surveys import make_campaign, make_invites, make_process, make_survey

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
async def server(settings, committed_maker):
    async with live_server(create_app(settings, sessionmaker=committed_maker)) as base:
        yield base


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
async def test_participant_fills_in_the_survey(server, committed_maker, make_committed_staff):
    from playwright.async_api import async_playwright

    staff = await make_committed_staff()
    async with committed_maker() as session:
        process = await make_process(session, staff.org_id)
        survey = await make_survey(session, process,
                                   from_template="weiterstadt-bedarfe-und-wuensche")
        campaign = await make_campaign(session, survey)
        (inv,) = await make_invites(session, campaign)
        await session.commit()
    url = f"{server}/t/{inv.token}"

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            await page.goto(url)
            assert await page.title() == "Bedarfe und Wünsche – Mitwirken"
            assert await _serious(page) == []
            # Fits a phone: nothing wider than the viewport.
            assert await page.evaluate("document.documentElement.scrollWidth <= 390")

            await page.get_by_label("Politik", exact=True).check()
            await page.get_by_label("4 – trifft eher zu").check()
            # "themen" (required) stays empty.
            await page.get_by_role("button", name="Weiter zur Überprüfung").click()
            summary = page.locator(".error-summary")
            await summary.wait_for()
            assert "Bitte prüfen Sie Ihre Angaben" in await summary.inner_text()
            assert (await page.title()).startswith("Fehler:")
            assert await _serious(page) == []
            # The summary links to the field; keyboard only from there on.
            await summary.get_by_role("link", name="Welche Themen").click()
            assert await page.evaluate("document.activeElement.id") == "q-themen-0"
            await page.keyboard.press("Space")  # check "Bildung und Betreuung"
            assert await page.locator("#q-themen-0").is_checked()
            assert await page.locator("#q-gruppe-2").is_checked()  # kept from the first try
            # The form's first button (what Enter in a field presses) goes to the review.
            await page.locator("#q-bedarfe").fill("Mehr Treffpunkte")
            await page.get_by_role("button", name="Weiter zur Überprüfung").focus()
            await page.keyboard.press("Enter")
            await page.wait_for_url(f"{url}/pruefen")
            assert "Mehr Treffpunkte" in await page.locator("dl.review").inner_text()
            assert await _serious(page) == []
            assert await page.evaluate("document.documentElement.scrollWidth <= 390")
            await page.get_by_role("button", name="Verbindlich absenden").focus()
            await page.keyboard.press("Enter")
            await page.wait_for_url(f"{url}/danke")
            assert "Vielen Dank" in await page.locator("h1").inner_text()

            await page.goto(url)
            assert await page.locator("h1").inner_text() == "Bereits beantwortet"
        finally:
            await browser.close()


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
async def test_self_check_fields_and_dont_know_in_chromium(server, committed_maker,
                                                          make_committed_staff):
    """The self-check's seven headed fieldsets and the "weiß nicht" choice: axe-clean and no
    horizontal scrolling at 320 CSS px; the review shows the choice by its label."""
    from playwright.async_api import async_playwright

    staff = await make_committed_staff()
    async with committed_maker() as session:
        process = await make_process(session, staff.org_id)
        survey = await make_survey(session, process,
                                   from_template="weltoffene-kommune-selbstcheck")
        campaign = await make_campaign(session, survey)
        (inv,) = await make_invites(session, campaign)
        await session.commit()
    url = f"{server}/t/{inv.token}"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 320, "height": 700})
            await page.goto(url)
            assert await page.locator("fieldset.block > legend h2").count() == 7
            assert await _serious(page) == []
            assert await page.evaluate("document.documentElement.scrollWidth <= 320")
            group = page.get_by_role("group", name="Management und Steuerung")
            await group.get_by_role("group", name="1. Weltoffenheit").get_by_label(
                "weiß nicht / keine Angabe").check()
            await page.get_by_role("button", name="Zwischenspeichern").click()
            await page.wait_for_url(f"{url}?gespeichert=1")
            assert await page.locator("#q-management_1-5").is_checked()
        finally:
            await browser.close()
