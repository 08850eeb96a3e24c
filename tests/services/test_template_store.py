"""The template store below the API: shipped files checked at start-up, the migration that
gives running processes' survey references their survey, resolution order."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from api.app import create_app
from services.processes import templates as process_templates
from services.surveys import templates as survey_templates
from services.template_store.documents import TemplateInvalid
from services.template_store.service import (
    resolve_process_template,
    resolve_survey_template,
    upload_template,
    visible_templates,
)
from tests.support.scratch_db import scratch_database

SHIPPED = Path(__file__).parents[2] / "services" / "templates"



def test_every_shipped_survey_file_is_valid_and_named_by_its_key() -> None:
    found = survey_templates.builtin_survey_templates()
    files = sorted(p.stem for p in (SHIPPED / "surveys").glob("*.yaml"))
    assert sorted(found) == files
    assert {"weiterstadt-beteiligung-1", "weiterstadt-beteiligung-2",
            "vielfaltsbuendnis-partnerbefragung"} <= set(found)
    for key, template in found.items():
        assert template.key == key and template.definition().questions


def test_every_survey_reference_of_a_shipped_process_resolves() -> None:
    surveys = survey_templates.builtin_survey_templates()
    refs = [(t.key, ref.key, ref.survey)
            for t in process_templates.builtin_templates().values() for ref in t.surveys]
    assert len(refs) >= 8
    for process_key, ref_key, survey_key in refs:
        assert survey_key in surveys, (process_key, ref_key, survey_key)
    # No table on the side any more: the templates themselves say which survey they mean.
    assert not hasattr(survey_templates, "ALIASES")


@pytest.fixture
def broken_survey_package(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    package = tmp_path / "kaputte_umfragen"
    package.mkdir()
    (package / "__init__.py").write_text("")
    good = (SHIPPED / "surveys" / "vielfaltsmanager-feedback.yaml").read_text()
    (package / "vielfaltsmanager-feedback.yaml").write_text(
        good.replace("kind: likert", "kind: sternchen", 1))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(survey_templates, "TEMPLATE_PACKAGE", "kaputte_umfragen")
    survey_templates.builtin_survey_templates.cache_clear()
    yield
    survey_templates.builtin_survey_templates.cache_clear()
    sys.modules.pop("kaputte_umfragen", None)


def test_a_broken_shipped_survey_stops_the_start(settings, broken_survey_package):  # type: ignore[no-untyped-def]
    with pytest.raises(TemplateInvalid) as info:
        create_app(settings)
    assert info.value.source == "vielfaltsmanager-feedback.yaml"
    assert [i.path for i in info.value.issues] == ["questions[1] (gesamt).kind"]


async def test_resolution_prefers_own_then_shared_then_shipped(session, make_staff):  # type: ignore[no-untyped-def]
    a = await make_staff()
    b = await make_staff()
    key = "weiterstadt-bedarfe-und-wuensche"
    shipped = (SHIPPED / "surveys" / f"{key}.yaml").read_text()
    assert (await resolve_survey_template(session, a.org_id, key)).title["de"] == (
        "Bedarfe und Wünsche")
    await upload_template(session, None, "survey",
                          shipped.replace("de: Bedarfe und Wünsche", "de: Geteilt", 1),
                          actor="root")
    await upload_template(session, a.org_id, "survey",
                          shipped.replace("de: Bedarfe und Wünsche", "de: Eigen", 1),
                          actor="a")
    assert (await resolve_survey_template(session, a.org_id, key)).title["de"] == "Eigen"
    assert (await resolve_survey_template(session, b.org_id, key)).title["de"] == "Geteilt"
    own = await upload_template(session, a.org_id, "survey",
                                shipped.replace("de: Bedarfe und Wünsche", "de: Eigen 2", 1),
                                actor="a")
    assert own.row.version == 2
    assert (await resolve_survey_template(session, a.org_id, key)).title["de"] == "Eigen 2"
    # The listings show what the key resolves to, once per key for one organisation.
    for org_id, expected in ((a.org_id, ("organisation", 2, "Eigen 2")),
                             (b.org_id, ("platform", 1, "Geteilt"))):
        entries = [e for e in await visible_templates(session, [org_id], "survey")
                   if e.key == key]
        assert [(e.origin, e.version, e.title) for e in entries] == [expected]
    # A process template resolves the same way; the file's own `version` is not the store's.
    process = (SHIPPED / "processes" / "bergkamen-for-all.yaml").read_text()
    await upload_template(session, b.org_id, "process",
                          process.replace("version: 1", "version: 7", 1), actor="b")
    assert (await resolve_process_template(session, b.org_id, "bergkamen-for-all")).version == 1
    assert (await resolve_process_template(session, a.org_id, "bergkamen-for-all")) is (
        process_templates.builtin_templates()["bergkamen-for-all"])


async def test_migration_gives_running_snapshots_their_survey(pg_url):  # type: ignore[no-untyped-def]
    async with scratch_database(pg_url, "0005_groups_legal_basis") as scratch:
        engine = scratch.engine
        snapshots = {
            "old": {"phases": [{"key": "tag-1"}], "surveys": [
                {"key": "feedback-tag-1", "title": "F1", "phase": "tag-1"},
                {"key": "weltoffene-kommune-selbstcheck", "title": "S", "phase": "tag-1"},
                {"key": "feedback-tag-2", "survey": "eigene", "title": "F2", "phase": "tag-1"}]},
            "none": {"phases": [{"key": "a"}], "surveys": []},
        }
        ids = {k: uuid.uuid4() for k in snapshots}
        async with engine.begin() as conn:
            await conn.execute(text("SET session_replication_role = replica"))
            for k, snap in snapshots.items():
                await conn.execute(text(
                    "INSERT INTO processes (id, organisation_id, template_key, template_version,"
                    " title, starts_on, status, template_snapshot, workflow_id, state_seq) "
                    "VALUES (:id, gen_random_uuid(), 't', 1, 't', '2027-01-01', 'running', "
                    "CAST(:snap AS jsonb), :wf, 0)"),
                    {"id": ids[k], "snap": json.dumps(snap), "wf": f"process-{ids[k]}"})
        await scratch.upgrade("0007_org_templates")
        async with engine.connect() as conn:
            rows = dict((await conn.execute(text(
                "SELECT id, template_snapshot FROM processes"))).all())
        assert [(r["key"], r["survey"]) for r in rows[ids["old"]]["surveys"]] == [
            ("feedback-tag-1", "vielfaltsmanager-feedback"),
            ("weltoffene-kommune-selbstcheck", "weltoffene-kommune-selbstcheck"),
            ("feedback-tag-2", "eigene")]
        assert rows[ids["none"]] == snapshots["none"]
        await asyncio.to_thread(command.downgrade, scratch.config, "0005_groups_legal_basis")
