"""Run Alembic migrations programmatically (used by the CLI, the dev stack and tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncConnection

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(url: str) -> None:
    """Bring the database at `url` to every head (domains add branches off the foundation)."""
    command.upgrade(alembic_config(url), "heads")


async def upgrade_async(url: str) -> None:
    await asyncio.to_thread(upgrade, url)


async def upgrade_connection(connection: AsyncConnection) -> None:
    def _go(sync_conn: object) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, "heads")

    await connection.run_sync(_go)
