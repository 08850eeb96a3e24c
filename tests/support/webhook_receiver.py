"""A webhook receiver for tests and the benchmark: a tiny ASGI app that checks every request
with the `standardwebhooks` package (an independent implementation, not the project's code),
answers the statuses it is told to for the first requests, and keeps each message once by its
`webhook-id`, as a real receiver's idempotency would."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass
class Received:
    msg_id: str
    status: int
    verified: bool
    headers: dict[str, str]


@dataclass
class WebhookReceiver:
    secrets: list[str] = field(default_factory=list)  # any of them may verify
    # Answers for the first requests, in order (e.g. [500, 500]); 200 afterwards.
    script: list[int] = field(default_factory=list)
    verify: bool = True
    requests: list[Received] = field(default_factory=list)
    accepted: dict[str, Any] = field(default_factory=dict)  # webhook-id -> payload, once
    attempts_by_id: Counter[str] = field(default_factory=Counter)
    # Per-secret verification results of the last request (rotation tests).
    verified_with: list[str] = field(default_factory=list)

    def _verify(self, body: bytes, headers: dict[str, str]) -> bool:
        self.verified_with = []
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            self.verified_with.append(secret)
        return bool(self.verified_with)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        msg_id = headers.get("webhook-id", "")
        verified = self._verify(body, headers) if self.verify else True
        n = len(self.requests)
        if not verified:
            status = 401
        elif n < len(self.script):
            status = self.script[n]
        else:
            status = 200
        self.requests.append(Received(msg_id, status, verified, headers))
        self.attempts_by_id[msg_id] += 1
        if 200 <= status < 300:
            # Idempotency by webhook-id: a repeated message is acknowledged, not kept again.
            self.accepted.setdefault(msg_id, json.loads(body))
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok" if status < 300 else b"no"})
