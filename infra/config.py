"""Settings from environment variables (the names API.md promises to operators)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MITWIRKEN_", extra="ignore")

    data_dir: Path = Path(".data")
    database_url: str | None = None
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    smtp_host: str | None = None
    smtp_port: int | None = None
    mail_from: str = "beteiligung@localhost"
    public_url: str = "http://localhost:8000"
    secret_key: str | None = None
    api_port: int = 8000
    # Not in API.md's table: knobs with safe defaults for operators who need them.
    token_ttl_seconds: int = 8 * 3600
    time_zone: str = "Europe/Berlin"
    mail_rate_per_second: float = 200.0
    max_body_bytes: int = Field(default=1_000_000)
    # Set by `mitwirken dev` when the embedded mail sink runs: shows /dev/mail to staff.
    dev_mail_viewer: bool = False
    # Webhook targets: non-public networks (CIDR, comma-separated) outbound requests may reach
    # anyway. Empty: public addresses only (SSRF). `mitwirken dev` allows loopback.
    webhook_allowed_networks: str = ""
    webhook_timeout_seconds: float = 10.0
    # The first retry of a failed delivery (then doubling up to 6 h, for 3 days).
    webhook_retry_initial_seconds: float = 10.0
    # A submitted resolution not acknowledged by the clerk within this many days reminds them.
    resolution_ack_reminder_days: int = Field(default=5, ge=1, le=365)
    # Saved, unsubmitted answers not saved again for this many days are deleted (DSGVO
    # storage limitation; why 90: services/surveys/retention.py DRAFT_MAX_IDLE_DAYS).
    draft_retention_days: int = Field(default=90, ge=1, le=3650)

    @property
    def effective_temporal_address(self) -> str:
        return self.temporal_address or "localhost:7233"

    def resolved_secret_key(self) -> str:
        """The signing key: from the environment, else generated once into the data dir.

        Outside the embedded default an operator must set it; generating one per process
        would make tokens signed by one API replica invalid on another.
        """
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
