"""Knobs of the campaign sender (environment, prefix MITWIRKEN_CAMPAIGN_).

The overall rate limit is the shared `MITWIRKEN_MAIL_RATE_PER_SECOND` (infra.config); these
say how the sender spreads the work.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class CampaignSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MITWIRKEN_CAMPAIGN_", extra="ignore")

    # Recipients per send activity: large enough that activity overhead is small, small
    # enough that a retried batch repeats little work and progress moves visibly.
    batch_size: int = 500
    # Send activities running at once per campaign (hides scheduling gaps between batches).
    parallel_batches: int = 3
    # SMTP connections per send activity (each with its own database connection).
    connections: int = 4
    # A recipient whose mail keeps failing temporarily is marked failed after this many tries.
    max_attempts: int = 5


@lru_cache
def get_campaign_settings() -> CampaignSettings:
    return CampaignSettings()
