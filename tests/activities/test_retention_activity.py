"""The draft retention activity as Temporal runs it (`ActivityEnvironment`) against the real
database, with the worker's settings: an expired draft goes, an open survey's fresh one stays,
and the retry Temporal may make deletes nothing more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from temporalio.testing import ActivityEnvironment

from activities.retention import expire_survey_drafts
from infra.config import get_settings
from services.models.survey import SurveyDraft
from services.surveys import service
from tests.support.surveys import make_campaign, make_invites, make_process, make_survey


async def test_expire_survey_drafts_twice(  # type: ignore[no-untyped-def]
        committed_maker, worker_env, make_committed_staff, monkeypatch):
    # The worker's setting decides the idle limit: 5 days here, not the default 90.
    monkeypatch.setenv("MITWIRKEN_DRAFT_RETENTION_DAYS", "5")
    get_settings.cache_clear()  # worker_env clears it again afterwards
    staff = await make_committed_staff()
    async with committed_maker() as s:
        survey = await make_survey(s, await make_process(s, staff.org_id),
                                   from_template="vielfaltsmanager-feedback")
        fresh, idle = await make_invites(s, await make_campaign(s, survey), 2)
        for invite in (fresh, idle):
            await service.save_draft(s, invite.token, {"gesamt": 3})
        await s.execute(
            SurveyDraft.__table__.update()
            .where(SurveyDraft.token_hash == idle.invitation.token_hash)
            .values(saved_on=datetime.now(UTC).date() - timedelta(days=5)))
        await s.commit()
    hashes = [fresh.invitation.token_hash, idle.invitation.token_hash]
    env = ActivityEnvironment()

    assert await env.run(expire_survey_drafts) >= 1
    assert await env.run(expire_survey_drafts) == 0  # the retry: nothing left
    async with committed_maker() as s:
        left = (await s.scalars(select(SurveyDraft.token_hash).where(
            SurveyDraft.token_hash.in_(hashes)))).all()
        assert left == [fresh.invitation.token_hash]
        await s.execute(delete(SurveyDraft).where(SurveyDraft.token_hash.in_(hashes)))
        await s.commit()
