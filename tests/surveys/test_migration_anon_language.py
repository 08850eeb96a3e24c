"""Migration 0005_anon_answers erases the language of stored anonymous responses (issue 8) and
keeps that of identified ones; run on a scratch database of the test server."""

from __future__ import annotations

import asyncio
import uuid

from alembic import command
from sqlalchemy import make_url, text

from infra.db import create_engine
from infra.migrate import alembic_config


async def test_upgrade_erases_the_language_of_anonymous_responses(pg_url):
    name = f"mig_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url)
    async with admin.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    scratch_url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(scratch_url)
    try:
        cfg = alembic_config(scratch_url.replace("%", "%%"))  # configparser interpolation
        await asyncio.to_thread(command.upgrade, cfg, "0004_surveys")
        anon, ident = uuid.uuid4(), uuid.uuid4()
        async with engine.begin() as conn:
            # Foreign keys are not what this test is about: no org, process and so on.
            await conn.execute(text("SET session_replication_role = replica"))
            for sid, mode in ((anon, "anonymous"), (ident, "identified")):
                await conn.execute(text(
                    "INSERT INTO surveys (id, organisation_id, process_id, title, introduction, "
                    "blocks, anonymity, allow_edits, lineage_id, version, revision) VALUES "
                    "(:id, gen_random_uuid(), gen_random_uuid(), '{}', '{}', '[]', :mode, "
                    "false, gen_random_uuid(), 1, 1)"), {"id": sid, "mode": mode})
                await conn.execute(text(
                    "INSERT INTO survey_responses (id, survey_id, group_key, reach_tier, "
                    "channel, language) VALUES (gen_random_uuid(), :s, 'buerger', 1, "
                    "'invitation', 'tr')"), {"s": sid})
        await asyncio.to_thread(command.upgrade, cfg, "0005_anon_answers")
        async with engine.connect() as conn:
            rows = dict((await conn.execute(text(
                "SELECT survey_id, language FROM survey_responses"))).all())
        assert rows == {anon: None, ident: "tr"}
        await asyncio.to_thread(command.downgrade, cfg, "0004_surveys")
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await admin.dispose()
