"""Imports every activity module so each registers itself in activities.registry."""
from activities import campaigns  # noqa: F401
from activities import process  # noqa: F401
