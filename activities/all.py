"""Imports every activity module so each registers itself in activities.registry."""
from activities import (
    campaigns,  # noqa: F401
    meetings,  # noqa: F401
    process,  # noqa: F401
    resolution,  # noqa: F401
    retention,  # noqa: F401
    webhooks,  # noqa: F401
)
