"""The draft retention sweep's activity: a thin adapter onto services/surveys/retention.py.
Safe to run twice (a retry deletes what is left, usually nothing)."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity

from activities.registry import ACTIVITIES
from contracts.retention import ACTIVITY_EXPIRE_DRAFTS
from infra.config import get_settings
from infra.db import session_scope
from services.surveys.retention import expire_drafts


@activity.defn(name=ACTIVITY_EXPIRE_DRAFTS)
async def expire_survey_drafts() -> int:
    """Delete the expired drafts (each batch its own transaction); returns how many."""
    return await expire_drafts(session_scope, now=datetime.now(UTC),
                               max_idle_days=get_settings().draft_retention_days)


ACTIVITIES.append(expire_survey_drafts)
