"""Signed bearer tokens with expiry (itsdangerous; the key comes from settings).

A token names the user and the sign-in (`staff_sessions` row) it belongs to; the signature and
its age are checked here, the sign-in (not revoked, not expired) by the identity service.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from services.errors import Unauthorized


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID


class TokenSigner:
    def __init__(self, secret_key: str, ttl_seconds: int, *, salt: str = "access-token") -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt=salt)
        self.ttl_seconds = ttl_seconds

    def issue(self, user_id: uuid.UUID, session_id: uuid.UUID) -> str:
        return self._serializer.dumps({"sub": str(user_id), "sid": str(session_id)})

    def verify(self, token: str) -> TokenClaims:
        try:
            payload = self._serializer.loads(token, max_age=self.ttl_seconds)
        except SignatureExpired as exc:
            raise Unauthorized("Die Anmeldung ist abgelaufen.", code="token_expired") from exc
        except BadSignature as exc:
            raise Unauthorized("Ungültiges Zugangstoken.", code="invalid_token") from exc
        try:
            # A token without a sign-in id predates revocable sessions: it cannot be revoked,
            # so it is not accepted (its holder signs in once more).
            return TokenClaims(uuid.UUID(payload["sub"]), uuid.UUID(payload["sid"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise Unauthorized("Ungültiges Zugangstoken.", code="invalid_token") from exc
