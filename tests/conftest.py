"""Shared fixtures: real PostgreSQL (embedded), real Temporal, a real SMTP sink.

Two database modes:
- `session` / `client`: each test inside an outer transaction that is rolled back.
- `committed_maker`: a real sessionmaker whose writes commit (for workers running activities
  concurrently); tests using it create their own uniquely named organisation.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from contracts.queues import TASK_QUEUE
from infra import db as infra_db
from infra.config import Settings
from infra.db import create_engine, create_sessionmaker
from infra.devservices import EmbeddedPostgres
from infra.mailsink import MailSink
from infra.migrate import upgrade
from infra.outbound import LOOPBACK
from services.identity import passwords
from services.identity.service import create_organisation, ensure_user, start_session
from services.models.organisation import Role
from tests.support.process_harness import process_worker

BIN = Path(sys.executable).parent


# Argon2 with the smallest parameters for every test that does not measure the cost itself:
# the production hasher (64 MiB, ~50 ms unloaded, close to a second on a loaded CI machine)
# made hashing the staff's passwords the largest part of the fast lane. Still real argon2
# (hash, verify, wrong passwords refused); tests/services/test_password_cost.py keeps the
# production parameters, and a test marked `argon2_cost` runs with them.
_CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_CHEAP_DUMMY = _CHEAP_HASHER.hash("not-a-real-password")


@pytest.fixture(autouse=True)
def _cheap_password_hashing(request: pytest.FixtureRequest,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("argon2_cost") is None:
        monkeypatch.setattr(passwords, "_hasher", _CHEAP_HASHER)
        monkeypatch.setattr(passwords, "_DUMMY_HASH", _CHEAP_DUMMY)


@pytest.fixture(scope="session")
def tmp_root() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="mitwirken-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_url(tmp_root: Path) -> Iterator[str]:
    external = os.environ.get("MITWIRKEN_TEST_DATABASE_URL")
    if external:
        upgrade(external)
        yield external
        return
    # Stopped here, before tmp_root is removed: the wheel's own exit hook would find the data
    # dir gone and leave the server running.
    server = EmbeddedPostgres(tmp_root / "pg")
    url = server.start()
    try:
        upgrade(url)
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def settings(tmp_root: Path, pg_url: str) -> Settings:
    return Settings(data_dir=tmp_root / "data", database_url=pg_url,
                    secret_key="test-secret-key-" + "x" * 32,
                    temporal_address="127.0.0.1:1", public_url="http://testserver",
                    # Tests' webhook receivers listen on this machine (like `mitwirken dev`).
                    webhook_allowed_networks=LOOPBACK)


@pytest.fixture(scope="session")
async def engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(pg_url)
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
async def committed_maker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    maker = create_sessionmaker(engine)
    infra_db.configure(maker)
    return maker


@pytest.fixture
async def rollback_maker(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with engine.connect() as conn:
        outer = await conn.begin()
        yield async_sessionmaker(bind=conn, expire_on_commit=False,
                                 join_transaction_mode="create_savepoint")
        await outer.rollback()


@pytest.fixture
async def session(rollback_maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with rollback_maker() as s:
        yield s


@pytest.fixture
def app(settings: Settings, rollback_maker: async_sessionmaker[AsyncSession]):  # type: ignore[no-untyped-def]
    return create_app(settings, sessionmaker=rollback_maker)


@pytest.fixture
async def client(app) -> AsyncIterator[AsyncClient]:  # type: ignore[no-untyped-def]
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@dataclass
class Staff:
    email: str
    password: str
    org_slug: str
    org_id: uuid.UUID
    user_id: uuid.UUID
    token: str
    session_id: uuid.UUID

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


MakeStaff = Callable[..., Awaitable[Staff]]


async def _make_staff(maker: async_sessionmaker[AsyncSession], signer_app, *,  # type: ignore[no-untyped-def]
                      role: Role = Role.coordinator, org_slug: str | None = None,
                      email: str | None = None, platform_admin: bool = False) -> Staff:
    slug = org_slug or f"org-{uuid.uuid4().hex[:10]}"
    email = email or f"{role.value}-{uuid.uuid4().hex[:8]}@example.org"
    password = "richtig-geheim-123"
    async with maker() as s:
        from services.identity.repository import IdentityRepository

        org = await IdentityRepository.from_session(s).org_by_slug(slug)
        if org is None:
            org = await create_organisation(s, slug, f"Stadt {slug}")
        user, _ = await ensure_user(s, org_slug=slug, email=email, role=role, password=password,
                                    platform_admin=platform_admin)
        signed_in = await start_session(s, user.id, signer_app.state.signer.ttl_seconds)
        await s.commit()
    token = signer_app.state.signer.issue(user.id, signed_in.id)
    return Staff(email, password, slug, org.id, user.id, token, signed_in.id)


@pytest.fixture
def make_staff(rollback_maker, app) -> MakeStaff:  # type: ignore[no-untyped-def]
    """Create an organisation member (inside the test's rolled-back transaction)."""

    async def make(**kwargs) -> Staff:  # type: ignore[no-untyped-def]
        return await _make_staff(rollback_maker, app, **kwargs)

    return make


@pytest.fixture
def make_committed_staff(committed_maker, app) -> MakeStaff:  # type: ignore[no-untyped-def]
    """Create an organisation member whose rows are committed (for worker-driven tests)."""

    async def make(**kwargs) -> Staff:  # type: ignore[no-untyped-def]
        return await _make_staff(committed_maker, app, **kwargs)

    return make


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server (months in seconds), one per test.

    Not shared: a workflow another test left running (its worker gone) holds a workflow task
    open when its timer fires, and the server does not skip time while a task is outstanding,
    so a later test's `env.sleep` would wait forever. A fresh server starts in ~0.1 s."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(BIN / "temporal-test-server"),
    )
    yield env
    await env.shutdown()


@pytest.fixture
async def papp(settings, committed_maker, time_skipping_env):  # type: ignore[no-untyped-def]
    """The app on committed data with the time-skipping Temporal client (the worker's
    activities must see the API's writes)."""
    app = create_app(settings, sessionmaker=committed_maker)
    app.state.temporal.client = time_skipping_env.client
    return app


@pytest.fixture
async def worker(time_skipping_env, smtp_sink) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    """The process worker (every workflow and activity) on the main task queue."""
    async with process_worker(time_skipping_env.client, smtp_sink.port,
                              task_queue=TASK_QUEUE) as q:
        yield q


@pytest.fixture(scope="session")
async def dev_server_env() -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server (for end-to-end tests)."""
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(BIN / "temporal"),
    )
    yield env
    await env.shutdown()


@pytest.fixture
def smtp_sink() -> Iterator[MailSink]:
    sink = MailSink().start()
    yield sink
    sink.stop()
