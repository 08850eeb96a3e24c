"""Payloads of the invitation campaign workflow and its activities (workflow-safe: pydantic and
stdlib only, imported by the workflow sandbox, the activities and the API)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from contracts.input_rules import DURATION_MESSAGE

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


def parse_offset(value: str) -> timedelta:
    """An ISO 8601 duration in weeks, days and time (`P7D`, `P2W`, `PT12H`, `P1DT6H`).

    Months and years are refused: their length depends on the calendar, and a reminder
    "one month later" is better said in days so every participant gets the same interval.
    """
    match = _DURATION.match(value.strip().upper())
    if not match or value.strip().upper() in ("P", "PT") or value.strip().upper().endswith("T"):
        raise ValueError(f"keine ISO-8601-Dauer in Wochen/Tagen/Stunden: {value!r}")
    parts = {k: int(v) for k, v in match.groupdict().items() if v}
    try:
        delta = timedelta(**parts)
    except OverflowError:  # `P9999999999D`: beyond what timedelta holds
        raise ValueError(f"{DURATION_MESSAGE} ({value!r})") from None
    if delta <= timedelta(0):
        raise ValueError(f"die Dauer muss größer als null sein: {value!r}")
    return delta


MailKind = Literal["invitation", "reminder"]


class CampaignState(BaseModel):
    """What the workflow carries across continue-as-new (small, independent of audience size)."""

    stage: Literal["select", "invite", "remind", "wait", "closed", "cancelled"] = "select"
    started_at: datetime | None = None
    total: int = 0
    batches: int = 0
    next_batch: int = 0
    reminders_done: int = 0
    reminder_plan: list[int] | None = None
    sent: int = 0
    failed: int = 0
    reminded: int = 0
    # Set by the `cancel` signal: no further batch or reminder is sent.
    cancelled: bool = False
    # The deadline as moved by `move_deadline` (None: the input's deadline still holds).
    deadline: datetime | None = None


class CampaignInput(BaseModel):
    campaign_id: uuid.UUID
    organisation_id: uuid.UUID
    deadline: datetime
    reminders: list[str] = Field(default_factory=list)
    batch_size: int = 500
    parallel_batches: int = 3
    # 0 means no limit; otherwise mails per second for the whole campaign.
    rate_per_second: float = 0.0
    # Where the send activities run (the worker's mail queue; tests use their own).
    mail_task_queue: str = "mitwirken-mail"
    # Continue as new once a run's history is this long (or when Temporal suggests it).
    history_limit: int = 8_000
    # The latest deadline `move_deadline` accepts (an event campaign: the event's start).
    latest_deadline: datetime | None = None
    state: CampaignState | None = None


class CampaignProgress(BaseModel):
    stage: str
    total: int
    batches: int
    next_batch: int
    sent: int
    failed: int
    reminded: int
    reminders_done: int
    deadline: datetime | None = None


class SelectAudienceIn(BaseModel):
    campaign_id: uuid.UUID
    batch_size: int
    started_at: datetime


class SelectAudienceOut(BaseModel):
    total: int
    batches: int


class SendBatchIn(BaseModel):
    campaign_id: uuid.UUID
    kind: MailKind
    reminder_no: int = 0
    batch_no: int
    planned_at: datetime
    rate_per_second: float = 0.0


class SendBatchOut(BaseModel):
    sent: int = 0
    failed: int = 0
    skipped: int = 0


class PlanRemindersIn(BaseModel):
    campaign_id: uuid.UUID
    reminder_no: int


class PlanRemindersOut(BaseModel):
    batch_nos: list[int]
    recipients: int


class CloseCampaignIn(BaseModel):
    campaign_id: uuid.UUID
    closed_at: datetime
    reminders_done: int = 0


class SetDeadlineIn(BaseModel):
    campaign_id: uuid.UUID
    deadline: datetime
    actor: str | None = None


# --- the workflow's updates (API → workflow) -------------------------------------------------

# Machine codes of a refused update (services/processes/errors.py maps them to HTTP statuses).
DEADLINE_REFUSED = "deadline_refused"
CAMPAIGN_NOT_RUNNING = "campaign_not_running"


class MoveDeadlineRequest(BaseModel):
    deadline: datetime
    actor: str | None = None


def deadline_problem(new: datetime, now: datetime, latest: datetime | None) -> str | None:
    """Why a campaign's deadline cannot move to `new` (German, for the page and the API), or
    None. Pure: the workflow's validator and its tests call it with the workflow's clock."""
    if new.tzinfo is None:
        return "Die neue Frist braucht eine Zeitzone."
    if new <= now:
        return "Die neue Frist liegt in der Vergangenheit. Bitte ein späteres Datum wählen."
    if latest is not None and new > latest:
        return ("Die neue Frist liegt nach dem Beginn der Veranstaltung. Bitte ein Datum "
                "vor der Veranstaltung wählen.")
    return None
