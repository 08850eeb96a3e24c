"""ASGI middleware that answers 422 for NUL characters in the path, query or a JSON/form body.

PostgreSQL text columns cannot hold U+0000: a NUL that reaches a query is a driver error (500)
wherever the value is used (slug lookups, search, login e-mail, ...). No legitimate input carries
one, so it is refused once, at the boundary, instead of in every schema."""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# `\u0000` in JSON text, unless its backslash is itself escaped (`\\u0000` is the six characters).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_FORM_NUL = (b"%00", b"\x00")


def _body_422(where: str) -> bytes:
    return json.dumps({"error": {
        "code": "validation_error", "message": "Die Eingabe ist ungültig.",
        "details": [{"field": where, "message": "Nullzeichen sind nicht erlaubt.",
                     "type": "nul_character"}],
    }}).encode()


class NulGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"]:
            await self._reject(send, "path")
            return
        query = scope.get("query_string") or b""
        if any(marker in query for marker in _FORM_NUL):
            await self._reject(send, "query")
            return
        headers = dict(scope.get("headers") or [])
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        is_json = ctype == b"application/json" or ctype.endswith(b"+json")
        if not is_json and ctype != b"application/x-www-form-urlencoded":
            # Multipart uploads are parsed by their importers, which handle any bytes.
            await self.app(scope, receive, send)
            return
        # Small bodies (BodySizeLimit runs outside this middleware): read, check, replay.
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its body
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if (_JSON_NUL.search(body) if is_json else any(m in body for m in _FORM_NUL)):
            await self._reject(send, "body")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send: Send, where: str) -> None:
        body = _body_422(where)
        await send({"type": "http.response.start", "status": 422,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
