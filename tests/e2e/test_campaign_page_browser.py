"""The campaign page in Chromium: its small script follows the SSE progress stream and
updates the figures without reloading the page, and says when the campaign has ended; the
page and its cancel confirmation have no serious or critical axe violation, at 320 px
without horizontal scrolling."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from api.app import create_app
from services.models.campaign import Campaign, Invitation
from services.models.organisation import Role
from tests.api.test_campaigns_api import _invitation
from tests.support.browser import ARGS, CHROMIUM
from tests.support.browser import serious_violations as _serious
from tests.support.live_server import live_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
async def server(settings, committed_maker):  # type: ignore[no-untyped-def]
    app = create_app(settings, sessionmaker=committed_maker)
    async with live_server(app) as base:
        yield base


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
async def test_progress_updates_in_place(server, committed_maker,  # type: ignore[no-untyped-def]
                                         make_committed_staff):
    from playwright.async_api import async_playwright

    staff = await make_committed_staff(role=Role.coordinator)
    async with committed_maker() as s:
        _, invitation, _, campaign = await _invitation(s, staff.org_id)
        await s.execute(update(Invitation).where(Invitation.id == invitation.id)
                        .values(status="pending", sent_at=None))
        await s.commit()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page()
            await page.goto(f"{server}/login")
            await page.fill("input[name=email]", staff.email)
            await page.fill("input[name=password]", staff.password)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{server}/app")
            await page.goto(f"{server}/app/campaigns/{campaign.id}")
            assert await page.inner_text("td[data-field=sent]") == "0"
            # The script is running: its note shows (hidden without JavaScript).
            await page.wait_for_selector(".live-note", state="visible")
            assert await _serious(page) == []
            await page.evaluate("window.notReloaded = true")

            async with committed_maker() as s:
                await s.execute(update(Invitation).where(Invitation.id == invitation.id)
                                .values(status="sent", sent_at=datetime.now(UTC)))
                await s.commit()
            await page.wait_for_function(
                "document.querySelector('td[data-field=sent]').textContent === '1'",
                timeout=10_000)
            assert await page.inner_text("td[data-field=pending]") == "0"
            assert await page.evaluate("window.notReloaded") is True

            async with committed_maker() as s:
                await s.execute(update(Campaign).where(Campaign.id == campaign.id)
                                .values(status="closed", closed_at=datetime.now(UTC)))
                await s.commit()
            await page.wait_for_function(
                "document.querySelector('.live-note').textContent.includes('läuft nicht mehr')",
                timeout=10_000)
            assert await page.inner_text("strong.status") == "abgeschlossen"
            assert await page.evaluate("window.notReloaded") is True

            # The cancel confirmation of a running campaign, on a phone-sized screen.
            async with committed_maker() as s:
                await s.execute(update(Campaign).where(Campaign.id == campaign.id)
                                .values(status="running", closed_at=None))
                await s.commit()
            await page.set_viewport_size({"width": 320, "height": 640})
            for url in (f"/app/campaigns/{campaign.id}", f"/app/campaigns/{campaign.id}/cancel"):
                await page.goto(server + url)
                assert await _serious(page) == [], url
                overflow = await page.evaluate(
                    "document.documentElement.scrollWidth > document.documentElement.clientWidth")
                assert not overflow, url
            assert "Ja, Kampagne abbrechen" in await page.inner_text("main")
        finally:
            await browser.close()
