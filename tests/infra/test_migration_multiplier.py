"""Migration 0020_multiplier_links: up from 0019_languages, down again and up once more on a
scratch database; the table matches the model (columns and constraint names)."""

from __future__ import annotations

import asyncio
import uuid

from alembic import command
from sqlalchemy import inspect, make_url, text

from infra.db import create_engine
from infra.migrate import alembic_config
from services.models.survey import MultiplierLink


async def test_up_down_up(pg_url):  # type: ignore[no-untyped-def]
    name = f"mig_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url)
    async with admin.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    scratch_url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(scratch_url)
    try:
        cfg = alembic_config(scratch_url.replace("%", "%%"))
        await asyncio.to_thread(command.upgrade, cfg, "0020_multiplier_links")

        def shape(sync_conn):  # type: ignore[no-untyped-def]
            insp = inspect(sync_conn)
            if "multiplier_links" not in insp.get_table_names():
                return None
            return ({c["name"] for c in insp.get_columns("multiplier_links")},
                    {c["name"] for c in insp.get_check_constraints("multiplier_links")},
                    {u["name"] for u in insp.get_unique_constraints("multiplier_links")})

        async with engine.connect() as conn:
            columns, checks, uniques = await conn.run_sync(shape)
        table = MultiplierLink.__table__
        # What 0023_event_multiplier_links added later (tests/infra/test_migration_event_links.py).
        later_columns, later_checks = {"meeting_id"}, {"ck_multiplier_links_one_target"}
        assert {c.name for c in table.columns} - later_columns == columns
        assert checks == {c.name for c in table.constraints
                          if c.__class__.__name__ == "CheckConstraint"} - later_checks
        assert uniques == {"uq_multiplier_links_secret_hash", "uq_multiplier_links_results_hash"}
        await asyncio.to_thread(command.downgrade, cfg, "0019_languages")
        async with engine.connect() as conn:
            assert await conn.run_sync(shape) is None
        await asyncio.to_thread(command.upgrade, cfg, "0020_multiplier_links")
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await admin.dispose()
