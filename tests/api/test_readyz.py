"""/readyz answers 503 naming what is down while PostgreSQL or Temporal really is down (the
service stopped), and 200 once it is back — with a PostgreSQL and a Temporal dev server of
this test's own that it stops and restarts."""

from __future__ import annotations

import asyncio
import time

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event

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


@pytest.mark.e2e  # starts, stops and restarts a PostgreSQL and a Temporal server of its own
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


@pytest.fixture
async def busy_loop_app(settings, pg_url, time_skipping_env):  # type: ignore[no-untyped-def]
    """The app with both dependencies up (its own connection pool, as in production), and a
    way to hold this process's event loop for 3.5 s at the moment a check's query or RPC is
    under way — as a CPU-heavy request (password hashing, a big spreadsheet) does under load."""
    engine = create_engine(pg_url, pool_size=2)
    app = create_app(settings, sessionmaker=create_sessionmaker(engine))
    app.state.temporal.client = time_skipping_env.client
    health = time_skipping_env.client.service_client.health_service
    real_check = health.check
    busy = {"db": 0, "temporal": 0}

    async def slow_health_check(*args, **kwargs):  # type: ignore[no-untyped-def]
        call = asyncio.ensure_future(real_check(*args, **kwargs))
        await asyncio.sleep(0)  # the RPC is sent
        if busy["temporal"]:
            busy["temporal"] -= 1
            time.sleep(3.5)  # the stalled event loop is what this tests, not a wait
        return await call

    def slow_select(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.strip().lower() == "select 1" and busy["db"]:
            busy["db"] -= 1
            time.sleep(3.5)  # the stalled event loop is what this tests, not a wait

    health.check = slow_health_check
    event.listen(engine.sync_engine, "before_cursor_execute", slow_select)
    try:
        yield app, busy
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", slow_select)
        health.check = real_check
        await engine.dispose()


@pytest.mark.slow  # each blocks the loop for 3.5 s: that stall is what it tests
@pytest.mark.parametrize("dependency", ["temporal", "db"])
async def test_readyz_is_not_fooled_by_a_busy_event_loop(busy_loop_app, dependency):  # type: ignore[no-untyped-def]
    """Before the fix one check with a 3 s timeout said "down" whenever the loop was held
    longer than that, though the answer had long arrived."""
    app, busy = busy_loop_app
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/readyz")).status_code == 200
        busy[dependency] = 1
        started = time.monotonic()
        r = await client.get("/readyz")
        assert r.status_code == 200, r.text
        assert busy[dependency] == 0 and time.monotonic() - started < 8
