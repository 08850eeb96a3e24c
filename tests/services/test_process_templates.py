"""Process templates: the five shipped ones are valid and complete; bad files get errors that
name the path into the file and the problem."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from composition.cli import app as cli
from services.processes.templates import (
    Offset,
    TemplateInvalid,
    build_phases,
    builtin_templates,
    parse_template,
    validate_template,
)

SHIPPED = Path(__file__).parents[2] / "services" / "templates" / "processes"


def weiterstadt() -> dict:
    return yaml.safe_load((SHIPPED / "weiterstadt-vielfaltsstrategie.yaml").read_text())


def test_five_templates_ship_as_package_data():
    assert set(builtin_templates()) == {
        "weiterstadt-vielfaltsstrategie", "weltoffene-kommune-selbstcheck", "bergkamen-for-all",
        "vielfaltsmanager-ausbildung", "vielfaltsbuendnis"}
    for t in builtin_templates().values():
        assert t.version >= 1 and t.phases and t.stakeholder_groups


def test_weiterstadt_in_full_detail():
    t = builtin_templates()["weiterstadt-vielfaltsstrategie"]
    assert [p.key for p in t.phases] == ["planung", "kick-off", "beteiligung-1", "bergfest",
                                         "beteiligung-2", "abschluss", "beschluss"]
    assert [len(p.checklist) for p in t.phases] == [4, 6, 1, 3, 1, 3, 4]
    assert [p.kind for p in t.phases] == ["planning", "event", "participation", "evaluation",
                                          "participation", "event", "resolution"]
    assert [p.key for p in t.phases if p.gate] == ["planung", "bergfest", "abschluss", "beschluss"]
    assert "Ausschreibung der Prozessbegleitung" in t.phases[0].checklist[0].title
    assert "Stadtverordnetenversammlung" in t.phases[6].checklist[3].title
    assert [g.title for g in t.stakeholder_groups] == [
        "Engagierte Bürger*innen", "Verwaltung", "Politik",
        "Zivilgesellschaftliche Gruppen mit politischem Mandat",
        "Zivilgesellschaftliche Gruppen", "Lokale Kooperationspartner",
        "Regionale Kooperationspartner"]
    assert [s.title.split(" – ")[0] for s in t.draft_sections] == [
        "Leitlinien", "Bündnis für Vielfalt", "Vielfaltsmanagement"]
    windows = [(p.planned_start, p.planned_end) for p in build_phases(t, date(2020, 2, 1))]
    assert windows == [
        (date(2020, 2, 1), date(2020, 3, 31)),   # Feb – Mar
        (date(2020, 4, 1), date(2020, 4, 30)),   # Apr
        (date(2020, 4, 1), date(2020, 6, 30)),   # Apr – Jun
        (date(2020, 6, 1), date(2020, 7, 31)),   # Jun – Jul
        (date(2020, 7, 1), date(2020, 11, 30)),  # Jul – Nov
        (date(2020, 11, 1), date(2020, 11, 30)),  # Nov
        (date(2020, 11, 1), date(2020, 12, 31)),  # Nov – Dec
    ]
    assert any(s.key == "bedarfe-und-wuensche" and s.phase == "kick-off" for s in t.surveys)


def test_offsets():
    assert Offset.parse("P1M14D") == Offset(1, 14)
    assert Offset.parse("P2W") == Offset(0, 14)
    assert Offset(1, 0).add_to(date(2027, 1, 31)) == date(2027, 2, 28)
    assert Offset(12, 0).add_to(date(2027, 2, 1)) == date(2028, 2, 1)
    with pytest.raises(ValueError):
        Offset.parse("2 Monate")


def _issues(data: dict) -> list[str]:
    with pytest.raises(TemplateInvalid) as info:
        validate_template(data)
    return [str(i) for i in info.value.issues]


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d["phases"][3]["gate"].update(rule="quorum"),
     "phases[3] (bergfest).gate.quorum: die Regel quorum braucht eine Anzahl (quorum: n)"),
    (lambda d: d["phases"][3]["gate"].update(rule="einstimmig"),
     "phases[3] (bergfest).gate.rule: ungültiger Wert"),
    (lambda d: d["phases"][1].pop("title"), "phases[1] (kick-off).title: Pflichtfeld fehlt"),
    (lambda d: d["phases"][0]["checklist"][2].update(farbe="rot"),
     "phases[0] (planung).checklist[2] (steuerungsgruppe).farbe: unbekanntes Feld"),
    (lambda d: d["phases"][2]["window"].update(end="P1M"),
     "phases[2] (beteiligung-1).window.end: das Ende muss nach dem Beginn liegen"),
    (lambda d: d["phases"][2]["window"].update(start="April"),
     "phases[2] (beteiligung-1).window.start: 'April' ist keine Dauer"),
    (lambda d: d["phases"][5].update(key="bergfest"),
     "phases[5] (bergfest).key: Schlüssel 'bergfest' kommt doppelt vor"),
    (lambda d: d["surveys"][0].update(phase="kickoff"),
     "surveys[0] (bedarfe-und-wuensche).phase: es gibt keine Phase 'kickoff'"),
    (lambda d: d["surveys"][1].update(survey="beteiligungs-umfrage"),
     "surveys[1] (beteiligung-1-umfrage).survey: es gibt keine Umfragevorlage"),
    (lambda d: d["surveys"][1].pop("survey"),
     "surveys[1] (beteiligung-1-umfrage).survey: Pflichtfeld fehlt"),
    (lambda d: d.update(version=0), "version: muss mindestens 1 sein"),
    (lambda d: d["phases"][0]["gate"].update(deadline_days="bald"),
     "phases[0] (planung).gate.deadline_days: muss eine ganze Zahl sein"),
    (lambda d: d["stakeholder_groups"][1].update(key="Verwaltung"),
     "stakeholder_groups[1] (Verwaltung).key: nur Kleinbuchstaben"),
])
def test_errors_name_the_path(change, expected):  # type: ignore[no-untyped-def]
    data = weiterstadt()
    change(data)
    issues = _issues(data)
    assert any(i.startswith(expected) for i in issues), issues


def test_yaml_syntax_error_names_the_line():
    with pytest.raises(TemplateInvalid) as info:
        parse_template("key: x\nphases: [\n  - a: b\n", source="kaputt.yaml")
    assert "Zeile" in str(info.value) and "kaputt.yaml" in str(info.value)


def test_cli_validate(tmp_path):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    ok = runner.invoke(cli, ["templates", "validate", *map(str, sorted(SHIPPED.glob("*.yaml")))])
    assert ok.exit_code == 0, ok.output
    assert ok.output.count("gültig") == 5
    data = weiterstadt()
    data["phases"][6]["gate"]["rule"] = "quorum"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True))
    result = runner.invoke(cli, ["templates", "validate", str(bad)])
    assert result.exit_code == 1
    assert "phases[6] (beschluss).gate.quorum" in result.output
