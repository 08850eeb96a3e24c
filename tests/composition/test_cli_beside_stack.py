"""The CLI beside a running `make run`: it finds the stack's database from MITWIRKEN_DATA_DIR
(the state file the dev stack writes), and says clearly when no stack runs there."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from composition.devstack import DevPorts, DevStack
from infra.config import Settings
from infra.devstate import StackState, state_path, write_state
from services.identity.repository import IdentityRepository
from services.stakeholders.service import list_groups


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # No MITWIRKEN_DATABASE_URL: only the data dir, as in a second terminal beside `make run`.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MITWIRKEN_")}
    env["MITWIRKEN_DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "composition.cli", *args], env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.e2e  # runs the CLI as a subprocess (a fresh interpreter per call)
async def test_cli_uses_the_running_stacks_database(tmp_path, pg_url, committed_maker):
    # The test process stands in for the stack's supervisor (a live pid); the database is real.
    write_state(tmp_path, StackState(pid=os.getpid(), database_url=pg_url,
                                     temporal_address="127.0.0.1:1"))
    slug = f"stack-{uuid.uuid4().hex[:8]}"
    made = _cli(tmp_path, "orgs", "create", slug, "--name", "Stadt neben dem Stack")
    assert made.returncode == 0, made.stderr
    created = _cli(tmp_path, "users", "create", "--org", slug,
                   "--email", f"neu-{slug}@example.org", "--role", "clerk")
    assert created.returncode == 0, created.stderr
    group = _cli(tmp_path, "orgs", "add-group", slug, "Jugendforum")
    assert group.returncode == 0 and "jugendforum" in group.stdout, group.stderr
    async with committed_maker() as s:
        org = await IdentityRepository.from_session(s).org_by_slug(slug)
        assert org is not None
        assert [g.key for g in await list_groups(s, org.id)] == ["jugendforum"]


@pytest.mark.e2e  # runs the CLI as a subprocess (a fresh interpreter per call)
def test_cli_says_clearly_when_no_stack_runs(tmp_path):
    result = _cli(tmp_path, "orgs", "create", "x-leer", "--name", "Niemand")
    assert result.returncode == 2
    assert str(tmp_path.resolve()) in result.stderr and "make run" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.e2e  # runs the CLI as a subprocess (a fresh interpreter per call)
def test_cli_ignores_the_state_file_of_a_dead_stack(tmp_path, pg_url):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    write_state(tmp_path, StackState(pid=int(gone.stdout), database_url=pg_url,
                                     temporal_address="127.0.0.1:1"))
    result = _cli(tmp_path, "orgs", "create", "x-tot", "--name", "Niemand")
    assert result.returncode == 2
    assert "läuft nicht mehr" in result.stderr and "make run" in result.stderr


def test_stopping_the_stack_removes_its_state_file(tmp_path):
    stack = DevStack(Settings(data_dir=tmp_path), DevPorts())
    write_state(tmp_path, StackState(pid=os.getpid(), database_url="postgresql://x@h:1/db",
                                     temporal_address="h:2"))
    stack.stop()
    assert not state_path(tmp_path).exists()
