"""The staff's entry page (interviews, paper forms) in Chromium on a tablet: an interviewer
signs in, goes from the start page to the open survey, saves without the consent (the error
summary takes the focus and links to the checkbox), saves with it (the confirmation takes the
focus, the form is empty). axe-core: no serious or critical violation in any of the states."""

from __future__ import annotations

import pytest

from api.app import create_app
from services.models.organisation import Role
from tests.support.browser import ARGS, CHROMIUM
from tests.support.browser import serious_violations as _serious
from tests.support.live_server import live_server
from tests.support.surveys import make_process, make_survey

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
async def server(settings, committed_maker):
    async with live_server(create_app(settings, sessionmaker=committed_maker)) as base:
        yield base


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
async def test_interviewer_enters_an_interview_on_a_tablet(server, committed_maker,
                                                          make_committed_staff):
    from playwright.async_api import async_playwright

    staff = await make_committed_staff(role=Role.interviewer)
    async with committed_maker() as session:
        process = await make_process(session, staff.org_id)
        survey = await make_survey(session, process, from_template="bergkamen-interviewleitfaden")
        await session.commit()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 768, "height": 1024})
            await page.goto(f"{server}/login")
            await page.fill("input[name=email]", staff.email)
            await page.fill("input[name=password]", staff.password)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{server}/app")
            await page.click("text=Interviews und Papierbögen erfassen")
            await page.click("text=Interviewleitfaden")
            await page.wait_for_url(f"{server}/app/surveys/{survey.id}/erfassen")
            assert await _serious(page) == []
            assert await page.evaluate("document.documentElement.scrollWidth <= 768")

            await page.get_by_label("Was verstehen Sie unter Integration?").fill("Dazugehören")
            await page.get_by_label("Kaum erreicht").check()
            await page.get_by_role("button", name="Antwort speichern").click()
            summary = page.locator(".error-summary")
            await summary.wait_for()
            assert await page.evaluate("document.activeElement.id") == "fehler"
            assert await _serious(page) == []
            # What was entered is still there; the summary leads to the checkbox.
            assert await page.get_by_label("Kaum erreicht").is_checked()
            await summary.get_by_role("link", name="Einwilligung").click()
            assert await page.evaluate("document.activeElement.id") == "einwilligung"
            await page.keyboard.press("Space")
            await page.get_by_role("button", name="Antwort speichern").click()
            await page.locator("#meldung").wait_for()
            assert "Gespeichert (Interview)" in await page.locator("#meldung").inner_text()
            assert await page.evaluate("document.activeElement.id") == "meldung"
            assert await page.get_by_label("Was verstehen Sie unter Integration?") \
                .input_value() == ""
            assert await _serious(page) == []
        finally:
            await browser.close()
