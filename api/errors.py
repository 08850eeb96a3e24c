"""One error body for every failure: {"error": {"code", "message", "details"}} (API.md).

A browser opening a page (not under /api/, Accept naming text/html) gets the same failure as
a German page with a way back instead (templates/errors/page.html): a bare JSON body is a dead
end for someone who followed a link or reloaded after a form."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

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


# What a person reads for each status; the domain's own message follows when it says more.
PAGE_TEXTS: dict[int, tuple[str, str]] = {
    400: ("Ungültige Anfrage", "Die Anfrage konnte so nicht verarbeitet werden."),
    401: ("Anmeldung erforderlich", "Bitte melden Sie sich an, um diese Seite zu sehen."),
    403: ("Kein Zugriff", "Ihre Rolle erlaubt diese Seite oder Aktion nicht. Wenden Sie sich "
          "an die Administration Ihrer Organisation, wenn Sie sie brauchen."),
    404: ("Seite nicht gefunden", "Diese Seite gibt es nicht (mehr). Bitte prüfen Sie die "
          "Adresse oder den Link."),
    405: ("Aktion hier nicht möglich", "Diese Adresse lässt sich so nicht aufrufen, etwa wenn "
          "eine Seite nach dem Absenden eines Formulars neu geladen wurde."),
    409: ("Konflikt mit dem aktuellen Stand", "Die Aktion passt nicht zum aktuellen Stand, "
          "vielleicht hat jemand anderes gerade etwas geändert. Bitte laden Sie die Seite neu "
          "und versuchen Sie es noch einmal."),
    410: ("Nicht mehr verfügbar", "Dieser Inhalt ist nicht mehr verfügbar."),
    413: ("Zu groß", "Die gesendeten Daten sind zu groß."),
    422: ("Eingabe ungültig", "Die Angaben konnten nicht verarbeitet werden."),
    429: ("Zu viele Anfragen", "Bitte warten Sie einen Moment und versuchen Sie es dann erneut."),
    500: ("Interner Fehler", "Etwas ist schiefgegangen. Bitte versuchen Sie es später erneut."),
    503: ("Vorübergehend nicht erreichbar", "Ein benötigter Dienst ist gerade nicht "
          "erreichbar. Bitte versuchen Sie es in ein paar Minuten erneut."),
}


# Where a code says more than its status: a 403 that is not about the role.
CODE_TEXTS: dict[str, tuple[str, str]] = {
    "cross_origin_request": ("Anfrage von einer anderen Seite", "Das Formular wurde von einer "
                             "anderen Website aus abgeschickt; das nehmen wir zu Ihrem Schutz "
                             "nicht an. Öffnen Sie die Seite direkt hier und senden Sie es "
                             "dort noch einmal."),
    "csrf_token_invalid": ("Formular abgelaufen", "Das Formular ist abgelaufen oder kam nicht "
                           "von dieser Anwendung. Bitte laden Sie die Seite neu und senden "
                           "Sie es noch einmal."),
}


def wants_page(request: Request) -> bool:
    """A browser on a page: HTML. API paths and clients not asking for HTML keep JSON."""
    if request.url.path.startswith("/api/") or request.url.path == "/openapi.json":
        return False
    return "text/html" in request.headers.get("accept", "").lower()


def _back_link(request: Request) -> tuple[str, str]:
    """Where the page leads back: the previous page of this site, the staff overview for
    someone signed in, else the start page."""
    referer = request.headers.get("referer", "")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if referer.startswith(own + "/") and referer.split("#")[0] != str(request.url):
        return referer[len(own):], "Zurück zur vorigen Seite"
    from api.deps import SESSION_COOKIE

    if request.cookies.get(SESSION_COOKIE):
        return "/app", "Zur Übersicht"
    return "/", "Zur Startseite"


def error_page(request: Request, status: int, code: str, message: str, details: Any = None,
               headers: dict[str, str] | None = None) -> Response:
    from api.templating import templates

    title, text = CODE_TEXTS.get(code) or PAGE_TEXTS.get(
        status, PAGE_TEXTS[500] if status >= 500 else PAGE_TEXTS[400])
    fields = [d for d in details if isinstance(d, dict) and d.get("message")] \
        if isinstance(details, list) else []
    href, label = _back_link(request)
    generic = {"Nicht gefunden.", "Interner Fehler.", str(status)}
    return templates.TemplateResponse(request, "errors/page.html", {
        "principal": None, "status": status, "code": code, "title": title, "text": text,
        "message": None if message in generic or message == text or code in CODE_TEXTS
        else message,
        "fields": fields, "back_href": href, "back_label": label,
        "retry_after": (headers or {}).get("Retry-After"),
    }, status_code=status, headers=headers)


def respond(request: Request, status: int, code: str, message: str, details: Any = None,
            headers: dict[str, str] | None = None) -> Response:
    if wants_page(request):
        return error_page(request, status, code, message, details, headers)
    return error_response(status, code, message, details, headers)


async def send_error(scope: Scope, receive: Receive, send: Send, status: int, code: str,
                     message: str, headers: dict[str, str] | None = None) -> None:
    """The same answer from an ASGI middleware that refuses a request before any route runs
    (the origin check, the body-size limit): a browser gets the page, an API client the JSON
    body, exactly as from the exception handlers below."""
    await respond(Request(scope), status, code, message, None, headers)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        return respond(request, exc.status_code, exc.code, exc.message, exc.details,
                       error_headers(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        details = _field_errors(exc)
        if wants_page(request):
            # Pydantic's messages are English: the page names the fields in German words.
            details = [{"field": d["field"], "message": "ungültiger Wert"} for d in details]
        return respond(request, 422, "validation_error", "Die Eingabe ist ungültig.", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = STATUS_CODES.get(exc.status_code, "error")
        return respond(request, exc.status_code, code, str(exc.detail), None,
                       getattr(exc, "headers", None))

    def _database_error(request: Request, exc: Exception) -> Response:
        # A server shutting down or starting up (CannotConnectNowError), too many connections,
        # a broken or refused connection: asyncpg's errors at connect time reach us as a plain
        # DBAPIError (or unwrapped), not as OperationalError, so they are told by their cause.
        broken = OperationalError | InterfaceError | asyncpg.InterfaceError
        if (isinstance(exc, broken) and not is_data_error(exc)) \
                or getattr(exc, "connection_invalidated", False) or is_connection_error(exc):
            return respond(request, 503, "database_unavailable",
                           "Die Datenbank ist nicht erreichbar.")
        if isinstance(exc, IntegrityError | asyncpg.IntegrityConstraintViolationError):
            # Services validate first; reaching a constraint means a concurrent writer won.
            return respond(request, 409, "conflict",
                           "Die Änderung widerspricht einer gleichzeitigen Änderung.")
        if is_data_error(exc):
            # A value the database cannot take that no schema caught: still bad input.
            log.warning("database refused a value: %s", exc)
            return respond(request, 422, "validation_error", "Die Eingabe ist ungültig.")
        log.exception("database error")
        return respond(request, 500, "internal_error", "Interner Fehler.")

    @app.exception_handler(DBAPIError)
    async def _db(request: Request, exc: DBAPIError) -> Response:
        return _database_error(request, exc)

    @app.exception_handler(asyncpg.PostgresError)
    @app.exception_handler(asyncpg.InterfaceError)
    async def _pg(request: Request, exc: Exception) -> Response:
        # Raw driver errors from the statements that bypass SQLAlchemy (the submit hot path).
        return _database_error(request, exc)

    @app.exception_handler(OSError)
    async def _os(request: Request, exc: OSError) -> Response:
        log.warning("dependency unreachable: %s", exc)
        return respond(request, 503, "unavailable",
                       "Ein benötigter Dienst ist nicht erreichbar.")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        return respond(request, 500, "internal_error", "Interner Fehler.")
