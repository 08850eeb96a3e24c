"""One error body for every failure: {"error": {"code", "message", "details"}} (API.md)."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from infra.db import is_connection_error, is_data_error
from services.errors import DomainError, RateLimited

log = logging.getLogger(__name__)

STATUS_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 410: "gone", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_error", 429: "rate_limited",
    503: "unavailable",
}


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={"error": {"code": code, "message": message, "details": details}},
        headers=headers,
    )


def error_headers(exc: DomainError) -> dict[str, str] | None:
    """The headers an error implies (also for the HTML pages that render it themselves)."""
    if exc.status_code == 401:
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, RateLimited) and exc.retry_after is not None:
        return {"Retry-After": str(exc.retry_after)}
    return None


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        out.append({"field": ".".join(loc), "message": err.get("msg", ""), "type": err.get("type")})
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return error_response(exc.status_code, exc.code, exc.message, exc.details,
                              error_headers(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "validation_error", "Die Eingabe ist ungültig.",
                              _field_errors(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = STATUS_CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, code, str(exc.detail), None,
                              getattr(exc, "headers", None))

    def _database_error(exc: Exception) -> JSONResponse:
        # A server shutting down or starting up (CannotConnectNowError), too many connections,
        # a broken or refused connection: asyncpg's errors at connect time reach us as a plain
        # DBAPIError (or unwrapped), not as OperationalError, so they are told by their cause.
        broken = OperationalError | InterfaceError | asyncpg.InterfaceError
        if (isinstance(exc, broken) and not is_data_error(exc)) \
                or getattr(exc, "connection_invalidated", False) or is_connection_error(exc):
            return error_response(503, "database_unavailable",
                                  "Die Datenbank ist nicht erreichbar.")
        if isinstance(exc, IntegrityError | asyncpg.IntegrityConstraintViolationError):
            # Services validate first; reaching a constraint means a concurrent writer won.
            return error_response(409, "conflict",
                                  "Die Änderung widerspricht einer gleichzeitigen Änderung.")
        if is_data_error(exc):
            # A value the database cannot take that no schema caught: still bad input.
            log.warning("database refused a value: %s", exc)
            return error_response(422, "validation_error", "Die Eingabe ist ungültig.")
        log.exception("database error")
        return error_response(500, "internal_error", "Interner Fehler.")

    @app.exception_handler(DBAPIError)
    async def _db(_: Request, exc: DBAPIError) -> JSONResponse:
        return _database_error(exc)

    @app.exception_handler(asyncpg.PostgresError)
    @app.exception_handler(asyncpg.InterfaceError)
    async def _pg(_: Request, exc: Exception) -> JSONResponse:
        # Raw driver errors from the statements that bypass SQLAlchemy (the submit hot path).
        return _database_error(exc)

    @app.exception_handler(OSError)
    async def _os(_: Request, exc: OSError) -> JSONResponse:
        log.warning("dependency unreachable: %s", exc)
        return error_response(503, "unavailable", "Ein benötigter Dienst ist nicht erreichbar.")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "Interner Fehler.")
