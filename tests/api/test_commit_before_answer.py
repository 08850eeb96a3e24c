"""An answer is sent only after its unit of work committed: a client that acts on it at once
(a token used for the next request, a created object read back) finds the rows. Measured
over a real socket, with commits slowed down so the order is deterministic."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from tests.support.live_server import live_server

SLOW = 0.5


class SlowCommitSession(AsyncSession):
    async def commit(self) -> None:
        await asyncio.sleep(SLOW)  # a slow commit is the condition under test, not a wait
        await super().commit()


async def test_a_token_works_for_the_very_next_request(settings, engine,  # type: ignore[no-untyped-def]
                                                       make_committed_staff):
    staff = await make_committed_staff()
    maker = async_sessionmaker(engine, class_=SlowCommitSession, expire_on_commit=False)
    app = create_app(settings, sessionmaker=maker)
    async with live_server(app) as base, httpx.AsyncClient(base_url=base, timeout=10) as http:
        r = await http.post("/api/v1/auth/token",
                            json={"email": staff.email, "password": staff.password})
        assert r.status_code == 200, r.text
        me = await http.get("/api/v1/auth/me",
                            headers={"Authorization": f"Bearer {r.json()['access_token']}"})
        assert me.status_code == 200, me.text
