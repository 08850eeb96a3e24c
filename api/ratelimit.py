"""Small in-memory rate limiters: participant endpoints (per token and per address) and
failed staff sign-ins (per account and per address).

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

import hashlib
import hmac
import math
import os
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from starlette.requests import Request

from services.errors import RateLimited

# What the participant limiter's 429 asks a client to wait (its buckets refill per minute).
RETRY_AFTER_SECONDS = 60


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
        address = client_address(request)
        if not self.by_address.allow(address) or not self.by_token.allow(token[:200]):
            raise RateLimited("Zu viele Anfragen. Bitte versuchen Sie es in einer Minute erneut.",
                              code="rate_limited", retry_after=RETRY_AFTER_SECONDS)


def participation_limits(request: Request) -> ParticipationLimits:
    return _on_state(request, "participation_limits", ParticipationLimits)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class FailureWindow:
    """Failures per key within a sliding window; memory bounded like TokenBucket."""

    def __init__(self, limit: int, window_seconds: float, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window_seconds
        self.max_keys = max_keys
        self.failures: dict[str, deque[float]] = {}

    def _live(self, key: str, now: float) -> deque[float] | None:
        stamps = self.failures.get(key)
        if stamps is None:
            return None
        while stamps and now - stamps[0] >= self.window:
            stamps.popleft()
        if not stamps:
            del self.failures[key]
            return None
        return stamps

    def retry_after(self, key: str, now: float) -> float | None:
        """Seconds until the key may try again, or None when it is not locked."""
        stamps = self._live(key, now)
        if self.limit <= 0 or stamps is None or len(stamps) < self.limit:
            return None
        # Unlocked when the failure that completed the limit leaves the window.
        return self.window - (now - stamps[-self.limit])

    def record(self, key: str, now: float) -> None:
        if self.limit <= 0:
            return
        stamps = self._live(key, now)
        if stamps is None:
            if len(self.failures) >= self.max_keys:
                self.failures = {k: d for k, d in self.failures.items()
                                 if d and now - d[-1] < self.window}
                if len(self.failures) >= self.max_keys:
                    self.failures.clear()
            stamps = self.failures[key] = deque(maxlen=max(self.limit, 1))
        stamps.append(now)

    def clear(self, key: str) -> None:
        self.failures.pop(key, None)


class LoginThrottle:
    """Failed sign-ins: after `account_failures` for one e-mail address or `address_failures`
    from one client address within the window, every attempt is refused (429, Retry-After),
    the right password too: otherwise guessing would just continue until it hits.

    Per API process like the limiter above. Environment: MITWIRKEN_LOGIN_ACCOUNT_FAILURES
    (default 5), MITWIRKEN_LOGIN_ADDRESS_FAILURES (20; an office shares one address),
    MITWIRKEN_LOGIN_WINDOW_SECONDS (900).
    """

    def __init__(self, account_failures: int | None = None, address_failures: int | None = None,
                 window_seconds: float | None = None) -> None:
        env = os.environ
        window = window_seconds if window_seconds is not None else float(
            env.get("MITWIRKEN_LOGIN_WINDOW_SECONDS", "900"))
        self.by_account = FailureWindow(account_failures if account_failures is not None else
                                        int(env.get("MITWIRKEN_LOGIN_ACCOUNT_FAILURES", "5")),
                                        window)
        self.by_address = FailureWindow(address_failures if address_failures is not None else
                                        int(env.get("MITWIRKEN_LOGIN_ADDRESS_FAILURES", "20")),
                                        window)

    @staticmethod
    def _account(email: str) -> str:
        return email.strip().lower()[:320]

    def check(self, request: Request, email: str) -> None:
        """Before the password is looked at (a locked attempt costs no hash)."""
        now = time.monotonic()
        waits = [w for w in (self.by_account.retry_after(self._account(email), now),
                             self.by_address.retry_after(client_address(request), now))
                 if w is not None]
        if waits:
            seconds = max(1, math.ceil(max(waits)))
            minutes = max(1, math.ceil(seconds / 60))
            raise RateLimited(
                "Zu viele fehlgeschlagene Anmeldeversuche. Bitte versuchen Sie es in "
                + ("einer Minute" if minutes == 1 else f"{minutes} Minuten") + " erneut.",
                code="too_many_login_attempts", details={"retry_after": seconds},
                retry_after=seconds)

    def failed(self, request: Request, email: str) -> None:
        now = time.monotonic()
        self.by_account.record(self._account(email), now)
        self.by_address.record(client_address(request), now)

    def succeeded(self, email: str) -> None:
        # The address keeps its count: one valid account must not reset an attacker's budget.
        self.by_account.clear(self._account(email))


def login_throttle(request: Request) -> LoginThrottle:
    return _on_state(request, "login_throttle", LoginThrottle)


class AddressAndEmailLimits:
    """Requests per minute by client address and by the e-mail address they name, the same
    for known and unknown addresses (a limit that only known ones hit would tell)."""

    def __init__(self, env_prefix: str, per_address: str, per_email: str, message: str) -> None:
        env = os.environ
        self.by_address = TokenBucket(float(env.get(f"{env_prefix}_ADDRESS_PER_MINUTE",
                                                    per_address)))
        self.by_email = TokenBucket(float(env.get(f"{env_prefix}_EMAIL_PER_MINUTE", per_email)))
        self.message = message

    def check(self, request: Request, email: str) -> None:
        if not self.by_address.allow(client_address(request)) or not self.by_email.allow(
                email.strip().lower()[:320]):
            raise RateLimited(self.message, code="rate_limited")


class PublicRegistrationLimits(AddressAndEmailLimits):
    def __init__(self) -> None:
        super().__init__("MITWIRKEN_PUBLIC_REGISTRATION", "20", "3",
                         "Zu viele Anmeldungen. Bitte versuchen Sie es in einer Minute erneut.")


class PasswordResetLimits(AddressAndEmailLimits):
    """Reset links: nobody floods a colleague's mailbox or the relay through the form."""

    def __init__(self) -> None:
        super().__init__("MITWIRKEN_PASSWORD_RESET", "10", "3",
                         "Zu viele Anfragen. Bitte versuchen Sie es in einer Minute erneut.")


_Limits = TypeVar("_Limits")


def _on_state(request: Request, name: str, factory: Callable[[], _Limits]) -> _Limits:
    """The app's limiter of this kind, created on first use (kept on app.state, one per API
    process)."""
    limits = getattr(request.app.state, name, None)
    if limits is None:
        limits = factory()
        setattr(request.app.state, name, limits)
    return limits  # type: ignore[no-any-return]


def public_registration_limits(request: Request) -> PublicRegistrationLimits:
    return _on_state(request, "public_registration_limits", PublicRegistrationLimits)


def password_reset_limits(request: Request) -> PasswordResetLimits:
    return _on_state(request, "password_reset_limits", PasswordResetLimits)


class MultiplierLimits:
    """The public multiplier link (`/m/{secret}`, api/pages/multiplier.py): anyone may post it,
    so submissions are limited per client address, with the address kept only as a keyed hash
    (a random key per process, never written anywhere) in this process's memory; the buckets
    are forgotten a minute after their last use. Page views per address are limited like the
    token pages', but not per link: a partner's whole audience shares one link.
    MITWIRKEN_MULTIPLIER_ADDRESS_PER_MINUTE (page views, default 120),
    MITWIRKEN_MULTIPLIER_SUBMITS_PER_MINUTE (answers, default 10: a class room or a
    community centre behind one address may answer together)."""

    def __init__(self, views_per_minute: float | None = None,
                 submits_per_minute: float | None = None) -> None:
        env = os.environ
        self._key = secrets.token_bytes(32)
        self.views = TokenBucket(views_per_minute if views_per_minute is not None else
                                 float(env.get("MITWIRKEN_MULTIPLIER_ADDRESS_PER_MINUTE", "120")))
        self.submits = TokenBucket(submits_per_minute if submits_per_minute is not None else
                                   float(env.get("MITWIRKEN_MULTIPLIER_SUBMITS_PER_MINUTE", "10")))

    def address_key(self, request: Request) -> str:
        return hmac.new(self._key, client_address(request).encode(),
                        hashlib.sha256).hexdigest()[:32]

    def _check(self, bucket: TokenBucket, request: Request) -> None:
        if not bucket.allow(self.address_key(request)):
            raise RateLimited("Zu viele Anfragen. Bitte versuchen Sie es in einer Minute erneut.",
                              code="rate_limited", retry_after=RETRY_AFTER_SECONDS)

    def check_view(self, request: Request) -> None:
        self._check(self.views, request)

    def check_submit(self, request: Request) -> None:
        self._check(self.submits, request)


def multiplier_limits(request: Request) -> MultiplierLimits:
    return _on_state(request, "multiplier_limits", MultiplierLimits)
