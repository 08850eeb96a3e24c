"""Shapes of the resolution draft (Beschlussvorlage) and what the API shows of it."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from contracts.resolution import Outcome, document_safe

# Every text of the draft goes into the PDF and the DOCX: only what XML can carry.
Safe = AfterValidator(document_safe)
Line = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300), Safe]
Body = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000), Safe]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
                 Safe]
ConsultationRole = Literal["vorberatung", "entscheidung"]
ROLE_LABELS = {"vorberatung": "Vorberatung", "entscheidung": "Entscheidung"}
DEFAULT_INTRO = "Die Stadtverordnetenversammlung beschließt:"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReasonSection(_Strict):
    """One part of Sachverhalt / Begründung (from the template's draft_sections or added)."""

    key: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
    title: Name
    text: Body = ""


class Consultation(_Strict):
    """A body of the Beratungsfolge: who deliberates (Vorberatung) and who decides."""

    body: Name
    role: ConsultationRole
    date: dt.date | None = None


class DraftSections(_Strict):
    """What the coordinator writes. Stored as the draft; frozen into every version."""

    betreff: Line = ""
    beschluss_intro: Line = DEFAULT_INTRO
    beschlussvorschlag: Annotated[list[Body], Field(max_length=50)] = Field(default_factory=list)
    sachverhalt: Annotated[list[ReasonSection], Field(max_length=30)] = Field(
        default_factory=list)
    finanzielle_auswirkungen: Body = ""
    beratungsfolge: Annotated[list[Consultation], Field(max_length=20)] = Field(
        default_factory=list)
    federfuehrung: Line = ""
    anlagen: Annotated[list[Line], Field(max_length=50)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_keys(self) -> DraftSections:
        keys = [s.key for s in self.sachverhalt]
        if len(keys) != len(set(keys)):
            raise ValueError("Jeder Abschnitt der Begründung braucht einen eigenen Schlüssel.")
        return self


def completeness(s: DraftSections) -> list[dict[str, str]]:
    """What keeps a draft from being compiled: one entry per field, German messages.

    One home for the rule (services/resolutions/service.py and the pages call it)."""
    problems = []
    if not s.betreff:
        problems.append({"field": "betreff", "message": "Bitte einen Betreff angeben."})
    points = [p for p in s.beschlussvorschlag if p.strip()]
    if not points:
        problems.append({"field": "beschlussvorschlag",
                         "message": "Der Beschlussvorschlag braucht mindestens einen Punkt."})
    deciding = [c for c in s.beratungsfolge if c.role == "entscheidung"]
    if len(deciding) != 1:
        problems.append({"field": "beratungsfolge",
                         "message": "Die Beratungsfolge braucht genau ein entscheidendes "
                                    f"Gremium (angegeben: {len(deciding)})."})
    if not s.federfuehrung:
        problems.append({"field": "federfuehrung",
                         "message": "Bitte die federführende Stelle angeben."})
    return problems


class DraftOut(BaseModel):
    process_id: uuid.UUID
    sections: DraftSections
    revision: int
    status: str
    rejection: dict[str, Any] | None
    updated_by: str | None
    updated_at: datetime
    problems: list[dict[str, str]]


class FileOut(BaseModel):
    kind: str
    file_name: str
    mime_type: str
    size: int
    sha512: str
    url: str


class VersionOut(BaseModel):
    id: uuid.UUID
    process_id: uuid.UUID
    process_title: str
    number: int
    kind: str
    content_hash: str
    author: str | None
    created_at: datetime
    modified_at: datetime
    status: str
    approval_id: uuid.UUID | None
    approval_status: str | None
    # The draft was edited after this version was compiled: its approval covers no longer
    # what the coordinator sees; a new version needs a new approval.
    draft_changed: bool
    submitted_at: datetime | None
    received_at: datetime | None
    body: str | None
    meeting_date: date | None
    outcome: str | None
    decided_on: date | None
    minutes_ref: str | None
    note: str | None
    amendments: str | None
    files: list[FileOut]


class ResolutionOut(BaseModel):
    draft: DraftOut
    versions: list[VersionOut]
    can_submit: bool
    submit_blockers: list[str]


class ApprovalRequested(BaseModel):
    approval_id: uuid.UUID
    version: int


class SubmitRequest(_Strict):
    version: int | None = None


class ScheduledRequest(_Strict):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    meeting_date: date


class OutcomeRequest(_Strict):
    outcome: Outcome
    decided_on: date
    minutes_ref: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = ""
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)] = ""
    amendments: Annotated[str, StringConstraints(strip_whitespace=True,
                                                 max_length=20_000)] = ""
    meeting_date: date | None = None
