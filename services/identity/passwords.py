"""Argon2 password hashing, off the event loop.

One hash costs ~50 ms of CPU and 64 MiB: on the event loop a handful of parallel wrong
passwords stalled every request of the process for seconds. The async variants run in worker
threads (argon2 releases the GIL), at most `_SLOTS` at a time so a burst cannot claim
unbounded memory.
"""

from __future__ import annotations

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
_SLOTS = anyio.CapacityLimiter(4)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def hash_password_async(password: str) -> str:
    return await anyio.to_thread.run_sync(hash_password, password, limiter=_SLOTS)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    return await anyio.to_thread.run_sync(verify_password, password_hash, password,
                                          limiter=_SLOTS)
