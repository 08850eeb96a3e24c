"""/docs works without internet: Swagger UI's page names only this server's addresses, and
every script, stylesheet and icon it names loads from here (issue 13)."""

from __future__ import annotations

import re
from pathlib import Path

import swagger_ui_bundle
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


async def test_the_served_swagger_ui_can_show_the_openapi_31_document(client: AsyncClient) -> None:
    # Swagger UI below 5 answers an OpenAPI 3.1 document (FastAPI's) with "Unable to render
    # this definition": the page would load and still show no endpoint.
    spec = (await client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    version = Path(swagger_ui_bundle.swagger_ui_path).name.removeprefix("swagger-ui-")
    assert int(version.split(".")[0]) >= 5, version
