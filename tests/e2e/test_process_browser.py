"""The coordinator's and the steering member's pages in Chromium (plain forms, no scripts):
sign in, start a process, check off, an error summary, ask for approval, decide. axe-core
finds no serious or critical violation on the list, the timeline (also with errors) and the
decision page."""

from __future__ import annotations

import asyncio

import pytest

from api.app import create_app
from contracts.queues import TASK_QUEUE
from tests.support.browser import ARGS, CHROMIUM
from tests.support.browser import serious_violations as _serious
from tests.support.live_server import live_server
from tests.support.process_harness import make_org, process_worker

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
async def server(settings, committed_maker, time_skipping_env):  # type: ignore[no-untyped-def]
    app = create_app(settings, sessionmaker=committed_maker)
    app.state.temporal.client = time_skipping_env.client
    async with live_server(app) as base:
        yield base


async def _login(page, base: str, staff) -> None:  # type: ignore[no-untyped-def]
    await page.goto(f"{base}/login")
    await page.fill("input[name=email]", staff.email)
    await page.fill("input[name=password]", staff.password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/app")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
async def test_coordinator_and_steering_in_the_browser(server, time_skipping_env, smtp_sink,
                                                      make_committed_staff):
    from playwright.async_api import async_playwright

    org = await make_org(make_committed_staff, steering=1)
    async with process_worker(time_skipping_env.client, smtp_sink.port, task_queue=TASK_QUEUE), \
            async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = await browser.new_context()
            page = await context.new_page()
            await _login(page, server, org.coordinator)
            await page.click("text=Beteiligungsprozesse")
            assert await _serious(page) == []
            await page.select_option("#template", "weltoffene-kommune-selbstcheck")
            await page.fill("#title", "Weltoffene Kommune 2027")
            await page.fill("#starts_on", "2027-03-01")
            await page.click("button:has-text('Prozess starten')")
            assert "Der Prozess wurde gestartet." in await page.inner_text("main")
            assert await page.title() == "Weltoffene Kommune 2027 – Mitwirken"

            await page.click("button:has-text('Phase abschließen')")
            summary = page.locator(".error-summary")
            assert "Checkliste ist nicht erledigt" in await summary.inner_text()
            assert await _serious(page) == []

            for _ in range(2):
                await page.locator("button:has-text('Als erledigt markieren')").first.click()
            assert (await page.inner_text("main")).count("✓ erledigt") == 2
            await page.click("button:has-text('Phase abschließen')")
            assert "Die Phase wurde abgeschlossen." in await page.inner_text("main")
            assert "Selbstcheck in sieben Handlungsfeldern (aktuell)" in \
                await page.inner_text("main")
            for phase_title in ("Selbstcheck", "Auswertung"):
                await page.fill("#override_reason", f"{phase_title}: im Team besprochen")
                await page.click("form[action$='/advance'] button[type=submit]")
            assert "Die Freigabe wurde bei der Steuerungsgruppe angefragt." in \
                await page.inner_text("main")
            process_url = page.url.split("?")[0]
            await context.close()

            context = await browser.new_context()
            page = await context.new_page()
            await _login(page, server, org.steering[0])
            await page.click("text=Freigaben der Steuerungsgruppe")
            assert await _serious(page) == []
            await page.click("text=Freigabe der Auswertung")
            assert await _serious(page) == []
            await page.check("#d-reject")
            await page.click("text=Entscheidung abgeben")
            assert "Bitte begründen Sie eine Ablehnung." in \
                await page.locator(".error-summary").inner_text()
            assert await _serious(page) == []
            await page.check("#d-approve")
            await page.fill("#comment", "Auswertung ist nachvollziehbar")
            await page.click("text=Entscheidung abgeben")
            assert "Ihre Entscheidung wurde gespeichert." in await page.inner_text("main")
            await context.close()

            context = await browser.new_context()
            page = await context.new_page()
            await _login(page, server, org.coordinator)
            for _ in range(100):
                await page.goto(process_url)
                text = await page.inner_text("main")
                if "Dialogveranstaltung Verwaltung und Bürger*innen (aktuell)" in text:
                    break
                await asyncio.sleep(0.05)
            assert "Dialogveranstaltung Verwaltung und Bürger*innen (aktuell)" in text
            assert "Auswertung ist nachvollziehbar" in text  # the vote, in the timeline
            assert "Freigabe entschieden" in text
            assert await _serious(page) == []
            await context.close()
        finally:
            await browser.close()
