"""Imports every workflow module so each registers itself in workflows.registry."""
from workflows import approval, process  # noqa: F401
