"""The organisation's public pages and an error page in Chromium (issue 13): axe finds nothing
serious or critical, nothing scrolls sideways at 320 CSS px (WCAG 1.4.10), and the focus ring
of every element reached by Tab has at least 3:1 contrast against what surrounds it."""

from __future__ import annotations

from typing import Any

import pytest

from api.deps import SESSION_COOKIE
from services.legal import service as legal
from services.models.organisation import Role
from tests.api.test_org_legal_pages import FILLED
from tests.support.browser import ARGS, CHROMIUM, serious_violations
from tests.support.live_server import live_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

# The focused element's outline colour against the first opaque background behind it (its
# parent chain: the outline is drawn outside the element, on that background).
FOCUS_CONTRAST = """() => {
  const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92
    : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g)
    + 0.0722 * f(c.b); };
  const behind = el => { for (let e = el; e; e = e.parentElement) {
    const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0) return c; }
    return {r: 255, g: 255, b: 255, a: 1}; };
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const name = el.tagName + ' ' + (el.textContent || el.name || '').trim().slice(0, 40);
  if (s.outlineStyle === 'none' || parseFloat(s.outlineWidth) < 2) return {name, ratio: 0};
  const a = lum(parse(s.outlineColor)), b = lum(behind(el.parentElement));
  return {name, ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)};
}"""


async def _check(page: Any, url: str, problems: list[str]) -> None:
    await page.set_viewport_size({"width": 320, "height": 640})
    r = await page.goto(url)
    assert r is not None
    width = await page.evaluate("document.documentElement.scrollWidth")
    if width > 320:
        problems.append(f"{url}: {width} px wide at 320")
    problems += [f"{url}: {v}" for v in await serious_violations(page)]
    seen: set[str] = set()
    for _ in range(60):
        await page.keyboard.press("Tab")
        focus = await page.evaluate(FOCUS_CONTRAST)
        if focus is None or focus["name"] in seen:
            break
        seen.add(focus["name"])
        if focus["ratio"] < 3:
            problems.append(f"{url}: focus ring of {focus['name']!r} {focus['ratio']:.2f}:1")
    if not seen:
        problems.append(f"{url}: Tab reached nothing")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
async def test_legal_and_error_pages_at_320_px(app, make_staff, rollback_maker):  # type: ignore[no-untyped-def]
    from playwright.async_api import async_playwright

    admin = await make_staff(role=Role.admin)
    empty = await make_staff(role=Role.admin)  # an organisation with nothing filled in
    async with rollback_maker() as s:
        await legal.save(s, admin.org_id, {**FILLED, "imprint_extra": "USt-IdNr. DE123456789"},
                         actor=admin.email)
        await s.commit()

    async with live_server(app) as base, async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page()
            problems: list[str] = []
            for path in (f"/o/{admin.org_slug}/impressum", f"/o/{admin.org_slug}/datenschutz",
                         f"/o/{admin.org_slug}/kontakt",
                         f"/o/{admin.org_slug}/datenschutz?lang=en",
                         f"/o/{empty.org_slug}/datenschutz", "/gibt-es-nicht"):
                await _check(page, base + path, problems)
            error = await page.goto(f"{base}/gibt-es-nicht")
            assert error is not None and error.status == 404
            assert await page.locator("h1").inner_text() == "Seite nicht gefunden"

            # The admin's form and a refused save (its error summary) for a signed-in admin.
            signed_in = await browser.new_context()
            await signed_in.add_cookies([{"name": SESSION_COOKIE, "value": admin.token,
                                          "url": base}])
            admin_page = await signed_in.new_page()
            await _check(admin_page, f"{base}/app/orgs/{admin.org_slug}/rechtliches", problems)
            await admin_page.fill("#dpo_email", "keine-adresse")
            await admin_page.click("button[type=submit]")
            assert await admin_page.locator(".error-summary").count() == 1
            assert await admin_page.input_value("#dpo_email") == "keine-adresse"
            problems += [f"refused form: {v}" for v in await serious_violations(admin_page)]
            assert problems == []
        finally:
            await browser.close()
