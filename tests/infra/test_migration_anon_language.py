"""Migration 0005_anon_answers erases the language of stored anonymous responses (issue 8) and
keeps that of identified ones; run on a scratch database of the test server."""

from __future__ import annotations

import asyncio
import uuid

from alembic import command
from sqlalchemy import text

from tests.support.scratch_db import scratch_database


async def test_upgrade_erases_the_language_of_anonymous_responses(pg_url):
    async with scratch_database(pg_url, "0004_surveys") as scratch:
        engine = scratch.engine
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
        await scratch.upgrade("0005_anon_answers")
        async with engine.connect() as conn:
            rows = dict((await conn.execute(text(
                "SELECT survey_id, language FROM survey_responses"))).all())
        assert rows == {anon: None, ident: "tr"}
        await asyncio.to_thread(command.downgrade, scratch.config, "0004_surveys")
