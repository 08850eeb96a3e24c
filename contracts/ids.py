"""Workflow ids from domain keys (CONVENTIONS.md habit 5): built here once, so the API, the
services that record them, the workflows that start children and the tests all agree."""

from __future__ import annotations

import uuid


def process_workflow_id(process_id: uuid.UUID) -> str:
    return f"process-{process_id}"


def approval_workflow_id(approval_id: uuid.UUID) -> str:
    return f"approval-{approval_id}"


def campaign_workflow_id(campaign_id: uuid.UUID) -> str:
    return f"campaign-{campaign_id}"
