"""How a rejected or failed workflow update maps to an HTTP error (status by machine code)."""

from __future__ import annotations

from typing import Any

from contracts import campaign as camp
from contracts import process as c
from contracts import resolution as r
from services.errors import Conflict, DomainError, NotFound, ValidationFailed

# 409: a state conflict; 404: names something the process does not have; 422: bad input.
CODE_ERRORS: dict[str, type[DomainError]] = {
    c.PHASE_MISMATCH: Conflict,
    c.CHECKLIST_OPEN: Conflict,
    c.GATE_NOT_APPROVED: Conflict,
    c.APPROVAL_PENDING: Conflict,
    c.PHASE_CLOSED: Conflict,
    c.PROCESS_COMPLETED: Conflict,
    c.ALREADY_DECIDED: Conflict,
    c.NOT_A_VOTER: Conflict,
    c.APPROVAL_CLOSED: Conflict,
    c.UNKNOWN_PHASE: NotFound,
    c.UNKNOWN_ITEM: NotFound,
    c.INVALID_WINDOW: ValidationFailed,
    c.REASON_REQUIRED: ValidationFailed,
    c.INVALID_TEXT: ValidationFailed,
    c.DATE_OUT_OF_RANGE: ValidationFailed,
    c.INVALID_DATA: ValidationFailed,
    r.NOT_RECEIVED: Conflict,
    r.ALREADY_RECEIVED: Conflict,
    r.NOT_SCHEDULED: Conflict,
    r.RESOLUTION_DECIDED: Conflict,
    r.INVALID_DECISION: ValidationFailed,
    c.COMMENT_REQUIRED: ValidationFailed,
    camp.DEADLINE_REFUSED: ValidationFailed,
    camp.CAMPAIGN_NOT_RUNNING: Conflict,
}


def domain_error(code: str | None, message: str, details: Any = None) -> DomainError:
    cls = CODE_ERRORS.get(code or "", Conflict)
    return cls(message, code=code or "conflict", details=details)
