"""Annotated dependencies: the unit of work, the Temporal client, settings and the principal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from infra.config import Settings
from infra.db import session_scope
from infra.temporal import connect
from services.errors import Unauthorized, Unavailable
from services.identity.service import Principal, principal_for_claims
from services.identity.tokens import TokenSigner

SESSION_COOKIE = "mitwirken_session"


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: commit when the handler succeeds, roll back otherwise."""
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with session_scope(maker) as session:
        yield session


# scope="function": the commit runs when the handler returns, before the response is sent.
# With the default ("request") FastAPI runs it after the response went out, so a client could
# act on an answer whose rows were not committed yet (a token whose sign-in it cannot find,
# a 201 whose commit then fails).
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


class TemporalHolder:
    """The one Temporal client of this process, connected lazily so the API starts (and
    answers /readyz with 503) while Temporal is still down."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client: Client | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Client:
        if self.client is not None:
            return self.client
        async with self._lock:
            if self.client is None:
                try:
                    self.client = await asyncio.wait_for(connect(self.settings), timeout=5)
                except Exception as exc:  # any connect failure means "unavailable"
                    raise Unavailable(
                        "Temporal ist nicht erreichbar.", code="temporal_unavailable"
                    ) from exc
        return self.client


async def get_temporal(request: Request) -> Client:
    holder: TemporalHolder = request.app.state.temporal
    return await holder.get()


TemporalDep = Annotated[Client, Depends(get_temporal)]


def get_signer(request: Request) -> TokenSigner:
    return request.app.state.signer  # type: ignore[no-any-return]


SignerDep = Annotated[TokenSigner, Depends(get_signer)]


def token_from(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    return request.cookies.get(SESSION_COOKIE)


async def principal_for_token(session: AsyncSession, signer: TokenSigner,
                              token: str | None) -> Principal:
    """Signature, age and the sign-in's server-side state; also re-run by long streams."""
    if not token:
        raise Unauthorized("Anmeldung erforderlich.", code="not_authenticated")
    return await principal_for_claims(session, signer.verify(token))


async def get_principal(request: Request, session: SessionDep, signer: SignerDep) -> Principal:
    return await principal_for_token(session, signer, token_from(request))


CurrentUser = Annotated[Principal, Depends(get_principal)]


async def get_optional_principal(
    request: Request, session: SessionDep, signer: SignerDep
) -> Principal | None:
    try:
        return await get_principal(request, session, signer)
    except Unauthorized:
        return None


OptionalUser = Annotated[Principal | None, Depends(get_optional_principal)]
