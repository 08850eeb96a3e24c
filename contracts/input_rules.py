"""Bounds every input shares: text without control characters, dates and durations in range.

One home for these rules (pure: stdlib and pydantic), because the HTTP boundary, the API and
page schemas and the workflow validators all need them, and a workflow may import only
workflow-safe modules. A value outside them is a typo or an attack, never a plan: PostgreSQL
cannot store U+0000 in text, stores years far out as ±infinity, and date arithmetic near the
ends of the calendar overflows.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator

# C0 control characters except tab, line feed and carriage return (which multi-line text
# legitimately carries). NUL is the one PostgreSQL cannot store; the others are never meant.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
CONTROL_CHAR_MESSAGE = "Steuerzeichen (z. B. Nullzeichen) sind nicht erlaubt."

# Processes run for months or a few years; dates outside this window are refused.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)
DATE_RANGE_MESSAGE = (f"Das Datum muss zwischen {EARLIEST_DATE:%d.%m.%Y} und "
                      f"{LATEST_DATE:%d.%m.%Y} liegen.")
# Reminder offsets, gate deadlines and the like: positive and at most a few years.
MAX_DURATION = timedelta(days=5 * 366)
DURATION_MESSAGE = "Die Dauer darf höchstens fünf Jahre betragen."


def has_control_chars(text: str) -> bool:
    return CONTROL_CHARS.search(text) is not None


def clean_text(value: str) -> str:
    """`value` unchanged, or ValueError if it holds a control character."""
    if has_control_chars(value):
        raise ValueError(CONTROL_CHAR_MESSAGE)
    return value


def date_in_range(day: date) -> bool:
    """For a datetime, its own (local) calendar day: checked before any time zone conversion,
    which itself overflows near year 1 or 9999."""
    if isinstance(day, datetime):
        day = day.date()
    return EARLIEST_DATE <= day <= LATEST_DATE


def bounded_date(value: date) -> date:
    if not date_in_range(value):
        raise ValueError(DATE_RANGE_MESSAGE)
    return value


def bounded_datetime(value: datetime) -> datetime:
    """An instant with an offset (any valid one, -12:00 too) inside the date window."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("Die Zeit braucht eine Zeitzone (ISO 8601 mit Offset).")
    if not date_in_range(value):
        raise ValueError(DATE_RANGE_MESSAGE)
    return value


def windowed_datetime(value: datetime) -> datetime:
    """An instant inside the date window, with an offset or in local time (events and consent
    dates are entered as the organisation's wall-clock time)."""
    if not date_in_range(value):
        raise ValueError(DATE_RANGE_MESSAGE)
    return value


def bounded_duration(value: timedelta) -> timedelta:
    if value > MAX_DURATION:
        raise ValueError(DURATION_MESSAGE)
    return value


CleanText = Annotated[str, AfterValidator(clean_text)]
BoundedDate = Annotated[date, AfterValidator(bounded_date)]
BoundedDateTime = Annotated[datetime, AfterValidator(bounded_datetime)]
WindowedDateTime = Annotated[datetime, AfterValidator(windowed_datetime)]
BoundedDuration = Annotated[timedelta, AfterValidator(bounded_duration)]
