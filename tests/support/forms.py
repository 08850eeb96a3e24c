"""Posting the server-rendered forms as a browser does: with the form's CSRF token."""

from __future__ import annotations

import re

from httpx import AsyncClient

_TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def token_in(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


async def form_token(web: AsyncClient, path: str) -> str:
    """Open a page (which also sets the pre-session cookie) and read its form token."""
    page = await web.get(path)
    return token_in(page.text)
