"""The coordinator's survey pages in Chromium on a 320 px wide screen, with no API call: from
the process page to its surveys, a new empty survey (first with a mistake), one question of
each of the six types through the editor, the preview as participants see it, and opening the
survey. Every page on the way has no serious or critical axe violation and nothing wider than
the screen (WCAG 1.4.10)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from api.app import create_app
from services.models.organisation import Role
from services.models.process import Process
from tests.api.surveys.test_survey_pages import SNAPSHOT
from tests.support.browser import ARGS, CHROMIUM
from tests.support.browser import serious_violations as _serious
from tests.support.live_server import live_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

WIDTH = 320
WIDER_TEXT = """(width) => {
  const out = [], walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const range = document.createRange(); range.selectNodeContents(n);
    if (range.getBoundingClientRect().right + window.scrollX > width)
      out.push(n.parentElement.tagName + ': ' + n.textContent.trim().slice(0, 60));
  }
  return out.slice(0, 8);
}"""


@pytest.fixture
async def server(settings, committed_maker):  # type: ignore[no-untyped-def]
    async with live_server(create_app(settings, sessionmaker=committed_maker)) as base:
        yield base


async def _check(page) -> None:  # type: ignore[no-untyped-def]
    assert await _serious(page) == [], page.url
    width = await page.evaluate("document.documentElement.scrollWidth")
    # For the failure message: the text that sticks out (a long word, a heading).
    wide = [] if width <= WIDTH else await page.evaluate(WIDER_TEXT, WIDTH)
    assert width <= WIDTH, (page.url, width, wide)


# Per type: the fields a coordinator fills in (by label) after choosing the type.
QUESTIONS = [
    ("single", {"Fragetext": "In welcher Rolle nehmen Sie teil?",
                "Eine Antwort je Zeile (mindestens zwei)": "Bürgerin\nverwaltung | Verwaltung"}),
    ("multiple", {"Fragetext": "Welche Themen sind Ihnen wichtig?",
                  "Eine Antwort je Zeile (mindestens zwei)": "Arbeit\nBildung\nWohnen",
                  "Höchstens zu wählen (freiwillig)": "2"}),
    ("likert", {"Fragetext": "Das Zusammenleben ist gut."}),
    ("number", {"Fragetext": "Wie viele Personen leben in Ihrem Haushalt?",
                "Kleinster erlaubter Wert (freiwillig)": "1",
                "Größter erlaubter Wert (freiwillig)": "20"}),
    ("ranking", {"Fragetext": "Welche Formate bevorzugen Sie?",
                 "Eine Antwort je Zeile (mindestens zwei)": "Workshop\nOnline\nInterview"}),
    ("text", {"Fragetext": "Was wünschen Sie sich?"}),
]


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
async def test_build_preview_and_open_a_survey_on_a_phone(server, committed_maker,  # type: ignore[no-untyped-def]
                                                          make_committed_staff):
    from playwright.async_api import async_playwright

    staff = await make_committed_staff(role=Role.coordinator)
    pid = uuid.uuid4()
    async with committed_maker() as session:
        session.add(Process(
            id=pid, organisation_id=staff.org_id, template_key="vielfaltsmanager-ausbildung",
            template_version=1, title="Ausbildung", starts_on=date(2026, 2, 1),
            status="running", current_phase="kickoff", template_snapshot=SNAPSHOT,
            workflow_id=f"process-{pid}"))
        await session.commit()

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": WIDTH, "height": 640})
            await page.goto(f"{server}/login")
            await page.fill("input[name=email]", staff.email)
            await page.fill("input[name=password]", staff.password)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{server}/app")

            await page.goto(f"{server}/app/processes/{pid}")
            await page.get_by_role("link", name="Umfragen", exact=True).click()
            await page.wait_for_url(f"{server}/app/processes/{pid}/surveys")
            assert "noch keine Umfrage" in await page.inner_text("main")
            await _check(page)

            await page.get_by_role("link", name="Neue Umfrage anlegen").click()
            await _check(page)
            await page.select_option("#vorlage", "leer")
            await page.fill("#beginn", "2099-01-01T10:00")
            await page.get_by_role("button", name="Umfrage anlegen").click()
            summary = page.locator(".error-summary")
            await summary.wait_for()
            assert "Bitte einen Titel angeben." in await summary.inner_text()
            assert await page.input_value("#beginn") == "2099-01-01T10:00"  # kept
            await _check(page)
            await page.fill("#titel", "Wünsche für das Quartier")
            await page.fill("#erste_frage", "Wie haben Sie von der Umfrage erfahren?")
            await page.get_by_role("button", name="Umfrage anlegen").click()
            await page.wait_for_url("**/bearbeiten?ok=created")
            editor_url = page.url.split("?")[0]
            assert "Die Umfrage wurde angelegt." in await page.inner_text("main")
            await _check(page)

            for kind, fields in QUESTIONS:
                await page.goto(editor_url)
                await page.select_option("#typ", kind)
                await page.get_by_role("button", name="Frage hinzufügen").click()
                await page.wait_for_url(f"**/neue-frage?typ={kind}")
                for label, value in fields.items():
                    await page.get_by_label(label, exact=True).fill(value)
                if kind == "single":
                    await page.get_by_label("Pflichtfrage (muss beantwortet werden)").check()
                await _check(page)
                if kind == "text":
                    # Enter in a field saves (the save button is the form's default button).
                    await page.get_by_label("Hinweis unter der Frage (freiwillig)").fill(
                        "Ein paar Sätze genügen")
                    await page.keyboard.press("Enter")
                else:
                    await page.locator("button[name=aktion][value=speichern]").click()
                await page.wait_for_url("**/bearbeiten?ok=added#frage-*")
            main = await page.inner_text("main")
            for _, fields in QUESTIONS:
                assert fields["Fragetext"] in main
            await _check(page)

            # A mistake on the question form: the message next to the field, values kept.
            await page.goto(f"{editor_url.removesuffix('/bearbeiten')}/neue-frage?typ=single")
            await page.get_by_label("Fragetext", exact=True).fill("Nur eine Antwort?")
            await page.get_by_label("Eine Antwort je Zeile (mindestens zwei)").fill("Ja")
            await page.locator("button[name=aktion][value=speichern]").click()
            await page.locator("#optionen-fehler").wait_for()
            assert await page.input_value("#optionen") == "Ja"
            await _check(page)

            await page.goto(editor_url)
            await page.get_by_role("link", name="Vorschau (wie Teilnehmende sie sehen)").click()
            await page.wait_for_url("**/vorschau")
            assert await page.locator("legend").first.inner_text() != ""
            legends = await page.locator("legend").all_inner_texts()
            assert any("In welcher Rolle nehmen Sie teil?" in t for t in legends)
            assert await page.get_by_role("button", name="Weiter zur Überprüfung").is_disabled()
            await _check(page)
            await page.get_by_role("link", name="Vorschau auf Englisch").click()
            await page.wait_for_url("**/vorschau?lang=en")
            await _check(page)
            await page.get_by_role("link", name="Zurück zur Umfrage").click()
            await page.wait_for_url(editor_url)

            assert "geplant" in await page.inner_text("main")
            await page.get_by_role("button", name="Jetzt öffnen").click()
            await page.wait_for_url("**/bearbeiten?ok=opened#zeitraum")
            main = await page.inner_text("main")
            assert "Die Umfrage ist jetzt geöffnet." in main and "Status: offen" in main
            await _check(page)

            await page.get_by_role("link", name="Zurück zu den Umfragen", exact=False).click()
            assert "offen" in await page.inner_text("table")
            await _check(page)
        finally:
            await browser.close()
