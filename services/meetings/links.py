"""The links of event mails, rebuilt from ids and the secret key (nothing plaintext stored).

A public registration's token is HMAC-SHA256(secret key, "event-registration:" + id): the
database keeps only its SHA-256 (`confirm_hash`), the mail renderer rebuilds the link, the
same for the double opt-in and for looking at or cancelling the registration later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from services.campaigns.tokens import invitation_token


def public_token(secret_key: str, registration_id: uuid.UUID) -> str:
    digest = hmac.new(secret_key.encode(), b"event-registration:" + registration_id.bytes,
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def manage_link(public_url: str, secret_key: str, registration_id: uuid.UUID,
                invitation_id: uuid.UUID | None) -> str:
    base = public_url.rstrip("/")
    if invitation_id is not None:
        return f"{base}/t/{invitation_token(secret_key, invitation_id)}"
    return f"{base}/anmeldung/{public_token(secret_key, registration_id)}"


def checkin_link(public_url: str, meeting_id: uuid.UUID, code: str) -> str:
    """What the QR code holds: the staff check-in page with the code filled in."""
    return f"{public_url.rstrip('/')}/app/events/{meeting_id}/checkin?code={code}"
