"""Signed bearer tokens with expiry (itsdangerous; the key comes from settings)."""

from __future__ import annotations

import uuid

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from services.errors import Unauthorized


class TokenSigner:
    def __init__(self, secret_key: str, ttl_seconds: int, *, salt: str = "access-token") -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt=salt)
        self.ttl_seconds = ttl_seconds

    def issue(self, user_id: uuid.UUID) -> str:
        return self._serializer.dumps({"sub": str(user_id)})

    def verify(self, token: str) -> uuid.UUID:
        try:
            payload = self._serializer.loads(token, max_age=self.ttl_seconds)
        except SignatureExpired as exc:
            raise Unauthorized("Die Anmeldung ist abgelaufen.", code="token_expired") from exc
        except BadSignature as exc:
            raise Unauthorized("Ungültiges Zugangstoken.", code="invalid_token") from exc
        try:
            return uuid.UUID(payload["sub"])
        except (KeyError, TypeError, ValueError) as exc:
            raise Unauthorized("Ungültiges Zugangstoken.", code="invalid_token") from exc
