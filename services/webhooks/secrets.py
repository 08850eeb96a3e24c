"""Signing secrets: generated as Standard Webhooks `whsec_<base64>`, kept encrypted, and the
`webhook-signature` they make.

The secret must stay usable to sign (HMAC needs the key itself, a hash would not do), so it is
stored encrypted with a key derived from the app's secret key (Fernet: AES-128-CBC + HMAC): a
database dump alone does not reveal it. Changing MITWIRKEN_SECRET_KEY therefore needs a secret
rotation of every subscription.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet

PREFIX = "whsec_"
SECRET_BYTES = 32


def generate_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _fernet(app_secret_key: str) -> Fernet:
    # A key of its own for this purpose, derived from the app key (never the app key as is).
    digest = hashlib.sha256(b"mitwirken/webhook-secrets\x00" + app_secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(secret: str, app_secret_key: str) -> str:
    return _fernet(app_secret_key).encrypt(secret.encode()).decode()


def decrypt(token: str, app_secret_key: str) -> str:
    return _fernet(app_secret_key).decrypt(token.encode()).decode()


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the secret's bytes."""
    key = base64.b64decode(secret.removeprefix(PREFIX))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signature_header(signing_secrets: list[str], msg_id: str, timestamp: int,
                     body: bytes) -> str:
    """Space-separated, one per secret (both during a rotation)."""
    return " ".join(signature(s, msg_id, timestamp, body) for s in signing_secrets)
