"""The worker runs the council resolution: its workflow and activity are registered where the
worker (infra/worker.py) collects them, the activity under the name the workflow calls."""

from __future__ import annotations

import activities.all  # noqa: F401  (fills the registries as the worker does)
import workflows.all  # noqa: F401
from activities.registry import ACTIVITIES
from workflows.registry import WORKFLOWS
from workflows.resolution import CouncilResolutionWorkflow


def test_worker_registers_the_resolution() -> None:
    assert CouncilResolutionWorkflow in WORKFLOWS
    names = {getattr(a, "__temporal_activity_definition").name for a in ACTIVITIES}
    assert {"apply_resolution_step", "notify_process"} <= names
