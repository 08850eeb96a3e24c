"""Payloads of the council resolution (workflow-safe: pydantic and stdlib only).

The CouncilResolutionWorkflow, its activities, the services that write what it decided and the
API that sends the clerk's updates all take these models; fields are added with defaults so
running workflows and recorded histories keep decoding.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time
from typing import Any, Literal

from pydantic import BaseModel, Field

from contracts.input_rules import DATE_RANGE_MESSAGE, date_in_range

Outcome = Literal["adopted", "amended", "rejected", "deferred"]
# What a submitted version goes through at the clerk's office.
ResolutionStatus = Literal["submitted", "received", "scheduled", "deferred", "adopted",
                           "amended", "rejected"]
DECIDED: tuple[str, ...] = ("adopted", "amended", "rejected")
# After these the process is complete; after "rejected" it returns to drafting.
COMPLETES_PROCESS: tuple[str, ...] = ("adopted", "amended")

# Error types (ApplicationError.type) of the workflow's updates; the API maps them to HTTP.
NOT_RECEIVED = "resolution_not_received"
ALREADY_RECEIVED = "resolution_already_received"
NOT_SCHEDULED = "resolution_not_scheduled"
RESOLUTION_DECIDED = "resolution_decided"
INVALID_DECISION = "invalid_decision"

# Who the workflow names in the timeline when nobody in particular acted.
SCHEDULE_ACTOR = "Zeitplan"
# Reminders go out at this local time, so nobody gets a mail at midnight.
REMINDER_TIME = time(9, 0)
DEFAULT_ACK_REMINDER_DAYS = 5


# What XML 1.0 (and so DOCX, and PDF text) cannot carry: C0 controls except tab, newline and
# carriage return, lone surrogates, U+FFFE/U+FFFF.
NOT_IN_DOCUMENTS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
NOT_IN_DOCUMENTS_MESSAGE = "Enthält Steuerzeichen, die in Dokumenten nicht erlaubt sind."


def document_safe(text: str) -> str:
    """`text` if a document can hold it; raises ValueError (pydantic reports it by field)."""
    if NOT_IN_DOCUMENTS.search(text):
        raise ValueError(NOT_IN_DOCUMENTS_MESSAGE)
    return text


def for_documents(value: Any) -> Any:
    """`value` (JSON: dicts, lists, strings) without what a document cannot carry: for text
    already stored (comments, titles) that goes into a document, where refusing is too late."""
    if isinstance(value, str):
        return NOT_IN_DOCUMENTS.sub("", value)
    if isinstance(value, list):
        return [for_documents(v) for v in value]
    if isinstance(value, dict):
        return {k: for_documents(v) for k, v in value.items()}
    return value


def resolution_workflow_id(resolution_id: uuid.UUID) -> str:
    """One CouncilResolutionWorkflow per submitted version, its id from the version's id."""
    return f"resolution-{resolution_id}"


class ResolutionWorkflowInput(BaseModel):
    resolution_id: uuid.UUID
    process_id: uuid.UUID
    organisation_id: uuid.UUID
    process_workflow_id: str
    number: int
    title: str
    phase_key: str
    phase_title: str
    time_zone: str = "Europe/Berlin"
    # No acknowledgement (`received`) within this many days reminds the clerks.
    ack_reminder_days: int = DEFAULT_ACK_REMINDER_DAYS
    submitted_by: str | None = None


class ResolutionState(BaseModel):
    status: ResolutionStatus = "submitted"
    submitted_at: datetime | None = None
    received_at: datetime | None = None
    body: str | None = None
    meeting_date: date | None = None
    outcome: Outcome | None = None
    decided_on: date | None = None
    # Reminders already sent (keys carry the meeting date, so a deferral re-arms them).
    sent_notices: list[str] = Field(default_factory=list)
    seq: int = 0


class ReceivedInput(BaseModel):
    actor: str | None = None


class ScheduledInput(BaseModel):
    body: str
    meeting_date: date
    actor: str | None = None


class OutcomeInput(BaseModel):
    outcome: Outcome
    decided_on: date
    minutes_ref: str = ""
    note: str = ""
    # amended: the wording the council adopted (becomes the final version).
    amendments: str = ""
    # deferred: the new meeting date.
    meeting_date: date | None = None
    actor: str | None = None


class ResolutionStepResult(BaseModel):
    status: ResolutionStatus
    final_version: int | None = None


class ResolutionStep(BaseModel):
    """One step to write (version row, timeline, domain event), idempotent under `key`."""

    resolution_id: uuid.UUID
    process_id: uuid.UUID
    organisation_id: uuid.UUID
    key: str
    kind: Literal["submitted", "received", "scheduled", "outcome", "reminder"]
    status: ResolutionStatus
    actor: str | None = None
    occurred_at: datetime
    body: str | None = None
    meeting_date: date | None = None
    outcome: OutcomeInput | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class CouncilDecided(BaseModel):
    """Signal from a CouncilResolutionWorkflow to its process: the council adopted it."""

    resolution_id: uuid.UUID
    outcome: Outcome
    decided_on: date
    actor: str | None = None


def _date_problems(**days: date | None) -> list[dict[str, str]]:
    # The window every date of the product keeps to (contracts/input_rules.py): a council
    # meeting in 1990 is a typo, refused by the page and the API alike.
    return [{"field": name, "message": DATE_RANGE_MESSAGE}
            for name, day in days.items() if day is not None and not date_in_range(day)]


def outcome_problems(o: OutcomeInput) -> list[dict[str, str]]:
    """Input rules of a council outcome, one entry per field (the workflow's validator and the
    API both ask here, so a page, the JSON API and the workflow refuse the same things)."""
    problems = _date_problems(decided_on=o.decided_on, meeting_date=o.meeting_date)
    if problems:
        return problems
    if len(o.minutes_ref) > 300:
        problems.append({"field": "minutes_ref", "message": "Höchstens 300 Zeichen."})
    if NOT_IN_DOCUMENTS.search(o.amendments):
        problems.append({"field": "amendments", "message": NOT_IN_DOCUMENTS_MESSAGE})
    elif o.outcome == "amended" and not o.amendments.strip():
        problems.append({"field": "amendments",
                         "message": "Bitte den beschlossenen Wortlaut mit den Änderungen "
                                    "angeben."})
    if o.outcome == "rejected" and not o.note.strip():
        problems.append({"field": "note", "message": "Bitte die Gründe der Ablehnung angeben."})
    if o.outcome == "deferred":
        if o.meeting_date is None:
            problems.append({"field": "meeting_date",
                             "message": "Bitte den neuen Sitzungstermin angeben."})
        elif o.meeting_date <= o.decided_on:
            problems.append({"field": "meeting_date",
                             "message": "Der neue Sitzungstermin muss nach der Vertagung "
                                        "liegen."})
    return problems


def scheduled_problems(s: ScheduledInput) -> list[dict[str, str]]:
    """Input rules of scheduling (workflow validator, API and page alike)."""
    if problems := _date_problems(meeting_date=s.meeting_date):
        return problems
    if not s.body.strip():
        return [{"field": "body", "message": "Bitte das Gremium angeben."}]
    if len(s.body.strip()) > 300:
        return [{"field": "body", "message": "Höchstens 300 Zeichen."}]
    return []
