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
