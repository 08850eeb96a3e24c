"""ASGI middleware that answers 422 for control characters in the path, the query or a body.

PostgreSQL text columns cannot hold U+0000: a NUL that reaches a query is a driver error
wherever the value is used, and one carried into a workflow's state is retried against the
database forever. The other C0 control characters (except tab, line feed, carriage return) are
never meant either. No legitimate input carries them, so they are refused once, at the
boundary, for every body a route or page can read: JSON, URL-encoded forms and the text fields
of multipart forms (the pages accept multipart as well). Uploaded files (parts with a filename)
are left to their importers, which handle any bytes. The rule itself lives in
`contracts.input_rules`, which the schemas and workflow validators use as well.
"""

from __future__ import annotations

import codecs
import json
import re

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.input_rules import CONTROL_CHAR_MESSAGE, has_control_chars

# A JSON escape of a control character (`\u0000`..`\u001f` but not tab, LF, CR), unless its
# backslash is itself escaped (`\\u0000` is the six characters). Raw control bytes inside a
# JSON string are invalid JSON and refused by the parser; between tokens only whitespace is.
_JSON_CONTROL = re.compile(
    rb"(?<!\\)(?:\\\\)*\\u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F])|[\x00-\x08\x0b\x0c\x0e-\x1f]")
# In URL-encoded text: percent-escaped or raw control bytes. UTF-8 never uses bytes below 0x80
# inside a multi-byte character, so a byte check is exact.
_FORM_CONTROL = re.compile(rb"%(?:0[0-8bBcCeEfF]|1[0-9a-fA-F])|[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _body_422(where: str) -> bytes:
    return json.dumps({"error": {
        "code": "validation_error", "message": "Die Eingabe ist ungültig.",
        "details": [{"field": where, "message": CONTROL_CHAR_MESSAGE,
                     "type": "control_character"}],
    }}).encode()


# Pages get a page: a participant who pasted text with a stray control character (Word's
# line break is U+000B) should read what to do, not a JSON body. German first, then English:
# the guard cannot know whether the page was shown in English (a personal link's language
# comes from its invitation), and English pages must not answer in German only.
_PAGE_422 = ("<!DOCTYPE html><html lang=\"de\"><head><meta charset=\"utf-8\">"
             "<title>Eingabe ungültig / Invalid input</title></head><body><main><h1>Die "
             "Eingabe ist ungültig</h1><p>" + CONTROL_CHAR_MESSAGE + " Bitte gehen Sie "
             "zurück, entfernen Sie das Zeichen (oft aus kopiertem Text) und senden Sie das "
             "Formular erneut.</p><section lang=\"en\"><h2>Invalid input</h2><p>Control "
             "characters (such as the null character) are not allowed. Please go back, remove "
             "the character (often from copied text) and send the form again.</p></section>"
             "</main></body></html>").encode()


def _wants_page(scope: Scope, headers: dict[bytes, bytes]) -> bool:
    return not str(scope["path"]).startswith("/api/") and b"text/html" in headers.get(
        b"accept", b"")


def _json_path(value: object, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Where in a parsed JSON document the first string with a control character is."""
    if isinstance(value, str):
        return path if has_control_chars(value) else None
    if isinstance(value, dict):
        items: list[tuple[str, object]] = list(value.items())
    elif isinstance(value, list):
        items = [(str(i), v) for i, v in enumerate(value)]
    else:
        return None
    for key, item in items:
        if has_control_chars(key):
            return (*path, key)
        found = _json_path(item, (*path, key))
        if found is not None:
            return found
    return None


def _json_offender(body: bytes) -> str | None:
    """The dotted path of the offending field (as validation errors name fields), or "body".
    Parsed only when the fast byte check found something, so valid bodies pay one regex."""
    if not _JSON_CONTROL.search(body):
        return None
    try:
        path = _json_path(json.loads(body))
    except ValueError:  # raw control bytes: invalid JSON, and refused as such all the same
        return "body"
    return ".".join(path) if path else "body"


class _TextFields:
    """Collects the text fields (parts without a filename) of a multipart body; file contents
    are not kept. Callbacks of python-multipart, the parser Starlette's forms use."""

    def __init__(self) -> None:
        self.fields: list[tuple[bytes, bytes]] = []
        self._header = self._value = self._disposition = b""
        self._name = b""
        self._is_file = False
        self._data = bytearray()

    def callbacks(self) -> dict:
        return {"on_part_begin": self._begin, "on_header_field": self._header_field,
                "on_header_value": self._header_value, "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished, "on_part_data": self._part_data,
                "on_part_end": self._part_end}

    def _begin(self) -> None:
        self._disposition, self._data = b"", bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        if self._header.lower() == b"content-disposition":
            self._disposition = self._value
        self._header = self._value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._name = options.get(b"name", b"")
        self._is_file = b"filename" in options

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._is_file:
            self._data += data[start:end]

    def _part_end(self) -> None:
        self.fields.append((self._name, b"" if self._is_file else bytes(self._data)))


def _multipart_offender(body: bytes, content_type: bytes) -> str | None:
    """The name of the first field whose name or text (not file) holds a control character.
    A body that is no valid multipart is left to the route's own parser (a 400 there)."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        return None
    try:
        charset = codecs.lookup(params.get(b"charset", b"utf-8").decode("latin-1")).name
    except LookupError:
        charset = "latin-1"

    def decode(raw: bytes) -> str:
        try:
            return raw.decode(charset)
        except UnicodeDecodeError:
            return raw.decode("latin-1")  # as Starlette's form parser falls back

    collected = _TextFields()
    parser = MultipartParser(boundary, collected.callbacks())  # type: ignore[arg-type]
    try:
        parser.write(body)
        parser.finalize()
    except FormParserError:
        return None
    for raw_name, data in collected.fields:
        name = decode(raw_name)
        if has_control_chars(name):
            return "body"
        if has_control_chars(decode(data)):
            return name or "body"
    return None


class ControlCharGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        page = _wants_page(scope, headers)
        if has_control_chars(scope["path"]):
            await self._reject(send, "path", page)
            return
        if _FORM_CONTROL.search(scope.get("query_string") or b""):
            await self._reject(send, "query", page)
            return
        raw_ctype = headers.get(b"content-type", b"")
        ctype = raw_ctype.split(b";")[0].strip().lower()
        is_json = ctype == b"application/json" or ctype.endswith(b"+json")
        is_multipart = ctype == b"multipart/form-data"
        if not (is_json or is_multipart or ctype == b"application/x-www-form-urlencoded"):
            await self.app(scope, receive, send)
            return
        # Bounded bodies (BodySizeLimit runs outside this middleware): read, check, replay.
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its body
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if is_multipart:
            offender = _multipart_offender(body, raw_ctype)
        elif is_json:
            offender = _json_offender(body)
        else:
            offender = "body" if _FORM_CONTROL.search(body) else None
        if offender is not None:
            await self._reject(send, offender, page)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send: Send, where: str, page: bool = False) -> None:
        body = _PAGE_422 if page else _body_422(where)
        ctype = b"text/html; charset=utf-8" if page else b"application/json"
        await send({"type": "http.response.start", "status": 422,
                    "headers": [(b"content-type", ctype),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
