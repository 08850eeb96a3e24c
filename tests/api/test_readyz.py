"""/readyz answers 503 naming what is down while PostgreSQL or Temporal really is down (the
service stopped), and 200 once it is back — with a PostgreSQL and a Temporal dev server of
this test's own that it stops and restarts."""

from __future__ import annotations

import asyncio
import time

import pytest
from httpx import ASGITransport, AsyncClient

from api.app import create_app
from infra.db import create_engine, create_sessionmaker
from infra.devservices import EmbeddedPostgres, free_port, temporal_dev_server, wait_for_temporal


@pytest.fixture
async def services(tmp_path):
    pg = EmbeddedPostgres(tmp_path / "pg")
    port = free_port()
    temporal = temporal_dev_server(tmp_path / "temporal.db", port=port, ui_port=None,
                                   log=tmp_path / "temporal.log")
    temporal.start()
    url = await asyncio.to_thread(pg.start)
    await asyncio.to_thread(wait_for_temporal, f"127.0.0.1:{port}", temporal)
    yield pg, temporal, url, port
    temporal.stop()
    await asyncio.to_thread(pg.stop)


async def _ready(client, expect: int, timeout: float = 30) -> dict:
    """Poll until /readyz answers `expect` (restarted services need a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        r = await client.get("/readyz")
        if r.status_code == expect or time.monotonic() > deadline:
            assert r.status_code == expect, r.text
            return r.json()
        await asyncio.sleep(0.3)


async def test_readyz_follows_postgres_and_temporal(services, settings):
    pg, temporal, url, port = services
    own = settings.model_copy(update={"database_url": url,
                                      "temporal_address": f"127.0.0.1:{port}"})
    engine = create_engine(url, pool_size=2)
    app = create_app(own, sessionmaker=create_sessionmaker(engine))
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
            body = await _ready(client, 200)
            assert body == {"status": "ready", "checks": {"database": "ok", "temporal": "ok"}}

            await asyncio.to_thread(pg.stop)
            down = (await _ready(client, 503))["error"]
            assert down["code"] == "not_ready"
            assert down["details"] == {"database": "down", "temporal": "ok"}
            assert "database" in down["message"] and "temporal" not in down["message"]
            # Liveness does not depend on the database.
            assert (await client.get("/healthz")).status_code == 200

            await asyncio.to_thread(pg.start)
            await _ready(client, 200)

            temporal.stop()
            down = (await _ready(client, 503))["error"]
            assert down["details"] == {"database": "ok", "temporal": "down"}
            assert "temporal" in down["message"]

            temporal.start()  # same port, same SQLite file
            await _ready(client, 200, timeout=60)
    finally:
        await engine.dispose()


async def test_readyz_503_when_temporal_was_never_reachable(client):
    # The shared test settings point Temporal at a closed port.
    r = await client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["error"]["details"] == {"database": "ok", "temporal": "down"}
