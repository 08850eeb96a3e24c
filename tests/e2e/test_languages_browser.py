"""Issue 12 in Chromium: the participant's pages in all six languages pass axe (no serious
or critical violation: the form, its error state, thanks, decline); Arabic is laid out right
to left (the heading's text ends at the right edge, the notice's bar is on the right, the
language switch on the left); the switch works by clicking and holds for the link."""

from __future__ import annotations

import pytest

from api.app import create_app
from services import i18n
from services.surveys import service
from tests.support.browser import ARGS, CHROMIUM
from tests.support.browser import serious_violations as _serious
from tests.support.live_server import live_server
from tests.support.surveys import make_campaign, make_invites, make_process, make_survey

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

TEMPLATE = "weiterstadt-bedarfe-und-wuensche"
ANSWERS = {"gruppe": "politik", "themen": ["arbeit"], "zusammenleben": 4,
           "formate": ["workshop", "online", "stadtgespraech", "interview"]}


@pytest.fixture
async def server(settings, committed_maker):
    async with live_server(create_app(settings, sessionmaker=committed_maker)) as base:
        yield base


async def _links(committed_maker, make_committed_staff) -> dict[str, tuple[str, str]]:
    """Per language: a fresh link and one already answered."""
    staff = await make_committed_staff()
    async with committed_maker() as session:
        process = await make_process(session, staff.org_id)
        survey = await make_survey(session, process, from_template=TEMPLATE)
        campaign = await make_campaign(session, survey)
        out = {}
        for lang in i18n.LANGUAGES:
            fresh, answered = await make_invites(session, campaign, 2, language=lang)
            await service.submit(session, answered.token, ANSWERS)
            out[lang] = (fresh.token, answered.token)
        await session.commit()
    return out


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
async def test_participant_pages_pass_axe_in_every_language(server, committed_maker,
                                                            make_committed_staff):
    from playwright.async_api import async_playwright

    links = await _links(committed_maker, make_committed_staff)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            for lang, (fresh, answered) in links.items():
                t = i18n.texts(lang, "survey")
                await page.goto(f"{server}/t/{fresh}")
                assert await page.evaluate("[document.documentElement.lang, "
                                           "document.documentElement.dir]") == [
                    lang, i18n.direction(lang)]
                assert await _serious(page) == [], lang
                assert await page.evaluate("document.documentElement.scrollWidth <= 390"), lang
                await page.get_by_role("button", name=t["review"]).click()
                await page.locator(".error-summary").wait_for()
                assert await _serious(page) == [], f"{lang} (errors)"
                for path in (f"/t/{answered}/danke", f"/t/{fresh}/decline"):
                    await page.goto(f"{server}{path}")
                    assert await page.evaluate("document.documentElement.lang") == lang
                    assert await _serious(page) == [], f"{lang} {path}"
        finally:
            await browser.close()


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
async def test_arabic_is_laid_out_right_to_left(server, committed_maker, make_committed_staff,
                                                tmp_path):
    from playwright.async_api import async_playwright

    links = await _links(committed_maker, make_committed_staff)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            geometry = """() => {
              const h1 = document.querySelector('h1');
              const range = document.createRange();
              range.selectNodeContents(h1);
              const text = range.getBoundingClientRect(), box = h1.getBoundingClientRect();
              const notice = getComputedStyle(document.querySelector('.notice'));
              const first = document.querySelector('.lang-switch li').getBoundingClientRect();
              const last = [...document.querySelectorAll('.lang-switch li')].pop()
                .getBoundingClientRect();
              return {direction: getComputedStyle(h1).direction,
                      textLeft: text.left - box.left, textRight: box.right - text.right,
                      barRight: notice.borderRightWidth, barLeft: notice.borderLeftWidth,
                      switchFirst: first.left, switchLast: last.left, width: box.width};
            }"""
            await page.goto(f"{server}/t/{links['ar'][0]}")
            await page.screenshot(path=str(tmp_path / "ar.png"), full_page=True)
            ar = await page.evaluate(geometry)
            assert ar["direction"] == "rtl"
            # The heading's text hugs the right edge, the free space is on the left.
            assert ar["textRight"] < 2 and ar["textLeft"] > ar["width"] / 3, ar
            # Mirrored by the logical properties: the notice's bar is on the right ...
            assert (ar["barRight"], ar["barLeft"]) == ("6px", "0px"), ar
            # ... and the switch runs from right to left (the first language rightmost).
            assert ar["switchFirst"] > ar["switchLast"], ar

            await page.goto(f"{server}/t/{links['de'][0]}")
            await page.screenshot(path=str(tmp_path / "de.png"), full_page=True)
            de = await page.evaluate(geometry)
            assert de["direction"] == "ltr"
            assert de["textLeft"] < 2 and de["textRight"] > de["width"] / 3, de
            assert (de["barRight"], de["barLeft"]) == ("0px", "6px"), de
            assert de["switchFirst"] < de["switchLast"], de

            # The switch by clicking: Arabic, and the bare link stays Arabic (kept).
            await page.get_by_role("link", name="العربية").click()
            await page.wait_for_url(f"{server}/t/{links['de'][0]}?lang=ar")
            await page.goto(f"{server}/t/{links['de'][0]}")
            assert await page.evaluate("document.documentElement.dir") == "rtl"
            assert (await page.locator("h1").inner_text()).startswith("الاحتياجات")
        finally:
            await browser.close()


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
async def test_event_pages_pass_axe_in_every_language(server, committed_maker):
    from playwright.async_api import async_playwright

    from tests.support.meetings import make_event, make_links

    setup = await make_event(committed_maker, capacity=20, public=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            for lang in i18n.LANGUAGES:
                (token,) = await make_links(committed_maker, setup, 1, language=lang)
                for path in (f"/t/{token}",
                             f"/veranstaltungen/{setup.meeting_id}/anmeldung?lang={lang}"):
                    await page.goto(f"{server}{path}")
                    assert await page.evaluate("[document.documentElement.lang, "
                                               "document.documentElement.dir]") == [
                        lang, i18n.direction(lang)], path
                    assert await _serious(page) == [], f"{lang} {path}"
                    wide = await page.evaluate(
                        "document.documentElement.scrollWidth <= 390 ? [] : "
                        "[...document.querySelectorAll('main *')].filter(e => "
                        "e.getBoundingClientRect().right > 391).map(e => e.tagName + ' ' + "
                        "e.className + ' ' + e.textContent.slice(0, 60))")
                    assert wide == [], f"{lang} {path}"
        finally:
            await browser.close()
