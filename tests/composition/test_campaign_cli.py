"""`mitwirken campaigns watch ID` draws a progress bar and ends when sending is done."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from typer.testing import CliRunner

from composition.cli import app
from infra.config import get_settings
from services.campaigns import service as campaigns
from tests.support.campaigns import add_stakeholders, make_campaign, make_org


async def test_watch_shows_progress_until_sent(committed_maker, pg_url):
    maker = committed_maker
    org_id = await make_org(maker)
    await add_stakeholders(maker, org_id, [
        {"name": f"P{i}", "email": f"cli{i}-{org_id.hex[:8]}@example.org", "group_key": "g"}
        for i in range(3)])
    campaign = await make_campaign(maker, org_id, deadline=datetime.now(UTC) + timedelta(days=3))
    async with maker() as s:
        await campaigns.select_audience(s, campaign.id, secret_key="k" * 40, batch_size=10,
                                        started_at=datetime.now(UTC))
        # As if the mail worker had sent them all.
        await s.execute(text("UPDATE invitations SET status = 'sent', sent_at = now() "
                             "WHERE campaign_id = :c"), {"c": campaign.id})
        await s.commit()

    runner = CliRunner()
    get_settings.cache_clear()
    try:
        result = await asyncio.to_thread(
            runner.invoke, app, ["campaigns", "watch", str(campaign.id), "--interval", "0.1"],
            env={"MITWIRKEN_DATABASE_URL": pg_url})
        missing = await asyncio.to_thread(
            runner.invoke, app, ["campaigns", "watch", str(uuid.uuid4())],
            env={"MITWIRKEN_DATABASE_URL": pg_url})
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "3/3" in result.output and "100.0 %" in result.output
    assert "3 von 3 Einladungen versendet; unbestätigt 0 · fehlgeschlagen 0" in result.output
    assert missing.exit_code == 1 and "nicht gefunden" in missing.output
