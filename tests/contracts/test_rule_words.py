"""The approval rule in words (contracts.process_rules.rule_in_words) says what
`required_approvals` and `evaluate` decide."""

from __future__ import annotations

import pytest

from contracts import process_rules as rules


@pytest.mark.parametrize(("rule", "quorum", "voters", "words"), [
    ("all", None, 3, "Alle drei Mitglieder müssen zustimmen."),
    ("majority", None, 5, "Eine Mehrheit von 3 der 5 Mitglieder muss zustimmen."),
    ("majority", None, 4, "Eine Mehrheit von 3 der 4 Mitglieder muss zustimmen."),
    ("any", None, 4, "Eine Zustimmung genügt: eines der 4 Mitglieder muss zustimmen."),
    ("quorum", 2, 6, "Mindestens 2 der 6 Mitglieder müssen zustimmen (Quorum)."),
    ("all", None, 1, "Das eine gefragte Mitglied muss zustimmen."),
    ("all", None, 14, "Alle 14 Mitglieder müssen zustimmen."),
])
def test_rule_in_words(rule, quorum, voters, words) -> None:  # type: ignore[no-untyped-def]
    assert rules.rule_in_words(rule, quorum, voters) == words


@pytest.mark.parametrize("voters", [2, 3, 5, 8])
def test_the_majority_in_words_is_the_majority_that_decides(voters: int) -> None:
    need = int(rules.rule_in_words("majority", None, voters).split()[3])
    assert rules.evaluate("majority", None, voters, need, 0) == "approved"
    assert rules.evaluate("majority", None, voters, need - 1, 0) == "pending"
