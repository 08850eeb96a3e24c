"""Liveness and readiness."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["health"])

# One late answer is no outage. The check once said "Temporal down" while it was up: a single
# RPC under a 3 s timeout loses whenever this process's event loop is busy for longer (a
# CPU-heavy request: password hashing, a spreadsheet), because the timeout fires before the
# loop gets to the answer that had arrived. So each dependency gets a few fresh, short
# attempts; the worst case stays under five seconds.
ATTEMPTS = 3
ATTEMPT_TIMEOUT = 1.4
BACKOFF = 0.1


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _retried(check: Callable[[], Awaitable[bool]]) -> bool:
    for attempt in range(ATTEMPTS):
        try:
            if await asyncio.wait_for(check(), timeout=ATTEMPT_TIMEOUT):
                return True
        except Exception:  # unreachable, refused, timed out: try again, then call it "down"
            pass
        if attempt + 1 < ATTEMPTS:
            await asyncio.sleep(BACKOFF * (attempt + 1))
    return False


async def _database_ok(request: Request) -> bool:
    async def check() -> bool:
        async with request.app.state.sessionmaker() as session:
            await session.execute(text("select 1"))
        return True

    return await _retried(check)


async def _temporal_ok(request: Request) -> bool:
    async def check() -> bool:
        client = await request.app.state.temporal.get()
        # A fresh health RPC each time; NOT_SERVING (a server still starting) is "down" too.
        return bool(await client.service_client.check_health(
            timeout=timedelta(seconds=ATTEMPT_TIMEOUT)))

    return await _retried(check)


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    db, temporal = await asyncio.gather(_database_ok(request), _temporal_ok(request))
    checks = {"database": "ok" if db else "down", "temporal": "ok" if temporal else "down"}
    if db and temporal:
        return JSONResponse({"status": "ready", "checks": checks})
    down = [name for name, state in checks.items() if state == "down"]
    return JSONResponse(
        status_code=503,
        content={"error": {"code": "not_ready",
                           "message": "Nicht bereit: " + ", ".join(down) + " nicht erreichbar.",
                           "details": checks}},
    )
