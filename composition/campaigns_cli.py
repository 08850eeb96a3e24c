"""`mitwirken campaigns ...`: watch a campaign's progress from the terminal (rich progress bar).

Reads PostgreSQL directly (MITWIRKEN_DATABASE_URL), the same live figures the API serves.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

app = typer.Typer(help="Einladungskampagnen beobachten.", no_args_is_help=True)

STATUS = {"draft": "Entwurf", "running": "läuft", "closed": "abgeschlossen",
          "failed": "fehlgeschlagen"}


def _figures(out) -> str:  # type: ignore[no-untyped-def]
    status = STATUS.get(out.status, out.status)
    return (f"unbestätigt {out.unconfirmed} · "
            f"fehlgeschlagen {out.failed} · geantwortet {out.responded} · "
            f"abgesagt {out.declined} · erinnert {out.reminded} · {status}")


async def _watch(url: str, campaign_id: uuid.UUID, interval: float, follow: bool,
                 console: Console) -> int:
    from infra.db import create_engine, create_sessionmaker
    from services.campaigns import service
    from services.errors import NotFound

    engine = create_engine(url, pool_size=1)
    maker = create_sessionmaker(engine)
    try:
        async with maker() as session:
            try:
                campaign = await service.get_campaign(session, campaign_id)
            except NotFound:
                console.print(f"[red]Kampagne {campaign_id} nicht gefunden.[/red]")
                return 1
        title = campaign.title or ("Befragung" if campaign.kind == "survey" else "Veranstaltung")
        console.print(f"Kampagne „{title}“ ({campaign_id})")
        progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(bar_width=30),
                            MofNCompleteColumn(), TextColumn("{task.percentage:>5.1f} %"),
                            TimeElapsedColumn())
        task = progress.add_task("Versand", total=None)
        figures = Text("")
        # The counters go on their own line so a narrow terminal never squeezes the bar.
        with Live(Group(progress, figures), console=console, refresh_per_second=4):
            while True:
                async with maker() as session:
                    campaign = await service.get_campaign(session, campaign_id)
                    out = await service.campaign_out(session, campaign)
                done = out.processed
                progress.update(task, total=out.total or None, completed=done)
                figures.plain = _figures(out)
                finished_sending = out.total > 0 and done >= out.total and not out.pending
                if out.status in ("closed", "failed") or (finished_sending and not follow):
                    break
                await asyncio.sleep(interval)
        console.print(f"{out.sent} von {out.total} Einladungen versendet; {_figures(out)}.")
        return 0 if out.status != "failed" else 1
    finally:
        await engine.dispose()


@app.command()
def watch(
    campaign_id: Annotated[uuid.UUID, typer.Argument(help="ID der Kampagne")],
    interval: Annotated[float, typer.Option(help="Sekunden zwischen zwei Abfragen")] = 1.0,
    follow: Annotated[bool, typer.Option(
        "--follow", help="Bis zum Abschluss der Kampagne beobachten, nicht nur den Versand")]
    = False,
) -> None:
    """Den Versand einer Kampagne live verfolgen (Fortschrittsbalken)."""
    from composition.cli import require_database_url

    code = asyncio.run(_watch(require_database_url(), campaign_id, interval, follow, Console()))
    raise typer.Exit(code)
