"""The CSRF attack of issue 8 in Chromium: a page on another port of the same host (same
site, so the SameSite=Lax session cookie *is* sent) posts a staff form and frames a staff
page. The post is refused, the frame stays empty, and the real form still works."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from api.app import create_app
from tests.support.browser import ARGS, CHROMIUM
from tests.support.live_server import live_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def _attacker(target: str) -> Starlette:
    async def post(_: object) -> HTMLResponse:
        return HTMLResponse(
            f'<form method="post" action="{target}/app/processes">'
            '<input name="org" value="x"><input name="title" value="Untergeschoben">'
            '<input name="template" value="bergkamen-for-all">'
            '<input name="starts_on" value="2027-02-01"></form>'
            "<script>document.forms[0].submit()</script>")

    async def frame(_: object) -> HTMLResponse:
        return HTMLResponse(f'<iframe id="f" src="{target}/app"></iframe>')

    return Starlette(routes=[Route("/post", post), Route("/frame", frame)])


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
async def test_a_sibling_origin_can_neither_post_nor_frame(settings, committed_maker,
                                                            make_committed_staff):
    from playwright.async_api import async_playwright

    staff = await make_committed_staff()
    app = create_app(settings, sessionmaker=committed_maker)
    async with live_server(app) as base, live_server(_attacker(base)) as evil, \
            async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page()
            await page.goto(f"{base}/login")
            await page.fill("input[name=email]", staff.email)
            await page.fill("input[name=password]", staff.password)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/app")

            async with page.expect_response(f"{base}/app/processes") as answer:
                await page.goto(f"{evil}/post")
            response = await answer.value
            assert response.status == 403
            # A browser gets the German error page (issue 13), naming the refusal's code.
            page_text = await response.text()
            assert "Fehlercode cross_origin_request" in page_text
            assert "Anfrage von einer anderen Seite" in page_text

            # The server answers the framed request; the browser refuses to show it.
            async with page.expect_response(f"{base}/app") as framed:
                await page.goto(f"{evil}/frame")
            assert (await framed.value).status == 200
            await page.wait_for_timeout(500)
            assert len(page.frames) == 2
            assert "Abmelden" not in await page.frames[1].content()

            # The app's own form, from its own origin, still signs out.
            await page.goto(f"{base}/app")
            await page.click("text=Abmelden")
            await page.wait_for_url(f"{base}/login")
        finally:
            await browser.close()
