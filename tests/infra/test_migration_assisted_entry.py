"""Migration 0021_assisted_entry: up from 0020_multiplier_links on a scratch database, the
`assisted` channel becoming `interview`, the new tables and column matching the models, the
role column taking `interviewer`; down (both staff channels back to `assisted`) and up again."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from services.models.survey import SurveyEntryCount, SurveyFormNumber, SurveyResponseEntry
from tests.support.scratch_db import scratch_database

TABLES = (SurveyEntryCount, SurveyFormNumber, SurveyResponseEntry)


def _shape(sync_conn):  # type: ignore[no-untyped-def]
    insp = inspect(sync_conn)
    names = set(insp.get_table_names())
    return ({t.__tablename__: {c["name"] for c in insp.get_columns(t.__tablename__)}
             for t in TABLES if t.__tablename__ in names},
            {c["name"] for c in insp.get_columns("invitations")},
            {u["name"] for u in insp.get_unique_constraints("invitations")})


async def _response(conn, survey_id: uuid.UUID, channel: str) -> None:
    await conn.execute(text(
        "INSERT INTO survey_responses (id, survey_id, group_key, reach_tier, channel) "
        "VALUES (gen_random_uuid(), :s, 'buerger', 1, :ch)"), {"s": survey_id, "ch": channel})


async def test_up_down_up(pg_url):  # type: ignore[no-untyped-def]
    async with scratch_database(pg_url, "0020_multiplier_links") as scratch:
        engine = scratch.engine
        survey = uuid.uuid4()
        async with engine.begin() as conn:
            await conn.execute(text("SET session_replication_role = replica"))
            await conn.execute(text(
                "INSERT INTO surveys (id, organisation_id, process_id, title, introduction, "
                "blocks, anonymity, allow_edits, lineage_id, version, revision) VALUES "
                "(:id, gen_random_uuid(), gen_random_uuid(), '{}', '{}', '[]', 'anonymous', "
                "false, gen_random_uuid(), 1, 1)"), {"id": survey})
            for channel in ("assisted", "invitation"):
                await _response(conn, survey, channel)
        await scratch.upgrade("0021_assisted_entry")
        async with engine.connect() as conn:
            channels = sorted((await conn.scalars(text(
                "SELECT channel FROM survey_responses"))).all())
            tables, invitation_columns, uniques = await conn.run_sync(_shape)
        assert channels == ["interview", "invitation"]
        for model in TABLES:
            assert tables[model.__tablename__] == {c.name for c in model.__table__.columns}
        assert "paper_code" in invitation_columns and "uq_invitations_paper_code" in uniques
        async with engine.begin() as conn:
            await conn.execute(text("SET session_replication_role = replica"))
            await _response(conn, survey, "paper")
            # The role column has no database list of roles: the new one is stored as is.
            await conn.execute(text(
                "INSERT INTO memberships (id, user_id, organisation_id, role) VALUES "
                "(gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'interviewer')"))
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await _response(conn, survey, "assisted")

        await asyncio.to_thread(command.downgrade, scratch.config, "0020_multiplier_links")
        async with engine.connect() as conn:
            channels = sorted((await conn.scalars(text(
                "SELECT channel FROM survey_responses"))).all())
            tables, invitation_columns, _ = await conn.run_sync(_shape)
            roles = (await conn.scalars(text("SELECT role FROM memberships"))).all()
        assert channels == ["assisted", "assisted", "invitation"]
        assert tables == {} and "paper_code" not in invitation_columns and roles == []
        await scratch.upgrade("0021_assisted_entry")
