"""/docs works without internet: Swagger UI's page names only this server's addresses, and
every script, stylesheet and icon it names loads from here (issue 13)."""

from __future__ import annotations

import re

from httpx import AsyncClient


async def test_docs_reference_no_third_party_url_and_assets_load(client: AsyncClient) -> None:
    r = await client.get("/docs")
    assert r.status_code == 200
    html = r.text
    # Any absolute address (http:, https: or protocol-relative) would be a request elsewhere.
    assert not re.search(r"""(?:https?:)?//[^"'\s]""", html), html
    refs = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    refs += re.findall(r"""url:\s*['"]([^'"]+)['"]""", html)
    assert any(ref.endswith(".js") for ref in refs) and any(ref.endswith(".css") for ref in refs)
    assert "/openapi.json" in refs
    for ref in refs:
        assert ref.startswith("/"), ref
        asset = await client.get(ref)
        assert asset.status_code == 200, ref
        assert asset.content, ref
