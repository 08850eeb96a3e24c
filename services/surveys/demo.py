"""Demo data: the kick-off survey "Bedarfe und Wünsche" in the seeded Weiterstadt process."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.models.process import Process
from services.models.survey import Survey
from services.surveys.schemas import SurveyCreate
from services.surveys.service import create_survey

DEMO_TEMPLATE = "weiterstadt-bedarfe-und-wuensche"


async def seed_demo_surveys(session: AsyncSession, process_id: uuid.UUID) -> Survey | None:
    """Idempotent (flush only): creates the survey once if the demo process exists."""
    process = await session.get(Process, process_id)
    if process is None:
        return None
    existing = await session.scalar(
        select(Survey).where(Survey.process_id == process_id,
                             Survey.template_key == DEMO_TEMPLATE).limit(1))
    if existing is not None:
        return existing
    phases = [str(p.get("key")) for p in (process.template_snapshot or {}).get("phases", [])
              if isinstance(p, dict)]
    phase = next((k for k in phases if "kick" in k.lower()), None)
    return await create_survey(session, process_id, SurveyCreate(
        phase=phase, from_template=DEMO_TEMPLATE), actor="seed")
