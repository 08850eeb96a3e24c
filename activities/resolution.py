"""Activities of the council resolution: thin, idempotent adapters onto services/resolutions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity

from activities.registry import ACTIVITIES
from contracts.resolution import ResolutionStep, ResolutionStepResult
from infra.db import session_scope
from services.resolutions import service as resolutions


@activity.defn(name="apply_resolution_step")
async def apply_resolution_step(step: ResolutionStep) -> ResolutionStepResult:
    """Write one step of a submitted version (row, timeline, event) under its key."""
    async with session_scope() as session:
        final = await resolutions.apply_step(session, step)
    return ResolutionStepResult(status=step.status, final_version=final)


RESOLUTION_ACTIVITIES: list[Callable[..., Any]] = [apply_resolution_step]

ACTIVITIES.extend(RESOLUTION_ACTIVITIES)
