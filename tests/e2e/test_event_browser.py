"""The event pages in Chromium against a real uvicorn server: register through the personal
link on a phone width with JavaScript off, see the confirmation with its code and, for the
second person, the waitlist position; the check-in page by keyboard. axe-core finds no serious
or critical violation on either page."""

from __future__ import annotations

import pytest

from api.app import create_app
from api.deps import SESSION_COOKIE
from tests.support.browser import ARGS, CHROMIUM
from tests.support.browser import serious_violations as _serious
from tests.support.live_server import live_server
from tests.support.meetings import make_event, make_links

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
async def server(settings, committed_maker):
    async with live_server(create_app(settings, sessionmaker=committed_maker)) as base:
        yield base


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
async def test_register_on_a_phone_without_javascript_and_check_in_by_keyboard(
        server, committed_maker, make_committed_staff):
    from playwright.async_api import async_playwright

    staff = await make_committed_staff()
    setup = await make_event(committed_maker, capacity=1, org_id=staff.org_id)
    first, second = await make_links(committed_maker, setup, 2)

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            phone = {"width": 390, "height": 844}
            no_js = await browser.new_context(viewport=phone, java_script_enabled=False)
            page = await no_js.new_page()
            await page.goto(f"{server}/t/{first}")
            assert await page.title() == "Kick-off-Veranstaltung – Mitwirken"
            await page.get_by_label("Ich komme", exact=True).check()
            await page.get_by_label("Rollstuhlgerechter Zugang").check()
            await page.get_by_role("button", name="Antwort senden").click()
            await page.wait_for_url(f"{server}/t/{first}?gespeichert=1")
            assert "Sie sind angemeldet." in await page.locator("#status").inner_text()
            code = (await page.locator(".code").inner_text()).strip()
            assert len(code) == 8

            await page.goto(f"{server}/t/{second}")
            await page.get_by_role("button", name="Antwort senden").click()
            await page.wait_for_url(f"{server}/t/{second}?gespeichert=1")
            assert "Warteliste, Platz 1" in await page.locator("#status").inner_text()
            await no_js.close()

            # The same pages with JavaScript on, for axe (the pages need none).
            checked = await browser.new_context(viewport=phone)
            page = await checked.new_page()
            await page.goto(f"{server}/t/{second}")
            assert await _serious(page) == []
            assert await page.evaluate("document.documentElement.scrollWidth <= 390")

            await checked.add_cookies([{"name": SESSION_COOKIE, "value": staff.token,
                                        "url": server}])
            await page.goto(f"{server}/app/events/{setup.meeting_id}/checkin")
            assert await _serious(page) == []
            # By keyboard: the code field has the focus, type, Enter.
            await page.keyboard.type(code.lower())
            await page.keyboard.press("Enter")
            await page.wait_for_url(f"{server}/app/events/{setup.meeting_id}/checkin?ok=checked")
            assert "Eingecheckt." in await page.locator("[role=status]").first.inner_text()
            assert "Anwesend: 1 von 1" in await page.content() or \
                "Anwesend: <strong>1</strong> von 1" in await page.content()
            assert await _serious(page) == []
            await checked.close()
        finally:
            await browser.close()
