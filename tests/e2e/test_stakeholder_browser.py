"""The stakeholder pages in Chromium (plain forms, no scripts): sign in, follow the overview's
link, upload a list with bad rows, see them as a table, search with an umlaut typed without
it. axe-core finds no serious or critical violation on the list (empty, filtered), the upload
result and the person's form with an error summary."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from api.app import create_app
from tests.api.test_stakeholders_import import _prepare
from tests.support.browser import ARGS, CHROMIUM
from tests.support.browser import serious_violations as _serious
from tests.support.live_server import live_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

LIST = (
    "Name;E-Mail;Gruppe;Stufe\n"
    "Jörg Müller;mueller@example.org;verwaltung;1\n"
    "Falsche Adresse;keine-adresse;verwaltung;1\n"
    "Ärzteverein;aerzte@example.org;nirgendwo;2\n"
)


@pytest.fixture
async def server(settings, committed_maker):  # type: ignore[no-untyped-def]
    async with live_server(create_app(settings, sessionmaker=committed_maker)) as base:
        yield base


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
async def test_stakeholder_list_and_upload_in_the_browser(server, make_committed_staff):  # type: ignore[no-untyped-def]
    from playwright.async_api import async_playwright

    from services.models.organisation import Role

    staff = await make_committed_staff(role=Role.coordinator)
    async with AsyncClient(base_url=server) as api:
        await _prepare(api, make_committed_staff, staff, groups=("verwaltung", "politik"))
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await (await browser.new_context()).new_page()
            await page.goto(f"{server}/login")
            await page.fill("input[name=email]", staff.email)
            await page.fill("input[name=password]", staff.password)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{server}/app")
            await page.click("text=Beteiligte")
            assert "Keine Beteiligten gefunden." in await page.inner_text("main")
            assert await _serious(page) == []

            await page.click("text=Liste hochladen (CSV/XLSX)")
            await page.set_input_files("#file", files=[{
                "name": "liste.csv", "mimeType": "text/csv", "buffer": LIST.encode()}])
            await page.click("button:has-text('Hochladen')")
            main = await page.inner_text("main")
            assert "1 neu angelegt, 0 aktualisiert, 2 Zeilen abgelehnt" in main
            rows = await page.locator("table tbody tr").all_inner_texts()
            assert [r.split("\t")[:2] for r in rows] == [["3", "E-Mail"], ["4", "Gruppe"]]
            assert await _serious(page) == []
            async with page.expect_download() as download:
                await page.click("button:has-text('Fehlerliste herunterladen')")
            assert (await download.value).suggested_filename == "import-fehler.csv"

            await page.click("text=Zur Liste der Beteiligten")
            await page.fill("#q", "muller")
            await page.click("button:has-text('Anzeigen')")
            assert "Jörg Müller" in await page.inner_text("table")
            assert await _serious(page) == []
            # WCAG 1.4.10: at 320 CSS px the page does not scroll sideways (the table may,
            # inside its own focusable region).
            await page.set_viewport_size({"width": 320, "height": 640})
            assert await page.evaluate(
                "document.documentElement.scrollWidth") <= 320
            await page.set_viewport_size({"width": 1280, "height": 720})

            await page.click("text=Person oder Organisation anlegen")
            await page.fill("#name", "Anna")
            await page.fill("#email", "anna@example.org")
            await page.select_option("#group", "politik")
            await page.select_option("#legal_basis", "consent")  # without its date
            await page.click("button:has-text('Anlegen')")
            assert "Für eine Einwilligung fehlt ihr Datum" in \
                await page.inner_text(".error-summary")
            assert await page.input_value("#name") == "Anna"
            assert await page.input_value("#group") == "politik"
            assert await _serious(page) == []
        finally:
            await browser.close()
