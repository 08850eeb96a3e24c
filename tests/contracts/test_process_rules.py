"""The phase and approval rules as pure functions: no Temporal, no database."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from contracts import process as c
from contracts import process_rules as rules
from contracts.process import (
    ApprovalState,
    ChecklistItemState,
    GateSpec,
    PhaseState,
    ProcessState,
    Vote,
)


def _state() -> ProcessState:
    d = date(2026, 3, 1)
    return ProcessState(
        process_id=uuid.uuid4(), organisation_id=uuid.uuid4(), title="T", current_phase="a",
        started=True, phases=[
            PhaseState(key="a", title="Planung", kind="planning", planned_start=d,
                       planned_end=d, status="active", gate=GateSpec(rule="majority"),
                       checklist=[ChecklistItemState(key="x", title="X")]),
            PhaseState(key="b", title="Mitte", kind="event", planned_start=d, planned_end=d),
            PhaseState(key="c", title="Ende", kind="evaluation", planned_start=d,
                       planned_end=d)])


def _code(fn, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(rules.RuleViolation) as exc:
        fn(*args, **kwargs)
    return exc.value.code


def test_advance_rules() -> None:
    s = _state()
    assert _code(rules.check_advance, s, "b", None) == c.PHASE_MISMATCH
    assert _code(rules.check_advance, s, "a", None) == c.CHECKLIST_OPEN
    assert rules.check_advance(s, "a", "Termin drängt").key == "a"
    s.phases[0].approval_status = "pending"
    assert _code(rules.check_advance, s, "a", "x") == c.GATE_NOT_APPROVED
    s.status = "completed"
    assert _code(rules.check_advance, s, "a", "x") == c.PROCESS_COMPLETED
    assert _code(rules.check_advance, _state(), "a", "a\x00b") == c.INVALID_TEXT


def test_skip_reschedule_checklist_rules() -> None:
    s = _state()
    assert _code(rules.check_skip, s, "b", "  ") == c.REASON_REQUIRED
    assert _code(rules.check_skip, s, "zz", "weil") == c.UNKNOWN_PHASE
    s.phases[1].status = "skipped"
    assert _code(rules.check_skip, s, "b", "weil") == c.PHASE_CLOSED
    assert _code(rules.check_reschedule, s, "b", date(2026, 1, 1), date(2026, 2, 1)) \
        == c.PHASE_CLOSED
    assert _code(rules.check_reschedule, s, "c", date(2026, 2, 1), date(2026, 1, 1)) \
        == c.INVALID_WINDOW
    assert _code(rules.check_reschedule, s, "c", date(1, 1, 1), date(2026, 1, 1)) \
        == c.DATE_OUT_OF_RANGE
    assert _code(rules.check_checklist, s, "a", "nope") == c.UNKNOWN_ITEM
    # The phase after a skipped one is the next that opens.
    assert rules.next_pending(s, s.phases[0]).key == "c"  # type: ignore[union-attr]


def test_the_page_and_the_workflow_ask_the_same_question_about_a_gate() -> None:
    assert rules.needs_approval(True, None) and rules.needs_approval(True, "rejected")
    assert not rules.needs_approval(True, "approved") and not rules.needs_approval(False, None)


def test_decision_rules() -> None:
    voter = uuid.uuid4()
    a = ApprovalState(approval_id=uuid.uuid4(), phase_key="a", rule="any", voters=[voter])
    assert _code(rules.check_comment, "reject", " ") == c.COMMENT_REQUIRED
    rules.check_comment("approve", "")
    assert _code(rules.check_decision, a, voters_known=True, user_id=uuid.uuid4(),
                 email="x@example.org", comment="") == c.NOT_A_VOTER
    a.votes.append(Vote(user_id=voter, email="x@example.org", decision="approve"))
    assert _code(rules.check_decision, a, voters_known=True, user_id=voter,
                 email="x@example.org", comment="") == c.ALREADY_DECIDED
    a.status = "approved"
    assert _code(rules.check_decision, a, voters_known=True, user_id=voter,
                 email="x@example.org", comment="") == c.APPROVAL_CLOSED
