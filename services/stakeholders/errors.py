"""Errors of the stakeholder registry beyond the shared ones."""

from __future__ import annotations

from services.errors import DomainError


class UnsupportedFileType(DomainError):
    status_code = 415
    code = "unsupported_media_type"
