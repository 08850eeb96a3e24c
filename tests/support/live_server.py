"""The app on a real uvicorn server in the test's event loop, for tests that need real sockets
(SSE streaming, a browser)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from infra.devservices import free_port


@asynccontextmanager
async def live_server(app: Any, *, start_timeout: float = 10.0) -> AsyncIterator[str]:
    """Serve `app` on a free local port; yields the base URL, stops the server on exit."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off",
                                           log_level="warning"))
    task = asyncio.create_task(server.serve())
    for _ in range(int(start_timeout / 0.05)):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def healthz_latencies(base_url: str, busy: asyncio.Task[Any],
                            min_samples: int = 5) -> list[float]:
    """`GET /healthz` over a real socket every 50 ms while `busy` runs (and at least
    `min_samples` times): each time is from the moment the request was due to its answer.
    The server shares the test's event loop, so whatever blocks the loop shows up here, also
    when it starts while this client waits for its next turn."""
    import httpx

    pause = 0.05
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        while not busy.done() or len(latencies) < min_samples:
            due = loop.time() + pause
            await asyncio.sleep(pause)
            r = await http.get("/healthz")
            latencies.append(loop.time() - due)
            assert r.status_code == 200
    return latencies
