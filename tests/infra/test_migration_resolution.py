"""Migration 0008_resolution: up from 0005_groups_legal_basis, down again and up once more on a
scratch database; the tables match the models (every model column exists)."""

from __future__ import annotations

import asyncio
import uuid

from alembic import command
from sqlalchemy import inspect, make_url, text

from infra.db import create_engine
from infra.migrate import alembic_config
from services.models.resolution import ResolutionDraft, ResolutionFile, ResolutionVersion

TABLES = {m.__tablename__: m for m in (ResolutionDraft, ResolutionVersion, ResolutionFile)}


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
        await asyncio.to_thread(command.upgrade, cfg, "0008_resolution")

        def columns(sync_conn):  # type: ignore[no-untyped-def]
            insp = inspect(sync_conn)
            return {t: {c["name"] for c in insp.get_columns(t)} for t in insp.get_table_names()}

        async with engine.connect() as conn:
            found = await conn.run_sync(columns)
        for table, model in TABLES.items():
            assert {c.name for c in model.__table__.columns} == found[table], table
        await asyncio.to_thread(command.downgrade, cfg, "0005_groups_legal_basis")
        async with engine.connect() as conn:
            found = await conn.run_sync(columns)
        assert not set(TABLES) & set(found)
        await asyncio.to_thread(command.upgrade, cfg, "0008_resolution")
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await admin.dispose()
