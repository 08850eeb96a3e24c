"""/docs in Chromium without internet (issue 13): Swagger UI renders the API's operations
from this server's own assets and asks no other host for anything."""

from __future__ import annotations

import pytest

from tests.support.browser import ARGS, CHROMIUM
from tests.support.live_server import live_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
async def test_docs_render_offline_with_no_third_party_request(app):  # type: ignore[no-untyped-def]
    from playwright.async_api import async_playwright

    async with live_server(app) as base, async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page()
            elsewhere: list[str] = []
            page.on("request", lambda r: None if r.url.startswith(base)
                    else elsewhere.append(r.url))
            await page.goto(f"{base}/docs")
            await page.wait_for_selector(".opblock", timeout=20_000)
            assert await page.locator(".opblock").count() > 50
            # Swagger UI's own "Unable to render this definition" box.
            assert await page.locator(".errors-wrapper").count() == 0
            assert elsewhere == []
        finally:
            await browser.close()
