"""The FastAPI application factory; long-lived clients are created once in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import swagger_ui_bundle
from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.csrf import BrowserGuard, verify_csrf
from api.deps import TemporalHolder
from api.errors import install_error_handlers
from api.limits import BodySizeLimit
from api.nul_guard import ControlCharGuard
from api.pages.staff_context import install_staff_pages
from api.routes import ROUTERS
from api.templating import STATIC_DIR
from infra.config import Settings, get_settings
from infra.db import create_engine, create_sessionmaker
from services.identity.tokens import TokenSigner
from services.template_store.service import check_shipped_templates

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
) -> FastAPI:
    """Build the app. Tests pass their own sessionmaker (bound to a rolled-back connection)."""
    settings = settings or get_settings()
    # A shipped template that does not validate stops the start, not the first click on it.
    check_shipped_templates()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = None
        if sessionmaker is None:
            if not settings.database_url:
                raise RuntimeError("MITWIRKEN_DATABASE_URL is not set")
            engine = create_engine(settings.database_url)
            app.state.sessionmaker = create_sessionmaker(engine)
        else:
            app.state.sessionmaker = sessionmaker
        app.state.engine = engine
        try:
            yield
        finally:
            if engine is not None:
                await engine.dispose()

    app = FastAPI(
        title="Mitwirken",
        version="1",
        description="Beteiligungsprozesse für Kommunen — HTTP API v1",
        lifespan=lifespan,
        # Every route: an unsafe cookie-authenticated request needs its form token (api/csrf.py).
        dependencies=[Depends(verify_csrf)],
        # /docs is served below from local assets: FastAPI's default loads them from a CDN,
        # a blank page in a town hall without internet access (issue 13).
        docs_url=None,
    )
    app.state.settings = settings
    app.state.temporal = TemporalHolder(settings)
    app.state.signer = TokenSigner(settings.resolved_secret_key(), settings.token_ttl_seconds)
    if sessionmaker is not None:
        # Available before the lifespan runs (ASGITransport in tests does not run it).
        app.state.sessionmaker = sessionmaker
    install_error_handlers(app)
    install_staff_pages(app)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _install_offline_docs(app)
    app.add_middleware(ControlCharGuard)  # inside BodySizeLimit: it buffers only bounded bodies
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    # Outermost: security headers on every answer, cross-origin posts refused before anything.
    app.add_middleware(BrowserGuard, public_url=settings.public_url)
    return app


# Its own prefix, not under /static: that mount would answer (404) first.
SWAGGER_ASSETS = "/swagger-ui"


def _install_offline_docs(app: FastAPI) -> None:
    """Swagger UI from the pip-installed swagger-ui-bundle, no third-party request."""
    app.mount(
        SWAGGER_ASSETS,
        StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
        name="swagger-ui",
    )
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — API",
            swagger_js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_ASSETS}/favicon-32x32.png",
        )
