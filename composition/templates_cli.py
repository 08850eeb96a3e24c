"""`mitwirken templates …`: check a template file before it is shipped or uploaded.

(`templates upload`, which needs the database, is registered in composition/cli.py.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from services.processes.templates import TemplateInvalid, builtin_templates, load_template_file
from services.surveys.schemas import pick
from services.surveys.templates import builtin_survey_templates, parse_survey_template

app = typer.Typer(help="Prozess- und Umfragevorlagen prüfen, anzeigen und hochladen.",
                  no_args_is_help=True)


def _summary(path: Path, kind: str) -> str:
    if kind == "survey":
        s = parse_survey_template(path.read_bytes(), source=str(path))
        return f"{s.key}, {len(s.questions)} Fragen"
    t = load_template_file(path)
    gates = sum(1 for p in t.phases if p.gate)
    return (f"{t.key} v{t.version}, {len(t.phases)} Phasen, {gates} Freigaben, "
            f"{len(t.stakeholder_groups)} Gruppen")


@app.command("validate")
def validate(files: Annotated[list[Path], typer.Argument(help="YAML-Dateien", exists=True,
                                                         dir_okay=False)],
             kind: Annotated[str, typer.Option(help="process oder survey")] = "process") -> None:
    """Prüft Vorlagen; jeder Fehler nennt den Pfad in der Datei und das Problem.

    Eine Prozessvorlage darf hier nur mitgelieferte Umfragevorlagen nennen; beim Hochladen
    auch die eigenen der Organisation."""
    if kind not in ("process", "survey"):
        typer.echo("Fehler: --kind ist process oder survey", err=True)
        raise typer.Exit(2)
    failed = False
    for path in files:
        try:
            summary = _summary(path, kind)
        except TemplateInvalid as exc:
            failed = True
            typer.echo(f"{path}: ungültig", err=True)
            for issue in exc.issues:
                typer.echo(f"  {issue}", err=True)
        else:
            typer.echo(f"{path}: gültig – {summary}")
    if failed:
        raise typer.Exit(1)


@app.command("list")
def list_templates() -> None:
    """Zeigt die mitgelieferten Vorlagen."""
    for t in builtin_templates().values():
        typer.echo(f"{t.key:<34} v{t.version}  {len(t.phases)} Phasen  {t.title}")
    for key, s in builtin_survey_templates().items():
        typer.echo(f"{key:<34} Umfrage  {len(s.questions)} Fragen  {pick(s.title, 'de')}")
