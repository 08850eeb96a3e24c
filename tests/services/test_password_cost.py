"""The production password hasher keeps argon2's recommended cost (the tests run a cheap one,
tests/conftest.py), and the unknown-e-mail path verifies against a hash of the same cost."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from argon2.profiles import RFC_9106_LOW_MEMORY

from services.identity import passwords


@pytest.mark.argon2_cost
def test_production_parameters() -> None:
    hasher = passwords._hasher
    assert isinstance(hasher, PasswordHasher)
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (
        RFC_9106_LOW_MEMORY.time_cost, RFC_9106_LOW_MEMORY.memory_cost,
        RFC_9106_LOW_MEMORY.parallelism)
    stored = passwords.hash_password("richtig-geheim-123")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords._DUMMY_HASH.split("$")[3] == stored.split("$")[3]
    assert passwords.verify_password(stored, "richtig-geheim-123")
    assert not passwords.verify_password(stored, "falsch")
    assert not passwords.verify_password(None, "not-a-real-password")
