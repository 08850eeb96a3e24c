"""The Temporal worker: workflows and activities on the main queue, mail on its own queue."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.registry import ACTIVITIES, MAIL_ACTIVITIES
from contracts.queues import MAIL_TASK_QUEUE, TASK_QUEUE
from contracts.retention import (
    DRAFT_RETENTION_WORKFLOW_ID,
    DRAFT_RETENTION_WORKFLOW_TYPE,
    DraftRetentionInput,
)
from infra import db as infra_db
from infra import mail as infra_mail
from infra import outbound
from infra.config import Settings
from infra.db import create_engine, create_sessionmaker
from infra.mail import MailTransport
from infra.meeting_wake import start_outbox_sweep
from infra.temporal import connect, start_singleton
from infra.webhook_dispatch import start_dispatcher
from workflows.registry import WORKFLOWS

log = logging.getLogger(__name__)


def build_workers(client: Client, *, task_queue: str = TASK_QUEUE,
                  mail_task_queue: str = MAIL_TASK_QUEUE) -> list[Worker]:
    """The workers of one process (also used by tests with their own queues).

    Every activity is async, so no thread pool: a sync activity would need one added here.
    """
    import activities.all  # noqa: F401  (fills the registries)
    import workflows.all  # noqa: F401

    workers = [
        Worker(client, task_queue=task_queue, workflows=WORKFLOWS, activities=ACTIVITIES,
               max_concurrent_activities=50),
    ]
    if MAIL_ACTIVITIES:
        workers.append(Worker(client, task_queue=mail_task_queue, activities=MAIL_ACTIVITIES,
                              max_concurrent_activities=8))
    return workers


def configure_dependencies(settings: Settings,
                           sessionmaker: async_sessionmaker[AsyncSession] | None = None) -> None:
    """Install the process-wide database and mail clients the activities use."""
    if sessionmaker is None:
        if not settings.database_url:
            raise RuntimeError("MITWIRKEN_DATABASE_URL is not set")
        sessionmaker = create_sessionmaker(create_engine(settings.database_url, pool_size=20))
    infra_db.configure(sessionmaker)
    transport = MailTransport(settings.smtp_host or "127.0.0.1", settings.smtp_port or 1025)
    infra_mail.configure(transport)
    outbound.configure(outbound.parse_networks(settings.webhook_allowed_networks),
                       timeout=settings.webhook_timeout_seconds)


async def start_sweeps(client: Client, settings: Settings, *,
                       task_queue: str = TASK_QUEUE) -> None:
    """The installation's long-running workflows, started (or joined: fixed ids,
    USE_EXISTING) by every worker at start-up, so one an operator terminated or that could not
    be started while Temporal was down comes back."""
    # Webhook delivery runs whenever a worker does (see infra/webhook_dispatch.py).
    await start_dispatcher(client, settings, task_queue=task_queue)
    # Likewise the event mails' sweep: what was queued while Temporal was down goes out now.
    await start_outbox_sweep(client, task_queue=task_queue)
    # And the daily deletion of expired survey drafts (services/surveys/retention.py).
    await start_singleton(client, DRAFT_RETENTION_WORKFLOW_TYPE, DraftRetentionInput(),
                          id=DRAFT_RETENTION_WORKFLOW_ID, task_queue=task_queue)


async def run_worker(settings: Settings) -> None:
    configure_dependencies(settings)
    client = await connect(settings)
    workers = build_workers(client)
    await start_sweeps(client, settings)
    log.info("worker running on %s and %s", TASK_QUEUE, MAIL_TASK_QUEUE)
    await asyncio.gather(*(w.run() for w in workers))
