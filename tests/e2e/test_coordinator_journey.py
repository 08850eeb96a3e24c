"""Issue 13's walk-through: the coordinator's whole job in Chromium on a 320 px wide screen,
with no API call from the test - start a process from a shipped template, import stakeholders
(with bad rows), build a survey with one question of each type, preview and open it, invite a
group (the count first), watch the progress change without a reload, participants answer
through the links of their mails (review step, final submit), the results and their CSV and
XLSX downloads; then the approval: asked for with a reason on the process page, the steering
member sees its context (reason, rule in words, checklist, deadline) and decides.

Every page on the way has no serious or critical axe violation, nothing wider than the
screen (WCAG 1.4.10) and no table word broken across lines, and no request of any page goes
to a host other than the server. The process comes first (its template brings the groups the
list names); the mail links point at the public URL, so the browser follows their path on
the test's server."""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from api.app import create_app
from api.staff_language import COOKIE as STAFF_LANGUAGE
from composition.worker import build_workers
from infra import mail as infra_mail
from infra.mail import MailTransport
from services import i18n
from tests.api.staff_texts import german_left
from tests.e2e.test_survey_editor_browser import QUESTIONS, WIDER_TEXT
from tests.support.browser import ARGS, CHROMIUM
from tests.support.browser import serious_violations as _serious
from tests.support.live_server import live_server
from tests.support.process_harness import eventually, make_org

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

WIDTH = 320
SURVEY = "Wünsche für das Quartier"
REASON = "Die Planung ist mit dem Bürgermeister abgestimmt"
# Six people in the group "politik" (consent recorded), three rows that are refused.
GOOD = [(f"Person {n}", f"person{n}@example.org") for n in range(1, 7)]
LIST = "Name;E-Mail;Gruppe;Stufe;Einwilligung am\n" + "".join(
    f"{name};{mail};politik;1;2026-01-15\n" for name, mail in GOOD) + (
    "Falsche Adresse;keine-adresse;politik;1;2026-01-15\n"
    "Ärzteverein;aerzte@example.org;nirgendwo;2;2026-01-15\n"
    "Ohne Stufe;stufe@example.org;politik;7;2026-01-15\n")
# The words of table cells that the layout breaks across lines ("Z/e/il/e" when a table is
# squeezed to the screen): a word here runs between spaces, hyphens and slashes.
BROKEN_WORDS = """() => {
  const out = [];
  for (const cell of document.querySelectorAll('main th, main td')) {
    const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      for (const m of n.textContent.matchAll(/[^\\s\\-\\/–]+/g)) {
        const range = document.createRange();
        range.setStart(n, m.index); range.setEnd(n, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (tops.size > 1) out.push(m[0]);
      }
    }
  }
  return out.slice(0, 12);
}"""
ANSWERS = 5  # the smallest group results show (services/surveys/suppression.py)
# A phone with a German browser (dates in its own inputs as 22.12.2026).
SCREEN = {"viewport": {"width": WIDTH, "height": 640}, "locale": "de-DE"}


@pytest.fixture
async def server(settings, committed_maker, time_skipping_env):  # type: ignore[no-untyped-def]
    app = create_app(settings, sessionmaker=committed_maker)
    app.state.temporal.client = time_skipping_env.client
    async with live_server(app) as base:
        yield base


class Walk:
    """The browser side: every page it lands on is checked once (axe, width), and every
    request of every page is recorded."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.requests: list[str] = []
        self.checked: set[str] = set()
        # Each staff page kind's address and the cookies of the browser that saw it, for the
        # English round (`in_english`).
        self.staff_pages: dict[str, tuple[str, list]] = {}  # type: ignore[type-arg]
        self.german_left: dict[str, set[str]] = {}

    def record(self, context) -> None:  # type: ignore[no-untyped-def]
        context.on("request", lambda r: self.requests.append(r.url))

    async def check(self, page, what: str | None = None) -> None:  # type: ignore[no-untyped-def]
        """axe, the 320 px check and whole words in tables, on the page (once per kind of
        page: `what`, by default its address without ids and query)."""
        key = what or re.sub(r"/[0-9a-f-]{36}|/t/[^/?]+", "/…", page.url.split("?")[0])
        if key in self.checked:
            return
        self.checked.add(key)
        if "/t/" not in page.url:  # a participant page has its own languages
            self.staff_pages[key] = (page.url, await page.context.cookies())
        await self.layout(page)

    async def layout(self, page) -> None:  # type: ignore[no-untyped-def]
        assert await _serious(page) == [], page.url
        width = await page.evaluate("document.documentElement.scrollWidth")
        # For the failure message: the text that sticks out (a long word, a heading).
        wide = [] if width <= WIDTH else await page.evaluate(WIDER_TEXT, WIDTH)
        assert width <= WIDTH, (page.url, width, wide)
        # Tables keep their words whole (and scroll in their own region if need be).
        assert await page.evaluate(BROKEN_WORDS) == [], page.url

    async def login(self, page, staff, who: str) -> None:  # type: ignore[no-untyped-def]
        await page.goto(f"{self.base}/login")
        await self.check(page, "login")
        await page.fill("input[name=email]", staff.email)
        await page.fill("input[name=password]", staff.password)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{self.base}/app")
        await self.check(page, f"overview of the {who}")

    async def in_english(self, browser) -> dict[str, int]:  # type: ignore[no-untyped-def]
        """Every staff page kind again, with the English choice (the switch's cookie): the
        page is English (lang="en", its note in English on the German preview) and passes the
        same checks. A page the walk reached by a form's POST is opened by GET here, which
        shows the form's page without the answer: their statuses come back for the assertion,
        and any catalog text still German in `german_left`."""
        statuses: dict[str, int] = {}
        for key, (url, cookies) in self.staff_pages.items():
            context = await browser.new_context(**SCREEN)
            self.record(context)
            await context.add_cookies([*cookies, {"name": STAFF_LANGUAGE, "value": "en",
                                                  "url": self.base}])
            page = await context.new_page()
            response = await page.goto(url)
            statuses[key] = response.status
            await self.layout(page)
            if "/vorschau" in url:  # the form in the preview's language, its frame English
                assert await page.get_attribute("#vorschau", "lang") == "en", key
            else:
                assert await page.evaluate("document.documentElement.lang") == "en", key
                # No text of the catalog left in German (tests/api/test_staff_language.py).
                left = german_left(await page.content(), set())
                if left:
                    self.german_left[key] = left
            await context.close()
        return statuses

    def third_party(self) -> list[str]:
        own = urlsplit(self.base).netloc
        return [u for u in self.requests
                if urlsplit(u).scheme not in ("data", "blob", "about")
                and urlsplit(u).netloc != own]


def _links(smtp_sink, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    """The survey links of the invitation mails (their path; the host is the public URL)."""
    paths = []
    for stored in smtp_sink.messages:
        body = stored.message.get_body(preferencelist=("plain",)).get_content()
        found = re.search(r"https?://[^/\s]+(/t/[^\s/?\"<>]+)", body)
        assert found, body
        paths.append(found.group(1))
    assert len(paths) == count
    # One to each person of the group, none to the refused rows.
    assert sorted(a for m in smtp_sink.messages for a in m.envelope_to) == sorted(
        mail for _, mail in GOOD)
    return paths


async def _coordinator(walk: Walk, page, org, smtp_sink,  # type: ignore[no-untyped-def]
                       workers) -> tuple[str, str, list[str]]:
    base = walk.base
    await walk.login(page, org.coordinator, "coordinator")

    # A process from a shipped template (it brings the organisation its groups).
    await page.get_by_role("link", name="Beteiligungsprozesse").first.click()
    await page.wait_for_url(f"{base}/app/processes?org={org.slug}")
    await walk.check(page)
    await page.select_option("#template", "weiterstadt-vielfaltsstrategie")
    await page.fill("#title", "Vielfaltsstrategie 2027")
    await page.fill("#starts_on", datetime.now(ZoneInfo("Europe/Berlin")).date().isoformat())
    await page.click("button:has-text('Prozess starten')")
    assert "Der Prozess wurde gestartet." in await page.inner_text("main")
    await walk.check(page)
    process_url = page.url.split("?")[0]

    # 1. Stakeholders from a list with bad rows: the refused ones as a table, the rest listed.
    await page.goto(f"{base}/app")
    await page.get_by_role("link", name="Beteiligte", exact=True).click()
    await page.wait_for_url("**/stakeholders")
    await walk.check(page)
    await page.get_by_role("link", name="Liste hochladen (CSV/XLSX)").click()
    await page.wait_for_url("**/stakeholders/import")
    await walk.check(page)
    await page.set_input_files("#file", files=[{
        "name": "liste.csv", "mimeType": "text/csv", "buffer": LIST.encode()}])
    await page.click("button:has-text('Hochladen')")
    main = await page.inner_text("main")
    assert "6 neu angelegt, 0 aktualisiert, 3 Zeilen abgelehnt" in main, main
    rows = await page.locator("table tbody tr").all_inner_texts()
    assert [r.split("\t")[:2] for r in rows] == [["8", "E-Mail"], ["9", "Gruppe"],
                                                  ["10", "Stufe"]]
    await walk.check(page, "import result")
    async with page.expect_download() as download:
        await page.click("button:has-text('Fehlerliste herunterladen')")
    assert (await download.value).suggested_filename == "import-fehler.csv"
    await page.get_by_role("link", name="Zur Liste der Beteiligten").click()
    await page.wait_for_url("**/stakeholders")
    listed = await page.inner_text("table")
    assert all(name in listed for name, _ in GOOD) and "Ärzteverein" not in listed
    await walk.check(page, "stakeholder list with the imported rows")

    # 2. A survey in the process, one question of each type, the preview, opened.
    await page.goto(process_url)
    await page.get_by_role("link", name="Umfragen", exact=True).click()
    await page.wait_for_url("**/surveys")
    await walk.check(page)
    await page.get_by_role("link", name="Neue Umfrage anlegen").click()
    await page.wait_for_url("**/surveys/new")
    await walk.check(page)
    await page.select_option("#vorlage", "leer")
    await page.fill("#titel", SURVEY)
    await page.fill("#beginn", "2099-01-01T10:00")
    await page.fill("#erste_frage", "Wie haben Sie von der Umfrage erfahren?")
    await page.get_by_role("button", name="Umfrage anlegen").click()
    await page.wait_for_url("**/bearbeiten?ok=created")
    editor_url = page.url.split("?")[0]
    await walk.check(page)
    for kind, fields in QUESTIONS:
        await page.goto(editor_url)
        await page.select_option("#typ", kind)
        await page.get_by_role("button", name="Frage hinzufügen").click()
        await page.wait_for_url(f"**/neue-frage?typ={kind}")
        for label, value in fields.items():
            await page.get_by_label(label, exact=True).fill(value)
        if kind == "single":
            await page.get_by_label("Pflichtfrage (muss beantwortet werden)").check()
        await walk.check(page, f"question {kind}")
        await page.locator("button[name=aktion][value=speichern]").click()
        await page.wait_for_url("**/bearbeiten?ok=added#frage-*")
    main = await page.inner_text("main")
    assert all(fields["Fragetext"] in main for _, fields in QUESTIONS)
    await walk.check(page, "editor with seven questions")
    await page.get_by_role("link", name="Vorschau (wie Teilnehmende sie sehen)").click()
    await page.wait_for_url("**/vorschau")
    legends = " ".join(await page.locator("legend").all_inner_texts())
    assert "In welcher Rolle nehmen Sie teil?" in legends
    await walk.check(page)
    await page.get_by_role("link", name="Vorschau auf Englisch").click()
    await page.wait_for_url("**/vorschau?lang=en")
    assert await page.evaluate("document.documentElement.lang") == "en"
    await walk.check(page, "preview in English")
    await page.get_by_role("link", name="Zurück zur Umfrage").click()
    await page.wait_for_url(editor_url)
    await page.get_by_role("button", name="Jetzt öffnen").click()
    await page.wait_for_url("**/bearbeiten?ok=opened#zeitraum")
    assert "Status: offen" in await page.inner_text("main")
    await walk.check(page, "editor of the open survey")

    # 3. Invitations to the group: the count first, then the send; the progress moves on the
    # open page (server-sent events) once the mail worker runs.
    await page.goto(process_url)
    await page.get_by_role("link", name="neu versenden").click()
    await page.wait_for_url("**/campaigns/new")
    await walk.check(page)
    await page.select_option("#survey", label=SURVEY)
    await page.check("input[name=groups][value=politik]")
    await page.get_by_role("button", name="Empfänger*innen zählen").click()
    assert "Diese Auswahl erreicht 6 Beteiligte" in await page.inner_text("#empfaenger")
    await walk.check(page, "campaign count")
    # A text field without a type attribute is styled as one (as wide as the select above).
    widths = await page.evaluate(
        "['#survey', '#title'].map(s => document.querySelector(s).offsetWidth)")
    assert widths[0] == widths[1], widths
    await page.get_by_role("button", name="Einladungen an 6 senden").click()
    await page.wait_for_url(f"{base}/app/campaigns/*")
    await page.wait_for_selector(".live-note", state="visible")
    await page.wait_for_function(
        "document.querySelector('td[data-field=total]').textContent === '6'", timeout=20_000)
    assert await page.inner_text("td[data-field=sent]") == "0"
    await walk.check(page)
    await page.evaluate("window.notReloaded = true")
    async with workers[1]:  # the mail queue's worker: now the invitations go out
        await page.wait_for_function(
            "document.querySelector('td[data-field=sent]').textContent === '6'",
            timeout=30_000)
        assert await page.evaluate("window.notReloaded") is True
        assert await page.inner_text("td[data-field=pending]") == "0"

        async def mails() -> int:
            return len(smtp_sink.messages)

        await eventually(mails, lambda n: n == 6)
    return process_url, page.url, _links(smtp_sink, 6)


async def _participants(walk: Walk, browser, links: list[str]) -> None:  # type: ignore[no-untyped-def]
    # 4. Participants answer through their links: the form, the review, the final submit;
    # the first one switches to English (the page offers it) and answers in English.
    for i, path in enumerate(links[:ANSWERS]):
        lang = "en" if i == 0 else "de"
        t = i18n.texts(lang, "survey")
        context = await browser.new_context(**SCREEN)
        walk.record(context)
        page = await context.new_page()
        await page.goto(walk.base + path)
        await walk.check(page, "participant form de")
        assert "Bis zu 2 Antworten möglich." in await page.inner_text("main")  # the editor's limit
        if lang == "en":
            await page.get_by_role("link", name="English").click()
            await page.wait_for_url("**?lang=en")
            assert await page.evaluate("document.documentElement.lang") == "en"
            await walk.check(page, "participant form en")
        await page.get_by_label("Bürgerin", exact=True).check()
        await page.get_by_label("Wie viele Personen leben in Ihrem Haushalt?").fill(str(i + 1))
        await page.get_by_role("button", name=t["review"]).click()
        await page.wait_for_url("**/pruefen*")
        assert "Bürgerin" in await page.locator("dl.review").inner_text()
        await walk.check(page, f"review {lang}")
        await page.get_by_role("button", name=t["confirm"]).click()
        await page.wait_for_url("**/danke*")
        assert t["thanks_title"] in await page.locator("h1").inner_text()
        await walk.check(page, f"thanks {lang}")
        await context.close()


async def _results(walk: Walk, page, process_url: str, campaign_url: str) -> None:  # type: ignore[no-untyped-def]
    # The process's campaigns, and the campaign's page: it counts the answers.
    await page.goto(process_url)
    await page.get_by_role("link", name="Einladungen", exact=True).click()
    await page.wait_for_url("**/campaigns")
    await walk.check(page)
    await page.get_by_role("link", name=SURVEY).click()
    await page.wait_for_url(campaign_url)
    assert await page.inner_text("td[data-field=responded]") == str(ANSWERS)
    # 5. The results (not suppressed) and their downloads.
    await page.goto(process_url)
    await page.get_by_role("link", name=f"Ergebnisse: {SURVEY}").click()
    await page.wait_for_url("**/results")
    main = await page.inner_text("main")
    assert f"{ANSWERS} Antworten" in main, main
    assert "Vielfaltsstrategie 2027" in await page.inner_text("nav.breadcrumb")
    # The number question's values in German format (1, not 1.0).
    assert "1.0" not in main and "Mittelwert: 3" in main
    await walk.check(page)
    async with page.expect_download() as download:
        await page.get_by_role("link", name="Ergebnisse je Frage").click()
    csv = Path(await (await download.value).path()).read_bytes()
    assert csv.startswith(b"\xef\xbb\xbf"), csv[:40]
    assert ";" in csv.decode("utf-8-sig").splitlines()[0]
    assert "In welcher Rolle nehmen Sie teil?" in csv.decode("utf-8-sig")
    async with page.expect_download() as download:
        await page.get_by_role("link", name="Alle Tabellen als Excel (XLSX)").click()
    from openpyxl import load_workbook

    xlsx = await download.value
    assert xlsx.suggested_filename.endswith(".xlsx"), xlsx.suggested_filename
    book = load_workbook(io.BytesIO(Path(await xlsx.path()).read_bytes()))
    assert book.sheetnames, book


async def _approval(walk: Walk, browser, page, org, process_url: str) -> None:  # type: ignore[no-untyped-def]
    # 6. The coordinator asks for the approval of the first phase, with a reason ...
    await page.goto(process_url)
    await page.fill("#override_reason", REASON)
    await page.get_by_role("button", name="Freigabe anfragen").click()
    assert "Die Freigabe wurde bei der Steuerungsgruppe angefragt." in \
        await page.inner_text("main")
    await walk.check(page, "process with pending approval")

    # ... and the steering member sees what it needs to decide, and decides.
    context = await browser.new_context(**SCREEN)
    walk.record(context)
    page = await context.new_page()
    await walk.login(page, org.steering[0], "steering member")
    await page.get_by_role("link", name="Freigaben der Steuerungsgruppe").click()
    await page.wait_for_url("**/app/approvals")
    await walk.check(page)
    title = "Freigabe der Planung durch die Steuerungsgruppe"
    await page.get_by_role("link", name=title).click()
    await page.wait_for_url("**/app/approvals/*")
    await walk.check(page)
    assert REASON in await page.inner_text("#begruendung")
    assert await page.inner_text("#regel") == "Das eine gefragte Mitglied muss zustimmen."
    assert "Checkliste der Phase (0 von 4 erledigt)" in await page.inner_text("main")
    assert "Festlegen und Definieren einer Steuerungsgruppe" in \
        await page.inner_text("ul.checklist")
    assert re.search(r"\d\d\.\d\d\.\d{4}", await page.inner_text("#frist"))
    await page.check("#d-approve")
    await page.fill("#comment", "Einverstanden")
    await page.get_by_role("button", name="Entscheidung abgeben").click()
    assert "Ihre Entscheidung wurde gespeichert." in await page.inner_text("main")
    await walk.check(page, "approval decided")
    await context.close()


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
async def test_coordinator_journey_in_the_browser(server, time_skipping_env, smtp_sink,  # type: ignore[no-untyped-def]
                                                  make_committed_staff):
    from playwright.async_api import async_playwright

    infra_mail.configure(MailTransport(smtp_sink.host, smtp_sink.port))
    org = await make_org(make_committed_staff, steering=1)
    walk = Walk(server)
    workers = build_workers(time_skipping_env.client)
    async with workers[0], async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = await browser.new_context(**SCREEN)
            walk.record(context)
            page = await context.new_page()
            process_url, campaign_url, links = await _coordinator(walk, page, org, smtp_sink,
                                                                  workers)
            await _participants(walk, browser, links)
            await _results(walk, page, process_url, campaign_url)
            await _approval(walk, browser, page, org, process_url)
            english = await walk.in_english(browser)
        finally:
            await browser.close()
    assert walk.requests, "no request recorded"
    assert walk.third_party() == []
    # Every kind of page on the way was checked (a renamed link would otherwise skip one).
    assert len(walk.checked) == 37, sorted(walk.checked)
    # ... and each of its staff pages again in English (the participants' own languages are
    # checked above). Only the answers to a form's POST come back otherwise, as their form.
    assert len(english) == 31, sorted(english)
    assert {k for k, s in english.items() if s != 200} == set(), english
    assert walk.german_left == {}
