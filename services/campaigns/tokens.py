"""Participant tokens: only their SHA-256 hash is ever stored.

An invitation's token is derived as HMAC-SHA256(secret_key, invitation id) rather than kept:
the database holds only `hash_token(token)`, yet the send activity can rebuild the exact same
link for the first mail, a retried batch and every reminder without storing the plaintext.
Invitation ids are random (uuid4), so the token cannot be guessed without the secret key;
rotating the key invalidates the links of running campaigns (documented for operators).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid


def new_token() -> str:
    """A fresh random URL-safe token (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a token: SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_token(secret_key: str, invitation_id: uuid.UUID) -> str:
    """The reproducible token of one invitation (see the module docstring)."""
    digest = hmac.new(
        secret_key.encode(), b"invitation:" + invitation_id.bytes, hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
