"""A small in-memory rate limiter for participant endpoints (per token and per address).

It counts per API process: with N replicas a client gets up to N times the limit. That is
enough to stop a runaway script or a double-click storm; a shared limiter (PostgreSQL or Redis)
would be needed for a hard global limit. Limits come from the environment so operators (and the
benchmark) can tune them: MITWIRKEN_PARTICIPATION_TOKEN_PER_MINUTE (default 30),
MITWIRKEN_PARTICIPATION_ADDRESS_PER_MINUTE (default 600; participants of a town hall or a
school often share one address). The public event registration form (anyone can post it, and
each post mails an address) has its own, tighter limits:
MITWIRKEN_PUBLIC_REGISTRATION_ADDRESS_PER_MINUTE (default 20 per client address) and
MITWIRKEN_PUBLIC_REGISTRATION_EMAIL_PER_MINUTE (default 3 per e-mail address, so the form
cannot be used to flood someone's mailbox).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from starlette.requests import Request

from services.errors import RateLimited


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class TokenBucket:
    """`rate` requests per minute with a burst of the same size; memory bounded by sweeping."""

    def __init__(self, per_minute: float, max_keys: int = 100_000) -> None:
        self.per_minute = per_minute
        self.per_second = per_minute / 60.0
        self.max_keys = max_keys
        self.buckets: dict[str, _Bucket] = {}

    def allow(self, key: str, now: float | None = None) -> bool:
        if self.per_minute <= 0:
            return True
        now = time.monotonic() if now is None else now
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) >= self.max_keys:
                self._sweep(now)
            bucket = self.buckets[key] = _Bucket(self.per_minute, now)
        else:
            bucket.tokens = min(self.per_minute,
                                bucket.tokens + (now - bucket.stamp) * self.per_second)
            bucket.stamp = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def _sweep(self, now: float) -> None:
        full = 60.0  # a bucket idle for a minute is full again: forget it
        self.buckets = {k: b for k, b in self.buckets.items() if now - b.stamp < full}
        if len(self.buckets) >= self.max_keys:
            self.buckets.clear()


class ParticipationLimits:
    def __init__(self, token_per_minute: float | None = None,
                 address_per_minute: float | None = None) -> None:
        env = os.environ
        self.by_token = TokenBucket(token_per_minute if token_per_minute is not None else
                                    float(env.get("MITWIRKEN_PARTICIPATION_TOKEN_PER_MINUTE",
                                                  "30")))
        self.by_address = TokenBucket(address_per_minute if address_per_minute is not None else
                                      float(env.get("MITWIRKEN_PARTICIPATION_ADDRESS_PER_MINUTE",
                                                    "600")))

    def check(self, request: Request, token: str) -> None:
        address = request.client.host if request.client else "unknown"
        if not self.by_address.allow(address) or not self.by_token.allow(token[:200]):
            raise RateLimited("Zu viele Anfragen. Bitte versuchen Sie es in einer Minute erneut.",
                              code="rate_limited")


def participation_limits(request: Request) -> ParticipationLimits:
    """The app's limiter, created on first use (kept on app.state, one per API process)."""
    state = request.app.state
    limits = getattr(state, "participation_limits", None)
    if limits is None:
        limits = state.participation_limits = ParticipationLimits()
    return limits  # type: ignore[no-any-return]


class PublicRegistrationLimits:
    def __init__(self) -> None:
        env = os.environ
        self.by_address = TokenBucket(float(env.get(
            "MITWIRKEN_PUBLIC_REGISTRATION_ADDRESS_PER_MINUTE", "20")))
        self.by_email = TokenBucket(float(env.get(
            "MITWIRKEN_PUBLIC_REGISTRATION_EMAIL_PER_MINUTE", "3")))

    def check(self, request: Request, email: str) -> None:
        address = request.client.host if request.client else "unknown"
        if not self.by_address.allow(address) or not self.by_email.allow(
                email.strip().lower()[:320]):
            raise RateLimited("Zu viele Anmeldungen. Bitte versuchen Sie es in einer Minute "
                              "erneut.", code="rate_limited")


def public_registration_limits(request: Request) -> PublicRegistrationLimits:
    state = request.app.state
    limits = getattr(state, "public_registration_limits", None)
    if limits is None:
        limits = state.public_registration_limits = PublicRegistrationLimits()
    return limits  # type: ignore[no-any-return]
