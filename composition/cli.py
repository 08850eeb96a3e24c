"""The `mitwirken` command line (typer). Also runnable as `python -m composition.cli`.

Other domains add their command groups at the marked spot at the end of this file.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from infra.config import Settings, get_settings

T = TypeVar("T")

app = typer.Typer(help="Mitwirken – Beteiligungsprozesse für Kommunen.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
orgs_app = typer.Typer(help="Organisationen verwalten.", no_args_is_help=True)
users_app = typer.Typer(help="Mitarbeitende verwalten.", no_args_is_help=True)
app.add_typer(orgs_app, name="orgs")
app.add_typer(users_app, name="users")


def stack_settings() -> Settings:
    """The settings a command needs a database with: from the environment, or else from the
    `mitwirken dev` stack running in MITWIRKEN_DATA_DIR (exit 2 with a clear message if none).

    The stack's addresses go into the environment and the settings cache is renewed, so code
    further down that calls get_settings() itself (the demo seed's Temporal connection) talks
    to the same stack; a variable the user did set is never replaced.
    """
    from infra.devstate import StackNotRunning, running_stack

    settings = get_settings()
    if settings.database_url:
        return settings
    try:
        stack = running_stack(settings.data_dir)
    except StackNotRunning as exc:
        typer.echo(f"Fehler: {exc}", err=True)
        raise typer.Exit(2) from exc
    for name, value in stack.env().items():
        os.environ.setdefault(name, value)
    get_settings.cache_clear()
    return get_settings()


def require_database_url(settings: Settings | None = None) -> str:
    url = (settings or stack_settings()).database_url
    assert url is not None  # stack_settings exits otherwise
    return url


def run_in_session(fn: Callable[..., Awaitable[T]]) -> T:
    """Run `fn(session)` in one unit of work against MITWIRKEN_DATABASE_URL; domain errors
    become a message and exit code 1 instead of a traceback."""
    from infra.db import create_engine, create_sessionmaker, session_scope
    from services.errors import DomainError

    url = require_database_url()

    async def go() -> T:
        engine = create_engine(url, pool_size=1)
        try:
            async with session_scope(create_sessionmaker(engine)) as session:
                return await fn(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except DomainError as exc:
        typer.echo(f"Fehler: {exc.message}", err=True)
        # Field errors (e.g. a template's, each naming its path in the file) one per line.
        for d in exc.details if isinstance(exc.details, list) else []:
            if isinstance(d, dict) and d.get("message"):
                where = f"{d['field']}: " if d.get("field") else ""
                typer.echo(f"  {where}{d['message']}", err=True)
        raise typer.Exit(1) from exc


# --- running the stack ------------------------------------------------------------------


@app.command()
def dev(
    data_dir: Annotated[Path | None, typer.Option(help="Datenverzeichnis (MITWIRKEN_DATA_DIR)")]
    = None,
    api_port: Annotated[int | None, typer.Option(help="API-Port (MITWIRKEN_API_PORT)")] = None,
    temporal_port: Annotated[int, typer.Option(help="gRPC-Port des Temporal-Dev-Servers")] = 7233,
    temporal_ui_port: Annotated[int, typer.Option(help="Port der Temporal-Weboberfläche")] = 8233,
    smtp_port: Annotated[int, typer.Option(help="Port des eingebetteten Mail-Sinks")] = 1025,
    host: Annotated[str, typer.Option(help="Adresse, an die alle Dienste binden")] = "127.0.0.1",
) -> None:
    """Den ganzen Stack lokal starten: PostgreSQL, Temporal, Mail-Sink, Worker und API."""
    from composition.devstack import DevPorts, DevStack

    overrides = {"data_dir": data_dir} if data_dir else {}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    ports = DevPorts(api=api_port or settings.api_port, temporal=temporal_port,
                     temporal_ui=temporal_ui_port, smtp=smtp_port)
    code = DevStack(settings, ports, host=host, echo=lambda s: typer.echo(s)).run()
    raise typer.Exit(code)


@app.command()
def api(
    host: Annotated[str, typer.Option()] = "0.0.0.0",
    port: Annotated[int | None, typer.Option(help="Standard: MITWIRKEN_API_PORT")] = None,
    workers: Annotated[int, typer.Option(help="uvicorn-Prozesse")] = 1,
    access_log: Annotated[bool, typer.Option()] = False,
) -> None:
    """Die HTTP-API starten (uvicorn mit uvloop und httptools)."""
    import uvicorn

    uvicorn.run("api.app:create_app", factory=True, host=host,
                port=port or get_settings().api_port, workers=workers, loop="uvloop",
                http="httptools", access_log=access_log, log_level="warning",
                timeout_graceful_shutdown=5)


@app.command()
def worker() -> None:
    """Den Temporal-Worker starten (Workflows, Aktivitäten, Mailversand)."""
    from composition.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    async def main() -> None:
        import activities.all  # noqa: F401  (fills the registries)
        import workflows.all  # noqa: F401
        from activities.registry import ACTIVITIES
        from workflows.registry import WORKFLOWS

        # SIGTERM cancels the workers, which lets running activities finish or time out
        # cleanly instead of the process dying mid-activity.
        task: asyncio.Future[object]
        if WORKFLOWS or ACTIVITIES:
            task = asyncio.ensure_future(run_worker(get_settings()))
        else:  # a Temporal worker refuses to start empty; idle until stopped
            logging.getLogger(__name__).warning("no workflows or activities registered")
            task = asyncio.ensure_future(asyncio.Event().wait())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            pass

    asyncio.run(main())


@app.command()
def migrate() -> None:
    """Die Datenbank auf den neuesten Stand bringen (alle Alembic-Heads)."""
    from infra.migrate import upgrade

    upgrade(require_database_url())
    typer.echo("Datenbank ist aktuell.")


@app.command("seed-demo")
def seed_demo_command() -> None:
    """Die Demo-Organisation 'weiterstadt' mit Demo-Zugängen anlegen (idempotent)."""
    from composition.seed import seed_demo

    logins = run_in_session(seed_demo)
    typer.echo(f"{logins.org_name} ({logins.org_slug}): "
               + (", ".join(logins.created) if logins.created else "schon vorhanden"))
    for login in logins.logins:
        typer.echo(f"  {login.label:<26} {login.email}  Passwort: {login.password}")


# --- organisations and staff -------------------------------------------------------------


@orgs_app.command("create")
def orgs_create(
    slug: Annotated[str, typer.Argument(help="Kurzname, z. B. weiterstadt")],
    name: Annotated[str, typer.Option("--name", help="Anzeigename")],
    time_zone: Annotated[str, typer.Option(help="Zeitzone")] = "Europe/Berlin",
    public_task_basis: Annotated[str | None, typer.Option(
        help="Öffentliche Aufgabe als Rechtsgrundlage für Einladungen ohne Einwilligung, "
             "z. B. \"§ 5 HGO\"")] = None,
) -> None:
    """Eine Organisation (Kommune) anlegen."""
    from services.identity.service import create_organisation, set_public_task_basis

    async def go(session):  # type: ignore[no-untyped-def]
        org = await create_organisation(session, slug, name, actor="cli")
        org.time_zone = time_zone
        if public_task_basis:
            await set_public_task_basis(session, org, public_task_basis, actor="cli")
        return org

    org = run_in_session(go)
    typer.echo(f"Organisation {org.slug} ({org.name}) angelegt: {org.id}")


@users_app.command("create")
def users_create(
    org: Annotated[str, typer.Option("--org", help="Kurzname der Organisation")],
    email: Annotated[str, typer.Option("--email")],
    role: Annotated[str, typer.Option(
        "--role", help="admin, coordinator, steering, clerk oder interviewer")],
    password: Annotated[str | None, typer.Option(help="ohne Angabe wird eines erzeugt")] = None,
    name: Annotated[str, typer.Option("--name", help="Anzeigename")] = "",
    platform_admin: Annotated[bool, typer.Option("--platform-admin",
                                                 help="darf Organisationen anlegen")] = False,
) -> None:
    """Mitarbeitende anlegen oder einer bestehenden Person die Rolle geben."""
    from services.identity.service import ensure_user
    from services.models.organisation import Role

    try:
        role_value = Role(role)
    except ValueError as exc:
        raise typer.BadParameter(f"unbekannte Rolle {role!r}", param_hint="--role") from exc

    async def go(session):  # type: ignore[no-untyped-def]
        return await ensure_user(session, org_slug=org, email=email, role=role_value,
                                 password=password, display_name=name,
                                 platform_admin=platform_admin)

    user, generated = run_in_session(go)
    typer.echo(f"{user.email}: Rolle {role_value.value} in {org}")
    if generated:
        typer.echo(f"Erzeugtes Passwort: {generated}")


@orgs_app.command("add-group")
def orgs_add_group(
    slug: Annotated[str, typer.Argument(help="Kurzname der Organisation")],
    label: Annotated[str, typer.Argument(help="Bezeichnung, z. B. \"Jugendforum\"")],
    key: Annotated[str | None, typer.Option(help="Schlüssel (Standard: aus der Bezeichnung)")]
    = None,
) -> None:
    """Der Organisation eine Beteiligtengruppe hinzufügen (für Import und Kampagnen)."""
    from services.identity.service import get_organisation
    from services.stakeholders.schemas import GroupIn
    from services.stakeholders.service import add_group

    async def go(session):  # type: ignore[no-untyped-def]
        org = await get_organisation(session, slug)
        return await add_group(session, org.id, GroupIn(label=label, key=key), actor="cli")

    group = run_in_session(go)
    typer.echo(f"Gruppe {group.key} ({group.label}) in {slug} angelegt.")


# --- command groups of other domains -----------------------------------------------------
# Add one import and one add_typer line per domain, e.g.
#   from services.templates.cli import app as templates_app
#   app.add_typer(templates_app, name="templates")
#   from composition.campaigns_cli import app as campaigns_app
#   app.add_typer(campaigns_app, name="campaigns")
from composition.campaigns_cli import app as campaigns_app  # noqa: E402

app.add_typer(campaigns_app, name="campaigns")
from composition.templates_cli import app as templates_app  # noqa: E402

app.add_typer(templates_app, name="templates")
# -----------------------------------------------------------------------------------------


@templates_app.command("upload")
def templates_upload(
    file: Annotated[Path, typer.Argument(help="YAML-Datei", exists=True, dir_okay=False)],
    org: Annotated[str | None, typer.Option("--org", help="Organisation (Slug)")] = None,
    shared: Annotated[bool, typer.Option(
        "--shared", help="für alle Organisationen (Plattform-Vorlage)")] = False,
    kind: Annotated[str, typer.Option(help="process oder survey")] = "process",
) -> None:
    """Eine eigene Vorlage hochladen; derselbe Schlüssel noch einmal ist die nächste Version."""
    from services.identity.service import get_organisation
    from services.template_store.service import upload_template

    if (org is None) == (not shared):
        typer.echo("Fehler: bitte genau eines angeben: --org SLUG oder --shared", err=True)
        raise typer.Exit(2)

    async def go(session):  # type: ignore[no-untyped-def]
        org_id = (await get_organisation(session, org)).id if org else None
        return await upload_template(session, org_id, kind, file.read_bytes(), actor="cli")

    result = run_in_session(go)
    row = result.row
    owner = org or "alle Organisationen"
    if result.created:
        typer.echo(f"{file}: {row.key} v{row.version} für {owner} gespeichert")
    else:
        typer.echo(f"{file}: unverändert – {row.key} v{row.version} ist schon die neueste Fassung")


if __name__ == "__main__":
    app()
