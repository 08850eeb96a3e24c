"""The domain event feed: paged JSON and a Server-Sent Events stream, organisation-scoped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from api.deps import CurrentUser, SessionDep, principal_for_token, token_from
from services.errors import Unauthorized
from services.events.service import EventOut, list_events, newest_seq

router = APIRouter(prefix="/api/v1/events", tags=["events"])

POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
# How often an open stream re-checks its credentials (token age, sign-in not revoked): a
# stream must not outlive a logout or an expired token by more than this.
CREDENTIAL_CHECK_SECONDS = 15.0
# `seq` is a PostgreSQL bigint: a larger cursor must be a 422 here, not a 500 from asyncpg.
MAX_SEQ = 2**63 - 1


class EventPage(BaseModel):
    events: list[EventOut]
    next_after: int


@router.get("", response_model=EventPage)
async def feed(
    session: SessionDep,
    principal: CurrentUser,
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventPage:
    events = await list_events(session, principal, after=after, limit=limit)
    return EventPage(events=events, next_after=events[-1].seq if events else after)


def _resume_seq(last_event_id: str) -> int | None:
    """The browser echoes the last `id:` it saw; anything that is not one of our seqs (`str.isdigit`
    also accepts "¹", and a huge number would overflow bigint mid-stream) starts at the newest."""
    if not last_event_id.isascii() or not last_event_id.isdigit():
        return None
    seq = int(last_event_id)
    return seq if seq <= MAX_SEQ else None


@router.get("/stream")
async def stream(
    request: Request,
    principal: CurrentUser,
    after: Annotated[int | None, Query(ge=0, le=MAX_SEQ)] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """SSE: each event as `id: seq`, `event: type`, `data: json`. A reconnecting browser sends
    Last-Event-ID and resumes after it; without either, the stream starts at the newest event."""
    maker = request.app.state.sessionmaker
    signer = request.app.state.signer
    token = token_from(request)
    orgs = principal.organisation_ids
    start = after
    if start is None and last_event_id:
        start = _resume_seq(last_event_id)

    async def generate() -> AsyncIterator[str]:
        cursor = start
        if cursor is None:
            async with maker() as session:
                cursor = await newest_seq(session, orgs)
        yield ": connected\n\n"
        idle = 0.0
        checked = asyncio.get_running_loop().time()
        while not await request.is_disconnected():
            now = asyncio.get_running_loop().time()
            if now - checked >= CREDENTIAL_CHECK_SECONDS:
                checked = now
                try:
                    async with maker() as session:
                        await principal_for_token(session, signer, token)
                except Unauthorized as exc:
                    # A last event says why, so a client signs in again instead of retrying.
                    yield f"event: session_ended\ndata: {{\"code\": \"{exc.code}\"}}\n\n"
                    return
            async with maker() as session:
                events = await list_events(session, principal, after=cursor, limit=500)
            for ev in events:
                cursor = ev.seq
                yield f"id: {ev.seq}\nevent: {ev.type}\ndata: {ev.model_dump_json()}\n\n"
            if events:
                idle = 0.0
                continue
            await asyncio.sleep(POLL_SECONDS)
            idle += POLL_SECONDS
            if idle >= KEEPALIVE_SECONDS:
                idle = 0.0
                yield ": keepalive\n\n"

    return StreamingResponse(
        generate(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )

