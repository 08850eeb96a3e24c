"""`mitwirken templates upload` and `validate --kind survey`: the same checks as the API, each
error naming its path, against the real database."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from composition.cli import app as cli
from services.models.template import OrgTemplate
from tests.composition.test_seed_and_cli import _cli

ROOT = Path(__file__).parents[2] / "services" / "templates"


def test_validate_survey_templates(tmp_path):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    files = sorted(str(p) for p in (ROOT / "surveys").glob("*.yaml"))
    ok = runner.invoke(cli, ["templates", "validate", "--kind", "survey", *files])
    assert ok.exit_code == 0, ok.output
    assert ok.output.count("gültig") == len(files) == 7
    bad = tmp_path / "kaputt.yaml"
    bad.write_text("key: kaputt\ntitle: K\nquestions:\n  - {id: a, kind: single, text: A}\n")
    result = runner.invoke(cli, ["templates", "validate", "--kind", "survey", str(bad)])
    assert result.exit_code == 1
    assert "questions[0] (a): mindestens zwei Antwortmöglichkeiten nötig" in result.output


@pytest.mark.e2e  # runs the CLI as a subprocess (a fresh interpreter per call)
async def test_upload_from_the_cli(pg_url, committed_maker, tmp_path):  # type: ignore[no-untyped-def]
    slug = f"cli-{uuid.uuid4().hex[:8]}"
    assert _cli(pg_url, "orgs", "create", slug, "--name", "Stadt CLI").returncode == 0
    data = yaml.safe_load((ROOT / "processes" / "vielfaltsbuendnis.yaml").read_text())
    data.update(key=f"cli-{slug}", derived_from="vielfaltsbuendnis")
    data["surveys"][0]["survey"] = "gibt-es-nicht"
    path = tmp_path / "eigene.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))

    bad = _cli(pg_url, "templates", "upload", "--org", slug, str(path))
    assert bad.returncode == 1, bad.stderr
    assert "surveys[0] (partnerbefragung).survey: es gibt keine Umfragevorlage" in bad.stderr

    data["surveys"][0]["survey"] = "vielfaltsbuendnis-partnerbefragung"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    first = _cli(pg_url, "templates", "upload", "--org", slug, str(path))
    assert first.returncode == 0, first.stderr
    assert f"cli-{slug} v1 für {slug} gespeichert" in first.stdout
    again = _cli(pg_url, "templates", "upload", "--org", slug, str(path))
    assert again.returncode == 0 and "unverändert" in again.stdout
    neither = _cli(pg_url, "templates", "upload", str(path))
    assert neither.returncode == 2
    no_org = _cli(pg_url, "templates", "upload", "--org", "gibt-es-nicht", str(path))
    assert no_org.returncode == 1

    async with committed_maker() as s:
        rows = (await s.scalars(select(OrgTemplate).where(
            OrgTemplate.key == f"cli-{slug}"))).all()
    assert [(r.version, r.created_by, r.derived_from) for r in rows] == [
        (1, "cli", "vielfaltsbuendnis")]
    assert rows[0].organisation_id is not None
