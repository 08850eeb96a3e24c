"""Helpers for process-engine tests: an organisation with staff, a worker, starting processes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from activities.process import PROCESS_ACTIVITIES
from activities.resolution import RESOLUTION_ACTIVITIES
from api.process_control import start_process_workflow
from contracts.process import DecideInput, ProcessState
from infra import mail as infra_mail
from infra.mail import MailTransport
from services.identity.repository import IdentityRepository
from services.models.organisation import Role
from services.models.process import ProcessNotification, Transition
from services.processes.service import create_process
from workflows.approval import ApprovalWorkflow
from workflows.process import ProcessWorkflow
from workflows.resolution import CouncilResolutionWorkflow

BERLIN = ZoneInfo("Europe/Berlin")


@dataclass
class TestOrg:
    slug: str
    org_id: uuid.UUID
    coordinator: Any
    steering: list[Any]


async def make_org(make_staff: Callable[..., Awaitable[Any]], steering: int = 3) -> TestOrg:
    slug = f"proc-{uuid.uuid4().hex[:10]}"
    coordinator = await make_staff(role=Role.coordinator, org_slug=slug)
    members = [await make_staff(role=Role.steering, org_slug=slug) for _ in range(steering)]
    return TestOrg(slug, coordinator.org_id, coordinator, members)


@asynccontextmanager
async def process_worker(client: Client, smtp_port: int | None = None,
                         task_queue: str | None = None) -> AsyncIterator[str]:
    queue = task_queue or f"proc-{uuid.uuid4().hex[:8]}"
    if smtp_port is not None:
        infra_mail.configure(MailTransport("127.0.0.1", smtp_port))
    async with Worker(client, task_queue=queue,
                      workflows=[ProcessWorkflow, ApprovalWorkflow, CouncilResolutionWorkflow],
                      activities=[*PROCESS_ACTIVITIES, *RESOLUTION_ACTIVITIES]):
        yield queue


async def start(maker: async_sessionmaker[AsyncSession], client: Client, org: TestOrg,
                template: str, starts_on: date, queue: str,
                continue_as_new_after: int | None = None) -> tuple[uuid.UUID, WorkflowHandle]:
    async with maker() as s:
        o = await IdentityRepository.from_session(s).org_by_id(org.org_id)
        assert o is not None
        process, wf_input = await create_process(
            s, o, template_key=template, title=f"Test {template}", starts_on=starts_on,
            actor=org.coordinator.email)
        await s.commit()
    wf_input.continue_as_new_after_events = continue_as_new_after
    await start_process_workflow(client, process, wf_input, task_queue=queue)
    return process.id, client.get_workflow_handle_for(ProcessWorkflow.run, process.workflow_id)


async def today(client_env: Any) -> date:
    now: datetime = await client_env.get_current_time()
    return now.astimezone(BERLIN).date()


async def wait_state(handle: WorkflowHandle, pred: Callable[[ProcessState], bool],
                     timeout: float = 10.0) -> ProcessState:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        state = await handle.query(ProcessWorkflow.state)
        if pred(state):
            return state
        if loop.time() > deadline:
            raise AssertionError(f"state not reached: {state.model_dump_json(indent=1)}")
        await asyncio.sleep(0.05)


async def eventually(probe: Callable[[], Awaitable[Any]], pred: Callable[[Any], bool],
                     timeout: float = 10.0) -> Any:
    """Poll `probe` until `pred` holds (instead of sleeping a fixed time and hoping)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if pred(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"not reached: {value!r}")
        await asyncio.sleep(0.05)


def phase(state: ProcessState, key: str) -> Any:
    return next(p for p in state.phases if p.key == key)


async def vote(client: Client, approval_id: uuid.UUID, staff: Any, decision: str,
               comment: str = "") -> Any:
    handle = client.get_workflow_handle(f"approval-{approval_id}")
    return await handle.execute_update(
        ApprovalWorkflow.decide,
        DecideInput(user_id=staff.user_id, email=staff.email, decision=decision,
                    comment=comment))


async def transitions(maker: async_sessionmaker[AsyncSession],
                      process_id: uuid.UUID) -> list[Transition]:
    async with maker() as s:
        return list((await s.scalars(select(Transition).where(
            Transition.process_id == process_id).order_by(Transition.occurred_at,
                                                          Transition.seq))).all())


async def notifications(maker: async_sessionmaker[AsyncSession],
                        process_id: uuid.UUID) -> list[ProcessNotification]:
    async with maker() as s:
        return list((await s.scalars(select(ProcessNotification).where(
            ProcessNotification.process_id == process_id).order_by(
                ProcessNotification.scheduled_for))).all())


def local_day(at: datetime) -> date:
    return at.astimezone(BERLIN).date()


def days(n: int) -> timedelta:
    return timedelta(days=n)
