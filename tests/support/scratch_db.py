"""A database of its own for a migration test: created empty on the test server, migrated to
the revision the test starts from, dropped afterwards."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from alembic import command
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from infra.db import create_engine
from infra.migrate import alembic_config


@dataclass
class Scratch:
    engine: AsyncEngine
    config: Any  # the alembic config pointing at the scratch database

    async def upgrade(self, revision: str) -> None:
        await asyncio.to_thread(command.upgrade, self.config, revision)


@asynccontextmanager
async def scratch_database(pg_url: str, revision: str) -> AsyncIterator[Scratch]:
    name = f"mig_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url)
    async with admin.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        scratch = Scratch(engine, alembic_config(url.replace("%", "%%")))  # configparser
        await scratch.upgrade(revision)
        yield scratch
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await admin.dispose()
