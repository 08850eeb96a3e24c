"""The demo seed (idempotent, usable logins) and the CLI (`python -m composition.cli`) against the
real test database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import func, select

from composition.seed import DEMO_ORG_SLUG, DEMO_USERS, seed_demo
from services.identity.repository import IdentityRepository
from services.identity.service import authenticate, load_principal
from services.models.domain_event import DomainEvent
from services.models.organisation import Membership, Role
from services.models.stakeholder import Stakeholder
from services.stakeholders.repository import StakeholderRepository


async def test_seed_demo_is_idempotent_and_its_logins_work(session):
    first = await seed_demo(session)
    assert first.org_slug == DEMO_ORG_SLUG and len(first.created) == 1 + len(DEMO_USERS)
    events_after_first = await session.scalar(select(func.count()).select_from(DomainEvent))
    second = await seed_demo(session)
    assert second.created == []
    assert await session.scalar(select(func.count()).select_from(DomainEvent)) \
        == events_after_first  # a re-run changes nothing, not even the event log

    repo = IdentityRepository.from_session(session)
    org = await repo.org_by_slug(DEMO_ORG_SLUG)
    assert org is not None and org.name == "Stadt Weiterstadt"
    roles = [m.role for m in (await session.scalars(
        select(Membership).where(Membership.organisation_id == org.id))).all()]
    assert sorted(roles) == sorted(u.role for u in DEMO_USERS)
    assert roles.count(Role.steering) == 3
    # Every demo stakeholder can be invited: a legal basis, and a group the organisation knows.
    people = (await session.scalars(
        select(Stakeholder).where(Stakeholder.organisation_id == org.id))).all()
    assert people and all(p.legal_basis == "consent" for p in people)
    known = await StakeholderRepository.from_session(session).group_keys(org.id)
    assert {p.group_key for p in people} <= known
    for login in DEMO_USERS:
        user = await authenticate(session, login.email, login.password)
        principal = await load_principal(session, user.id)
        assert principal.role_in(org.id) == login.role
        assert principal.is_platform_admin == login.platform_admin


def _cli(pg_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MITWIRKEN_")}
    env["MITWIRKEN_DATABASE_URL"] = pg_url
    return subprocess.run([sys.executable, "-m", "composition.cli", *args], env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.e2e  # runs the CLI as a subprocess (a fresh interpreter per call)
async def test_cli_creates_organisations_and_users(pg_url, committed_maker):
    slug = f"cli-{uuid.uuid4().hex[:8]}"
    email = f"kim-{uuid.uuid4().hex[:6]}@example.org"
    made = _cli(pg_url, "orgs", "create", slug, "--name", "Stadt Beispiel")
    assert made.returncode == 0, made.stderr
    assert slug in made.stdout
    again = _cli(pg_url, "orgs", "create", slug, "--name", "Stadt Beispiel")
    assert again.returncode == 1 and "gibt es schon" in again.stderr

    created = _cli(pg_url, "users", "create", "--org", slug, "--email", email,
                   "--role", "steering")
    assert created.returncode == 0, created.stderr
    generated = created.stdout.split("Erzeugtes Passwort: ")[1].strip()
    assert len(generated) >= 12

    promoted = _cli(pg_url, "users", "create", "--org", slug, "--email", email.upper(),
                    "--role", "coordinator")
    assert promoted.returncode == 0, promoted.stderr
    assert "Erzeugtes Passwort" not in promoted.stdout  # existing user: password unchanged

    bad_role = _cli(pg_url, "users", "create", "--org", slug, "--email", email,
                    "--role", "kaiser")
    assert bad_role.returncode == 2 and "kaiser" in bad_role.stderr
    no_org = _cli(pg_url, "users", "create", "--org", "gibt-es-nicht", "--email", email,
                  "--role", "clerk")
    assert no_org.returncode == 1

    async with committed_maker() as s:
        user = await authenticate(s, email, generated)
        org = await IdentityRepository.from_session(s).org_by_slug(slug)
        principal = await load_principal(s, user.id)
        assert principal.role_in(org.id) == Role.coordinator
        assert not principal.is_platform_admin


@pytest.mark.e2e  # runs the CLI as a subprocess (a fresh interpreter per call)
def test_cli_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "composition.cli", "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0
    for command in ("dev", "api", "worker", "migrate", "orgs", "users", "seed-demo"):
        assert command in out.stdout
