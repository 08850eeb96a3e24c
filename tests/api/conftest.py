"""Fixtures shared by the process API and page tests: the app on committed data with the
time-skipping Temporal client, and the process worker on the main task queue."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from api.app import create_app
from contracts.queues import TASK_QUEUE
from tests.workflows.process_harness import process_worker


@pytest.fixture
async def papp(settings, committed_maker, time_skipping_env):  # type: ignore[no-untyped-def]
    """The app with real commits (the worker's activities must see the API's writes)."""
    app = create_app(settings, sessionmaker=committed_maker)
    app.state.temporal.client = time_skipping_env.client
    return app


@pytest.fixture
async def worker(time_skipping_env, smtp_sink) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    async with process_worker(time_skipping_env.client, smtp_sink.port,
                              task_queue=TASK_QUEUE) as q:
        yield q
