"""`mitwirken templates …`: check a process template file before it is shipped or used."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from services.processes.templates import TemplateInvalid, builtin_templates, load_template_file

app = typer.Typer(help="Prozessvorlagen prüfen und anzeigen.", no_args_is_help=True)


@app.command("validate")
def validate(files: Annotated[list[Path], typer.Argument(help="YAML-Dateien", exists=True,
                                                         dir_okay=False)]) -> None:
    """Prüft Vorlagen; jeder Fehler nennt den Pfad in der Datei und das Problem."""
    failed = False
    for path in files:
        try:
            t = load_template_file(path)
        except TemplateInvalid as exc:
            failed = True
            typer.echo(f"{path}: ungültig", err=True)
            for issue in exc.issues:
                typer.echo(f"  {issue}", err=True)
        else:
            gates = sum(1 for p in t.phases if p.gate)
            typer.echo(f"{path}: gültig – {t.key} v{t.version}, {len(t.phases)} Phasen, "
                       f"{gates} Freigaben, {len(t.stakeholder_groups)} Gruppen")
    if failed:
        raise typer.Exit(1)


@app.command("list")
def list_templates() -> None:
    """Zeigt die mitgelieferten Vorlagen."""
    for t in builtin_templates().values():
        typer.echo(f"{t.key:<34} v{t.version}  {len(t.phases)} Phasen  {t.title}")
