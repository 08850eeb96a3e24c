"""The base of every repository: built per session (`Repo.from_session(session)`), SQL only."""

from __future__ import annotations

from typing import Any, Self

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.errors import Unavailable

# Raised by asyncpg when the connection is gone (server restart, network): the pool must drop
# the connection, as SQLAlchemy does for its own statements (it does not see these errors).
# InternalClientError: the server's FATAL (a terminated backend) was read but the socket's
# close not yet, so the protocol is stuck consuming an error; the connection is unusable.
CONNECTION_ERRORS = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError,
                     asyncpg.InternalClientError,
                     asyncpg.exceptions.OperatorInterventionError)  # 57P01 admin shutdown etc.


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._conn: AsyncConnection | None = None
        self._driver: asyncpg.Connection | None = None

    @classmethod
    def from_session(cls, session: AsyncSession) -> Self:
        return cls(session)

    async def raw_fetchrow(self, sql: str, *args: Any, atomic: bool = False) -> Any:
        """One statement on the raw asyncpg connection of the session, for the hot paths
        (a participant's answer, a registration): asyncpg's prepared statement cache and no
        SQLAlchemy execution around it. Unless the session already opened a transaction
        (a SQLAlchemy statement before), the statement runs on its own, in autocommit: it
        must then be complete in itself. The connection is looked up once per repository,
        which lives within one transaction (`from_session` per use; never kept across a
        commit). `atomic`: inside a transaction, the statement gets a savepoint, so its
        failure leaves the transaction usable for what the caller does next."""
        if self._conn is None:
            # Each look-up costs greenlet switches; the hot path asks once per request.
            self._conn = await self.session.connection()
            self._driver = (await self._conn.get_raw_connection()).driver_connection
        conn, raw = self._conn, self._driver
        assert raw is not None  # asyncpg always exposes its driver connection
        try:
            if atomic and raw.is_in_transaction():
                async with raw.transaction():
                    return await raw.fetchrow(sql, *args)
            return await raw.fetchrow(sql, *args)
        except Exception as exc:
            # Which error a dead connection raises depends on how far asyncpg read the
            # server's goodbye; a closed connection is dead whatever was raised.
            if not (isinstance(exc, CONNECTION_ERRORS) or raw.is_closed()):
                raise
            await conn.invalidate()  # the pool opens a fresh connection for the next request
            raise Unavailable("Die Datenbank ist nicht erreichbar.",
                              code="database_unavailable") from exc
