"""Process templates shipped with the product (read-only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import CurrentUser
from services.processes.schemas import TemplateSummary
from services.processes.service import get_template, list_templates

router = APIRouter(prefix="/api/v1/templates", tags=["templates"])


@router.get("", response_model=list[TemplateSummary])
async def read_templates(principal: CurrentUser) -> list[TemplateSummary]:
    return list_templates()


@router.get("/{key}")
async def read_template(key: str, principal: CurrentUser) -> dict[str, Any]:
    """Phases (windows, checklists, gates, reminders), stakeholder groups, surveys, events and
    the sections of the resolution draft."""
    return get_template(key).model_dump(mode="json")
