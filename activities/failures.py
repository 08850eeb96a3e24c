"""Which activity failures are final: retrying them can never succeed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from temporalio.exceptions import ApplicationError

from contracts.process import INVALID_DATA
from infra.db import is_data_error


@contextmanager
def refused_data_is_final() -> Iterator[None]:
    """A write PostgreSQL refuses as data (a NUL in text, a date out of range) fails the
    activity non-retryably: retried, it fails the same way forever, and the workflow must hear
    of it to keep its state to what is stored. Connection errors still retry, since the
    database comes back."""
    try:
        yield
    except Exception as exc:
        if is_data_error(exc):
            raise ApplicationError("Die Datenbank hat die Daten abgelehnt.", str(exc),
                                   type=INVALID_DATA, non_retryable=True) from exc
        raise
