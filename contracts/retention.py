"""The draft retention sweep (workflows/draft_retention.py): one per installation, started by
every worker at start-up (USE_EXISTING), deleting expired survey drafts once a day (the rule:
services/surveys/retention.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field

DRAFT_RETENTION_WORKFLOW_ID = "draft-retention"
DRAFT_RETENTION_WORKFLOW_TYPE = "DraftRetentionWorkflow"
ACTIVITY_EXPIRE_DRAFTS = "expire_survey_drafts"


class DraftRetentionInput(BaseModel):
    # Once a day: a draft is gone at most a day after it expired (the rule counts days).
    interval_seconds: int = Field(default=24 * 3600, ge=1)
    # Sweeps per run before continue-as-new, so the history stays small (about a dozen events
    # a sweep): a month of days.
    rounds: int = Field(default=30, ge=1)
