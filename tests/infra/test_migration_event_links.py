"""Migration 0023_event_multiplier_links: up from 0022_draft_retention on a scratch database,
existing registrations getting their channel (personal link, public page, walk-in), the
tables matching the models (columns and check constraints), a link with both or no target
refused; down (event links removed, survey links kept) and up again."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from services.models.meeting import MeetingRegistration, MeetingSelfDescription
from services.models.survey import MultiplierLink
from tests.support.scratch_db import scratch_database

MODELS = (MultiplierLink, MeetingRegistration, MeetingSelfDescription)


def _shape(sync_conn):  # type: ignore[no-untyped-def]
    insp = inspect(sync_conn)
    return {m.__tablename__: ({c["name"] for c in insp.get_columns(m.__tablename__)},
                              {c["name"] for c in insp.get_check_constraints(m.__tablename__)})
            for m in MODELS}


def _model(model):  # type: ignore[no-untyped-def]
    table = model.__table__
    return ({c.name for c in table.columns},
            {c.name for c in table.constraints if c.__class__.__name__ == "CheckConstraint"})


async def _registration(conn, meeting_id, *, invitation=False, walk_in=False):  # type: ignore[no-untyped-def]
    reg_id = uuid.uuid4()
    await conn.execute(text(
        "INSERT INTO meeting_registrations (id, meeting_id, organisation_id, invitation_id, "
        "stakeholder_id, name, email, language, status, companions, needs, walk_in, "
        "checkin_code) VALUES (:id, :m, gen_random_uuid(), :inv, :sh, 'A', :mail, 'de', "
        "'registered', 0, '{}', :walk, :code)"),
        {"id": reg_id, "m": meeting_id, "inv": uuid.uuid4() if invitation else None,
         "sh": uuid.uuid4() if invitation else None, "walk": walk_in,
         "mail": None if walk_in else f"{reg_id.hex[:8]}@example.org",
         "code": reg_id.hex[:8].upper()})
    return reg_id


async def _link(conn, *, survey=None, meeting=None):  # type: ignore[no-untyped-def]
    await conn.execute(text(
        "INSERT INTO multiplier_links (id, organisation_id, survey_id, meeting_id, label, "
        "group_key, reach_tier, secret_hash, results_hash) VALUES (gen_random_uuid(), "
        "gen_random_uuid(), :s, :m, 'Verein', 'jugend', 2, md5(random()::text), "
        "md5(random()::text))"), {"s": survey, "m": meeting})


async def test_up_down_up(pg_url):  # type: ignore[no-untyped-def]
    async with scratch_database(pg_url, "0022_draft_retention") as scratch:
        engine = scratch.engine
        meeting, survey = uuid.uuid4(), uuid.uuid4()
        async with engine.begin() as conn:
            await conn.execute(text("SET session_replication_role = replica"))
            personal = await _registration(conn, meeting, invitation=True)
            public = await _registration(conn, meeting)
            door = await _registration(conn, meeting, walk_in=True)
            await conn.execute(text(
                "INSERT INTO multiplier_links (id, organisation_id, survey_id, label, group_key, "
                "reach_tier, secret_hash, results_hash) VALUES (gen_random_uuid(), "
                "gen_random_uuid(), :s, 'Verein', 'jugend', 2, 'a', 'b')"), {"s": survey})
        await scratch.upgrade("0023_event_multiplier_links")
        async with engine.connect() as conn:
            channels = dict((await conn.execute(text(
                "SELECT id, channel FROM meeting_registrations"))).all())
            shape = await conn.run_sync(_shape)
        assert channels == {personal: "invitation", public: "public", door: "walk_in"}
        for model in MODELS:
            assert shape[model.__tablename__] == _model(model), model.__tablename__

        async with engine.begin() as conn:
            await conn.execute(text("SET session_replication_role = replica"))
            await _link(conn, meeting=meeting)
        for both_or_none in ({"survey": survey, "meeting": meeting}, {}):
            with pytest.raises(IntegrityError):
                async with engine.begin() as conn:
                    await conn.execute(text("SET session_replication_role = replica"))
                    await _link(conn, **both_or_none)
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(text(
                    "UPDATE meeting_registrations SET channel = 'telefon' WHERE id = :id"),
                    {"id": public})

        await asyncio.to_thread(command.downgrade, scratch.config, "0022_draft_retention")
        async with engine.connect() as conn:
            targets = (await conn.scalars(text("SELECT survey_id FROM multiplier_links"))).all()
            columns = await conn.run_sync(lambda c: {
                col["name"] for col in inspect(c).get_columns("meeting_registrations")})
        assert targets == [survey]  # the event's link went with its column
        assert not {"channel", "multiplier_link_id", "group_key", "reach_tier"} & columns
        await scratch.upgrade("0023_event_multiplier_links")
