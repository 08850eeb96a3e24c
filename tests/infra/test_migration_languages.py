"""Migration 0019_languages: the language columns take `de-x-ls`, stakeholders accept the six
codes (and nothing else); the downgrade maps the new languages back to German."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.support.scratch_db import scratch_database

INSERT = ("INSERT INTO stakeholders (id, organisation_id, kind, name, email, group_key, "
          "reach_tier, tags, language) VALUES (gen_random_uuid(), gen_random_uuid(), "
          "'person', 'P', :email, 'g', 1, '{}', :lang)")


async def test_upgrade_takes_the_six_languages_and_downgrade_falls_back(pg_url):
    async with scratch_database(pg_url, "0016_org_legal") as scratch:
        engine = scratch.engine
        await scratch.upgrade("0019_languages")
        async with engine.begin() as conn:
            await conn.execute(text("SET session_replication_role = replica"))
            for lang in ("de", "en", "tr", "ar", "uk", "de-x-ls"):
                await conn.execute(text(INSERT), {"email": f"{lang}@example.org",
                                                  "lang": lang})
        with pytest.raises(DBAPIError, match="ck_stakeholders_language"):
            async with engine.begin() as conn:
                await conn.execute(text("SET session_replication_role = replica"))
                await conn.execute(text(INSERT), {"email": "fr@example.org", "lang": "fr"})
        await asyncio.to_thread(command.downgrade, scratch.config, "0016_org_legal")
        async with engine.connect() as conn:
            langs = sorted((await conn.execute(text(
                "SELECT language FROM stakeholders"))).scalars())
        assert langs == ["de", "de", "de", "de", "de", "en"]
