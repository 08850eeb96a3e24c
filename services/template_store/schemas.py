"""What the API returns about templates."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from services.template_store.service import TemplateEntry


class TemplateOut(BaseModel):
    """A template as listed: shipped, platform-shared or the organisation's own."""

    kind: str
    key: str
    version: int
    title: str
    description: str = ""
    # shipped | platform | organisation
    origin: str
    organisation_id: uuid.UUID | None = None
    derived_from: str | None = None
    created_by: str | None = None
    created_at: datetime | None = None
    phases: int = 0
    gates: int = 0
    questions: int = 0

    @classmethod
    def of(cls, entry: TemplateEntry) -> TemplateOut:
        return cls.model_validate(entry, from_attributes=True)


class UploadOut(TemplateOut):
    # False: the file was the same as the newest version; nothing new was stored.
    created: bool
