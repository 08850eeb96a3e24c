"""Migration 0022_draft_retention: up from 0021_assisted_entry on a scratch database with a
draft saved before it (it keeps link_id NULL), the column, foreign key and indexes matching the
model; down (the column gone, the draft kept) and up again."""

from __future__ import annotations

import asyncio
import uuid

from alembic import command
from sqlalchemy import inspect, text

from services.models.survey import SurveyDraft
from tests.support.scratch_db import scratch_database


def _shape(sync_conn):  # type: ignore[no-untyped-def]
    insp = inspect(sync_conn)
    return ({c["name"] for c in insp.get_columns("survey_drafts")},
            {i["name"] for i in insp.get_indexes("survey_drafts")},
            {(f["referred_table"], f["options"].get("ondelete"))
             for f in insp.get_foreign_keys("survey_drafts")})


async def test_up_down_up(pg_url):  # type: ignore[no-untyped-def]
    async with scratch_database(pg_url, "0021_assisted_entry") as scratch:
        engine = scratch.engine
        survey = uuid.uuid4()
        async with engine.begin() as conn:
            await conn.execute(text("SET session_replication_role = replica"))
            await conn.execute(text(
                "INSERT INTO survey_drafts (token_hash, survey_id, answers) "
                "VALUES ('old', :s, '{}')"), {"s": survey})
        await scratch.upgrade("0022_draft_retention")
        async with engine.connect() as conn:
            columns, indexes, fks = await conn.run_sync(_shape)
            link = await conn.scalar(text(
                "SELECT link_id FROM survey_drafts WHERE token_hash = 'old'"))
        assert columns == {c.name for c in SurveyDraft.__table__.columns}
        assert {"ix_survey_drafts_link_id", "ix_survey_drafts_saved_on"} <= indexes
        assert {i.name for i in SurveyDraft.__table__.indexes} <= indexes
        assert ("multiplier_links", "CASCADE") in fks
        assert link is None  # saved before: cannot be told apart, expires like any other

        await asyncio.to_thread(command.downgrade, scratch.config, "0021_assisted_entry")
        async with engine.connect() as conn:
            columns, indexes, fks = await conn.run_sync(_shape)
            kept = await conn.scalar(text("SELECT count(*) FROM survey_drafts"))
        assert "link_id" not in columns and "ix_survey_drafts_saved_on" not in indexes
        assert {f[0] for f in fks} == {"surveys"} and kept == 1
        await scratch.upgrade("0022_draft_retention")
