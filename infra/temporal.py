"""Temporal client factory, data converter and task queue names."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from infra.config import Settings

# Workflows and database activities.
TASK_QUEUE = "mitwirken"
# Mail sending runs on its own queue so its rate limit does not hold up other activities.
MAIL_TASK_QUEUE = "mitwirken-mail"


async def connect(settings: Settings, *, address: str | None = None) -> Client:
    return await Client.connect(
        address or settings.effective_temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )
