"""Imports every workflow module so each registers itself in workflows.registry."""
from workflows import (  # noqa: F401
    approval,
    campaign,  # noqa: F401
    draft_retention,
    meeting,
    meeting_outbox,
    process,
    resolution,
    webhooks,
)
