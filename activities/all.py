"""Imports every activity module so each registers itself in activities.registry."""
