"""The resolution pages in Chromium: the coordinator's page (versions, edit form, its error
summary) and the clerk's inbox and version page (before and after a step); axe-core finds no
serious or critical violation on any of them."""

from __future__ import annotations

import pytest
from httpx import ASGITransport, AsyncClient

from api.app import create_app
from contracts.queues import TASK_QUEUE
from tests.support.browser import ARGS, CHROMIUM
from tests.support.browser import serious_violations as _serious
from tests.support.live_server import live_server
from tests.support.process_harness import process_worker
from tests.support.resolutions import approved_version, council

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
async def server(settings, committed_maker, time_skipping_env):  # type: ignore[no-untyped-def]
    app = create_app(settings, sessionmaker=committed_maker)
    app.state.temporal.client = time_skipping_env.client
    async with live_server(app) as base, AsyncClient(
            transport=ASGITransport(app=app), base_url="http://testserver") as api:
        yield base, api


async def _login(page, base: str, staff) -> None:  # type: ignore[no-untyped-def]
    await page.goto(f"{base}/login")
    await page.fill("input[name=email]", staff.email)
    await page.fill("input[name=password]", staff.password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/app")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
async def test_resolution_pages_in_the_browser(server, time_skipping_env, smtp_sink,
                                               make_committed_staff):
    from playwright.async_api import async_playwright

    base, api = server
    async with process_worker(time_skipping_env.client, smtp_sink.port, task_queue=TASK_QUEUE), \
            async_playwright() as p:
        c = await council(api, make_committed_staff)
        await approved_version(api, c, betreff="Strategie <b>WIRkt!</b>")
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = await browser.new_context()
            page = await context.new_page()
            await _login(page, base, c.org.coordinator)
            await page.goto(f"{base}/app/processes/{c.process_id}/resolution")
            assert await page.title() == "Beschlussvorlage: Weiterstadt WIRkt! – Mitwirken"
            main = await page.inner_text("main")
            assert "Fassung 1 an den Sitzungsdienst übergeben" in main
            assert await _serious(page) == []
            # An error summary: a second deciding body.
            await page.select_option("#bf-role-0", "entscheidung")
            await page.click("button:has-text('Vorlage speichern')")
            assert "genau ein entscheidendes Gremium" in await page.inner_text(".error-summary")
            assert await _serious(page) == []
            await page.goto(f"{base}/app/processes/{c.process_id}/resolution")
            await page.click("button:has-text('an den Sitzungsdienst übergeben')")
            assert "Die Fassung wurde an den Sitzungsdienst übergeben." in \
                await page.inner_text("main")
            assert await _serious(page) == []
            await context.close()

            context = await browser.new_context()
            page = await context.new_page()
            await _login(page, base, c.clerk)
            await page.click("text=Sitzungsdienst: Beschlussvorlagen")
            assert "Neu eingegangen" in await page.inner_text("main")
            assert await _serious(page) == []
            await page.click("main table a")
            assert await _serious(page) == []
            await page.click("button:has-text('Eingang bestätigen')")
            assert "Der Eingang wurde bestätigt." in await page.inner_text("main")
            await page.fill("#meeting_date", "2027-12-02")
            await page.click("button:has-text('Sitzung speichern')")
            assert "Ergebnis der Sitzung" in await page.inner_text("main")
            assert await _serious(page) == []
            await page.check("#outcome-adopted")
            await page.click("button:has-text('Ergebnis speichern')")
            assert "Beschlossen am 02.12.2027" in await page.inner_text("main")
            assert await _serious(page) == []
            await context.close()
        finally:
            await browser.close()
