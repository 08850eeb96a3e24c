"""Migration 0016_org_legal: up from 0013_staff_accounts, down again and up once more on a
scratch database; the table matches the model (every model column exists)."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import inspect

from services.models.legal import OrganisationLegal
from tests.support.scratch_db import scratch_database


async def test_up_down_up(pg_url):  # type: ignore[no-untyped-def]
    async with scratch_database(pg_url, "0013_staff_accounts") as scratch:
        def tables(sync_conn):  # type: ignore[no-untyped-def]
            insp = inspect(sync_conn)
            return {t: {c["name"] for c in insp.get_columns(t)} for t in insp.get_table_names()}

        async with scratch.engine.connect() as conn:
            assert "organisation_legal" not in await conn.run_sync(tables)
        await scratch.upgrade("0016_org_legal")
        async with scratch.engine.connect() as conn:
            found = await conn.run_sync(tables)
        assert found["organisation_legal"] == {c.name for c in OrganisationLegal.__table__.columns}
        await asyncio.to_thread(command.downgrade, scratch.config, "0013_staff_accounts")
        async with scratch.engine.connect() as conn:
            assert "organisation_legal" not in await conn.run_sync(tables)
        await scratch.upgrade("0016_org_legal")
