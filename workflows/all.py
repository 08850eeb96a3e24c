"""Imports every workflow module so each registers itself in workflows.registry."""
