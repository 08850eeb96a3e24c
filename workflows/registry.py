"""Every workflow type the worker runs; each domain appends its classes here."""

from __future__ import annotations

WORKFLOWS: list[type] = []
