"""The rules of phases and approvals, in one place: pure functions on the workflow's payloads.

ProcessWorkflow and ApprovalWorkflow call them in their update validators and handlers; the
API and the pages call the same functions (for an early answer, or to decide which button a
page shows), so a rule is written once. Workflow-safe: stdlib and contracts only, no I/O, no
clock; testable without Temporal (tests/contracts/test_process_rules.py).

A refused step raises `RuleViolation` with the machine code of contracts.process; the
workflow turns it into a non-retryable ApplicationError of that type, the API into the HTTP
error of services/processes/errors.py.
"""

from __future__ import annotations

from datetime import date

from contracts.input_rules import (
    CONTROL_CHAR_MESSAGE,
    DATE_RANGE_MESSAGE,
    date_in_range,
    has_control_chars,
)
from contracts.process import (
    ALREADY_DECIDED,
    APPROVAL_CLOSED,
    APPROVAL_PENDING,
    CHECKLIST_OPEN,
    COMMENT_REQUIRED,
    DATE_OUT_OF_RANGE,
    GATE_NOT_APPROVED,
    INVALID_TEXT,
    INVALID_WINDOW,
    NOT_A_VOTER,
    PHASE_CLOSED,
    PHASE_MISMATCH,
    PROCESS_COMPLETED,
    REASON_REQUIRED,
    UNKNOWN_ITEM,
    UNKNOWN_PHASE,
    ApprovalState,
    ApprovalStatus,
    GateRule,
    PhaseState,
    ProcessState,
)

# Phase statuses after which nothing about the phase changes any more.
CLOSED_STATUSES = ("completed", "skipped")


class RuleViolation(Exception):
    """A step the rules refuse: `code` is the machine code, `details` name what is wrong."""

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


def check_text(field: str, *values: str | None) -> None:
    """Refuse text the database cannot store (or nobody means), before the state takes it."""
    if any(v is not None and has_control_chars(v) for v in values):
        raise RuleViolation(INVALID_TEXT, CONTROL_CHAR_MESSAGE, field=field)


# --- phases --------------------------------------------------------------------------------


def phase(state: ProcessState, key: str) -> PhaseState:
    for p in state.phases:
        if p.key == key:
            return p
    raise RuleViolation(UNKNOWN_PHASE, "Diese Phase gibt es in diesem Prozess nicht.", phase=key)


def current_or_none(state: ProcessState) -> PhaseState | None:
    return None if state.current_phase is None else phase(state, state.current_phase)


def current(state: ProcessState) -> PhaseState:
    cur = current_or_none(state)
    if cur is None:
        raise RuleViolation(PROCESS_COMPLETED, "Der Prozess ist abgeschlossen.")
    return cur


def require_running(state: ProcessState) -> PhaseState:
    if state.status != "running":
        raise RuleViolation(PROCESS_COMPLETED, "Der Prozess ist abgeschlossen.")
    return current(state)


def is_closed(status: str) -> bool:
    return status in CLOSED_STATUSES


def require_open(p: PhaseState) -> None:
    if is_closed(p.status):
        raise RuleViolation(PHASE_CLOSED, f"Die Phase „{p.title}“ ist bereits abgeschlossen.")


def open_items(p: PhaseState) -> list[str]:
    return [i.key for i in p.checklist if not i.done]


def needs_approval(has_gate: bool, approval_status: str | None) -> bool:
    """Whether advancing this phase asks the steering group first (instead of closing it).

    Takes plain values so the page (which reads PostgreSQL's view of the phase) and the
    workflow (its PhaseState) decide with the same rule."""
    return has_gate and approval_status != "approved"


def next_pending(state: ProcessState, after: PhaseState) -> PhaseState | None:
    """The phase that opens when `after` closes: the next one not skipped ahead of time."""
    idx = state.phases.index(after)
    return next((p for p in state.phases[idx + 1:] if p.status == "pending"), None)


def check_advance(state: ProcessState, expected_current: str, override_reason: str | None,
                  actor: str | None = None) -> PhaseState:
    """The current phase, if it may be closed (or its gate requested) now."""
    check_text("override_reason", override_reason, actor)
    cur = require_running(state)
    if expected_current != cur.key:
        raise RuleViolation(PHASE_MISMATCH,
                            f"Die aktuelle Phase ist „{cur.title}“, nicht „{expected_current}“.",
                            current_phase=cur.key, expected_current=expected_current)
    if cur.approval_status == "pending":
        raise RuleViolation(GATE_NOT_APPROVED,
                            "Die Freigabe durch die Steuerungsgruppe steht noch aus.",
                            approval_id=str(cur.approval_id))
    missing = open_items(cur)
    if missing and not (override_reason or "").strip() and not cur.override_reason:
        raise RuleViolation(CHECKLIST_OPEN,
                            "Die Checkliste ist nicht erledigt; bitte eine Begründung angeben.",
                            open_items=missing)
    return cur


def check_skip(state: ProcessState, phase_key: str, reason: str,
               actor: str | None = None) -> PhaseState:
    check_text("reason", reason, actor)
    require_running(state)
    if not reason.strip():
        raise RuleViolation(REASON_REQUIRED, "Bitte einen Grund für das Überspringen angeben.")
    p = phase(state, phase_key)
    require_open(p)
    if p.approval_status == "pending":
        raise RuleViolation(APPROVAL_PENDING,
                            "Für diese Phase läuft eine Freigabe; sie kann nicht übersprungen "
                            "werden.", approval_id=str(p.approval_id))
    return p


def check_window(planned_start: date, planned_end: date) -> None:
    if not (date_in_range(planned_start) and date_in_range(planned_end)):
        raise RuleViolation(DATE_OUT_OF_RANGE, DATE_RANGE_MESSAGE)
    if planned_end < planned_start:
        raise RuleViolation(INVALID_WINDOW, "Das geplante Ende liegt vor dem geplanten Beginn.")


def check_reschedule(state: ProcessState, phase_key: str, planned_start: date,
                     planned_end: date) -> PhaseState:
    require_running(state)
    p = phase(state, phase_key)
    check_window(planned_start, planned_end)
    require_open(p)
    return p


def check_checklist(state: ProcessState, phase_key: str, item_key: str,
                    actor: str | None = None) -> PhaseState:
    check_text("actor", actor)
    require_running(state)
    p = phase(state, phase_key)
    if not any(i.key == item_key for i in p.checklist):
        raise RuleViolation(UNKNOWN_ITEM, "Diesen Checklistenpunkt gibt es nicht.", item=item_key)
    require_open(p)
    return p


# --- approvals -----------------------------------------------------------------------------


def required_approvals(rule: GateRule, quorum: int | None, voters: int) -> int:
    if rule == "any":
        return 1
    if rule == "all":
        return max(voters, 1)
    if rule == "majority":
        return voters // 2 + 1
    return max(quorum or 1, 1)


def evaluate(rule: GateRule, quorum: int | None, voters: int, approvals: int,
             rejections: int) -> ApprovalStatus:
    """Approved once enough approve; rejected once a rejection makes that impossible.

    With too few voters for the rule nothing is decided by the missing votes alone: the gate
    waits and the deadline escalates to the coordinators.
    """
    need = required_approvals(rule, quorum, voters)
    if approvals >= need:
        return "approved"
    if rejections > 0 and voters - rejections < need:
        return "rejected"
    return "pending"


def check_comment(decision: str, comment: str) -> None:
    """A rejection keeps the phase open; the coordinators need to know why."""
    if decision == "reject" and not comment.strip():
        raise RuleViolation(COMMENT_REQUIRED, "Bitte begründen Sie eine Ablehnung.",
                            field="comment")


def check_decision(state: ApprovalState, *, voters_known: bool, user_id: object, email: str,
                   comment: str) -> None:
    """Whether this member may cast a vote now (each asked member decides once).

    Checked by the validator and again by the handler (after the voter list is loaded).
    `check_comment` is the validator's alone: a handler replaying a vote accepted before that
    rule existed must take the same steps as when it was recorded."""
    if has_control_chars(comment) or has_control_chars(email):
        raise RuleViolation(INVALID_TEXT, CONTROL_CHAR_MESSAGE)
    if state.status != "pending":
        raise RuleViolation(APPROVAL_CLOSED, "Über diese Freigabe ist bereits entschieden.")
    if voters_known and user_id not in state.voters:
        raise RuleViolation(NOT_A_VOTER, "Sie sind für diese Freigabe nicht stimmberechtigt.")
    if any(v.user_id == user_id for v in state.votes):
        raise RuleViolation(ALREADY_DECIDED, "Sie haben bereits abgestimmt.")


# Small numbers in words, as a sentence about a steering group says them.
_NUMBER_WORDS = ("null", "ein", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht",
                 "neun", "zehn", "elf", "zwölf")


def _number(n: int) -> str:
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else str(n)


def rule_in_words(rule: GateRule, quorum: int | None, voters: int) -> str:
    """The approval rule as the steering member reads it ("alle drei Mitglieder müssen
    zustimmen", "eine Mehrheit von 3 der 5 Mitglieder muss zustimmen"), with the counts of
    `required_approvals`, so the words and the decision never disagree."""
    need = required_approvals(rule, quorum, voters)
    if voters == 1:
        return "Das eine gefragte Mitglied muss zustimmen."
    if rule == "any":
        return (f"Eine Zustimmung genügt: eines der {voters} Mitglieder muss zustimmen."
                if voters else "Eine Zustimmung genügt.")
    if rule == "all":
        return f"Alle {_number(voters)} Mitglieder müssen zustimmen." if voters > 1 else (
            "Alle Mitglieder müssen zustimmen.")
    if rule == "majority":
        return f"Eine Mehrheit von {need} der {voters} Mitglieder muss zustimmen."
    return f"Mindestens {need} der {voters} Mitglieder müssen zustimmen (Quorum)."
