"""Signing in and out, shared by the token endpoint and the login page (one home for the
throttle, the password check and the server-side sign-in)."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.ratelimit import login_throttle
from infra.config import Settings
from services.errors import Unauthorized
from services.identity.service import authenticate, end_session, start_session
from services.identity.tokens import TokenSigner


async def sign_in(request: Request, session: AsyncSession, signer: TokenSigner,
                  settings: Settings, email: str, password: str) -> str:
    """A new token for a right password; 401 for a wrong one, 429 while throttled."""
    throttle = login_throttle(request)
    throttle.check(request, email)
    try:
        user = await authenticate(session, email, password)
    except Unauthorized:
        throttle.failed(request, email)
        raise
    throttle.succeeded(email)
    row = await start_session(session, user.id, settings.token_ttl_seconds)
    return signer.issue(user.id, row.id)


async def sign_out(session: AsyncSession, signer: TokenSigner, token: str | None) -> None:
    """Revoke the sign-in a token belongs to; a missing, expired or forged token is a no-op
    (logout always succeeds, and there is nothing to revoke)."""
    if not token:
        return
    try:
        claims = signer.verify(token)
    except Unauthorized:
        return
    await end_session(session, claims)
