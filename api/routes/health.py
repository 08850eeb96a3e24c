"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _database_ok(request: Request) -> bool:
    try:
        async with request.app.state.sessionmaker() as session:
            await asyncio.wait_for(session.execute(text("select 1")), timeout=3)
        return True
    except Exception:  # any failure to reach the database is "down"
        return False


async def _temporal_ok(request: Request) -> bool:
    try:
        client = await request.app.state.temporal.get()
        await asyncio.wait_for(client.service_client.check_health(), timeout=3)
        return True
    except Exception:  # Unavailable, timeouts, RPC errors: all mean "down"
        return False


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
