"""Waiting for something in a test: poll a condition with a timeout instead of a fixed sleep.

A fixed sleep is either too short on a loaded machine (a flaky failure) or too long everywhere
(a slow suite); `eventually` returns as soon as the condition holds and fails with a message
when it does not within the timeout. `workflow_idle` is the condition for "nothing more will
happen": a workflow with no activity and no workflow task outstanding has done everything it
was going to do until its next timer or signal, so a test can then assert that something did
NOT happen without guessing how long it would have taken."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Collection
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle


async def eventually(check: Callable[[], Any], *, timeout: float = 30.0,
                     interval: float = 0.05, what: str = "condition") -> Any:
    """Call `check` (sync or async) until it returns something truthy; return that."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s (last: {result!r})")
        await asyncio.sleep(interval)


_ACTIVITY_OPENED = EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
_ACTIVITY_CLOSED = {EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
                    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
                    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
                    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED}
_TASK_OPENED = EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED
_TASK_CLOSED = {EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
                EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
                EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT}
_CLOSED = {EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
           EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
           EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
           EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
           EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
           EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW}


async def _is_idle(handle: WorkflowHandle[Any, Any], ignore: Collection[str]) -> bool:
    open_activities: dict[int, str] = {}
    task_open = False
    async for event in handle.fetch_history_events():
        if event.event_type in _CLOSED:
            return True
        if event.event_type == _ACTIVITY_OPENED:
            attrs = event.activity_task_scheduled_event_attributes
            open_activities[event.event_id] = attrs.activity_type.name
        elif event.event_type in _ACTIVITY_CLOSED:
            for field in ("activity_task_completed_event_attributes",
                          "activity_task_failed_event_attributes",
                          "activity_task_timed_out_event_attributes",
                          "activity_task_canceled_event_attributes"):
                if event.HasField(field):
                    open_activities.pop(getattr(event, field).scheduled_event_id, None)
        elif event.event_type == _TASK_OPENED:
            task_open = True
        elif event.event_type in _TASK_CLOSED:
            task_open = False
    return not task_open and all(name in ignore for name in open_activities.values())


async def workflow_idle(handle: WorkflowHandle[Any, Any], *, ignore: Collection[str] = (),
                        timeout: float = 30.0) -> None:
    """Wait until the workflow (this run) has no workflow task and no activity outstanding,
    except activities named in `ignore` (a long poll that is always open), or has closed."""
    await eventually(lambda: _is_idle(handle, ignore), timeout=timeout, interval=0.1,
                     what=f"workflow {handle.id} idle")
