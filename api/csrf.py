"""Cross-site request forgery and framing: two layers for the cookie-authenticated pages.

1. `BrowserGuard` (ASGI middleware, outermost): every response carries the security headers
   (no framing anywhere, no MIME sniffing, no Referer to other origins — a /t/{token} page
   must not leak its token); an unsafe request (POST/PUT/PATCH/DELETE) that a browser marks
   as coming from elsewhere — `Sec-Fetch-Site` other than same-origin/none, or an `Origin`
   other than this site's — is refused with 403 before any handler runs. "This site" is the
   public URL's origin or the origin the request itself was addressed to (scheme + Host), so
   a sibling port or a sub-domain of the town's domain is "elsewhere" (SameSite=Lax cookies
   would still be sent from there: same *site*, different *origin*).
2. `verify_csrf` (app-wide dependency): a synchronizer token in every staff form (the hidden
   field `csrf_token`, put into every template's context by `api/templating.py`) or, for
   scripts, the `X-CSRF-Token` header. The token is an HMAC under the secret key of the
   session cookie and a random pre-session cookie (`mitwirken_csrf`, set by the middleware
   on the first page), so the login form is protected too (login CSRF) and a token is worth
   nothing with another person's session.

Not covered, on purpose:
- Bearer-token requests: a browser never attaches an Authorization header by itself.
- Participant links (/t/{token}, /api/v1/participation/{token}, and a public event
  registration's /anmeldung/{token}, /api/v1/public-registrations/{token}): the secret is in
  the URL, which another site cannot know; mail providers' RFC 8058 one-click unsubscribe posts from
  their servers without any cookie or form token, and must keep working.
- Unsafe requests without a session cookie (other than the login form): nothing to forge.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import SESSION_COOKIE
from api.errors import send_error
from services.errors import Forbidden

SEED_COOKIE = "mitwirken_csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
TOKEN_PATHS = ("/t/", "/api/v1/participation/", "/anmeldung/",
               "/api/v1/public-registrations/")
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    # Full Referer only within this origin: a /t/{token} URL never reaches another site.
    # (Not "no-referrer": that would make browsers send `Origin: null` on our own forms.)
    (b"referrer-policy", b"same-origin"),
]
_REJECTED = "Die Anfrage kam nicht von einer Seite dieser Anwendung und wurde abgelehnt."


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme)
    host = (parts.hostname or "").lower()
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


class BrowserGuard:
    def __init__(self, app: ASGIApp, *, public_url: str) -> None:
        self.app = app
        self.public_origin = _origin(public_url)
        self.secure = public_url.startswith("https://")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1")
                   for k, v in scope.get("headers") or []}
        path: str = scope["path"]
        if scope["method"] not in SAFE_METHODS and not path.startswith(TOKEN_PATHS) \
                and not _bearer(headers) and self._cross_origin(scope, headers):
            await self._reject(scope, receive, send)
            return
        seed = _cookie(headers.get("cookie", ""), SEED_COOKIE) or ""
        # Only where a staff form may follow: participants get no cookie from us at all.
        new_seed = not seed and not path.startswith(("/api/", "/static/", *TOKEN_PATHS))
        if new_seed:
            seed = secrets.token_urlsafe(24)
        scope.setdefault("state", {})["csrf_seed"] = seed

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    if name.decode() not in out:
                        out.raw.append((name, value))
                if new_seed:
                    out.append("set-cookie", _seed_cookie(seed, self.secure))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _cross_origin(self, scope: Scope, headers: dict[str, str]) -> bool:
        fetch_site = headers.get("sec-fetch-site")
        if fetch_site is not None and fetch_site not in ("same-origin", "none"):
            return True
        origin = headers.get("origin")
        if origin is None:
            return False  # not a browser, or one too old to say; the form token decides
        host = headers.get("host", "")
        own = _origin(f"{scope.get('scheme', 'http')}://{host}") if host else None
        return origin.lower() not in (self.public_origin, own)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_security_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).raw.extend(SECURITY_HEADERS)
            await send(message)

        # A browser gets the German error page with a way back (issue 13), an API client the
        # JSON body of API.md.
        await send_error(scope, receive, with_security_headers, 403, "cross_origin_request",
                         _REJECTED)


def _bearer(headers: dict[str, str]) -> bool:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(value.strip())


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


def _seed_cookie(seed: str, secure: bool) -> str:
    # A year: a long-open login tab keeps working. HttpOnly: only the server reads it.
    return (f"{SEED_COOKIE}={seed}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax"
            + ("; Secure" if secure else ""))


def csrf_token(request: Request) -> str:
    """The form token for this browser: bound to its pre-session cookie and its session."""
    seed = request.scope.get("state", {}).get("csrf_seed") or ""
    session = request.cookies.get(SESSION_COOKIE, "")
    key = request.app.state.settings.resolved_secret_key().encode()
    message = f"csrf|{seed}|{session}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


async def verify_csrf(request: Request) -> None:
    """App-wide dependency: an unsafe cookie-authenticated request needs the form token."""
    if request.method in SAFE_METHODS or request.url.path.startswith(TOKEN_PATHS):
        return
    if _bearer(dict(request.headers)):
        return
    if SESSION_COOKIE not in request.cookies and request.url.path != "/login":
        return
    sent = request.headers.get(HEADER)
    if sent is None:
        value = (await request.form()).get(FIELD)
        sent = value if isinstance(value, str) else None
    if not request.scope.get("state", {}).get("csrf_seed") or not sent \
            or not hmac.compare_digest(sent, csrf_token(request)):
        raise Forbidden("Das Formular ist abgelaufen oder kam nicht von dieser Anwendung. "
                        "Bitte laden Sie die Seite neu und senden Sie es noch einmal.",
                        code="csrf_token_invalid")
