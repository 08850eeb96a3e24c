"""Draft retention (services/surveys/retention.py): the rule on its own, and the sweep against
the real database: drafts of a closed survey, of a closed link and idle ones go, everything
else stays, the SQL agrees with the rule on every draft, a second sweep deletes nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, func, select, text, update

from infra.config import Settings
from infra.db import session_scope
from services.models.domain_event import DomainEvent
from services.models.survey import MultiplierLink, Survey, SurveyDraft, SurveyResponse
from services.surveys import multiplier, service
from services.surveys.retention import (
    DRAFT_MAX_IDLE_DAYS,
    draft_expired,
    expire_drafts,
    idle_cutoff,
)
from tests.support.multiplier import make_link, make_partner
from tests.support.surveys import make_campaign, make_invites, make_process, make_survey

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
PAST = NOW - timedelta(minutes=1)
LATER = NOW + timedelta(days=1)


# --- the rule --------------------------------------------------------------------------------

def test_a_fresh_draft_of_an_open_survey_is_kept() -> None:
    assert not draft_expired(saved_on=TODAY, survey_closes_at=None, now=NOW)
    assert not draft_expired(saved_on=TODAY, survey_closes_at=LATER, link_closes_at=LATER,
                             now=NOW)


def test_a_closed_survey_takes_its_drafts_at_once() -> None:
    assert draft_expired(saved_on=TODAY, survey_closes_at=PAST, now=NOW)
    assert draft_expired(saved_on=TODAY, survey_closes_at=NOW, now=NOW)  # closes_at <= now


def test_a_closed_link_takes_its_drafts_even_while_the_survey_is_open() -> None:
    assert draft_expired(saved_on=TODAY, survey_closes_at=None, link_closed_at=PAST, now=NOW)
    assert draft_expired(saved_on=TODAY, survey_closes_at=LATER, link_closes_at=PAST, now=NOW)


def test_an_idle_draft_goes_after_the_limit_to_the_day() -> None:
    limit = DRAFT_MAX_IDLE_DAYS
    assert idle_cutoff(NOW, limit) == TODAY - timedelta(days=limit)
    assert not draft_expired(saved_on=TODAY - timedelta(days=limit - 1), survey_closes_at=None,
                             now=NOW)
    assert draft_expired(saved_on=TODAY - timedelta(days=limit), survey_closes_at=None, now=NOW)
    # The operator's setting is the limit.
    assert draft_expired(saved_on=TODAY - timedelta(days=7), survey_closes_at=None, now=NOW,
                         max_idle_days=7)


def test_the_setting_defaults_to_the_documented_limit() -> None:
    assert Settings().draft_retention_days == DRAFT_MAX_IDLE_DAYS == 90


# --- the sweep against the database -----------------------------------------------------------

async def _draft_rule(session, token_hash: str) -> bool:  # type: ignore[no-untyped-def]
    """The pure rule applied to a stored draft (its survey's and link's dates)."""
    row = (await session.execute(
        select(SurveyDraft.saved_on, Survey.closes_at, MultiplierLink.closed_at,
               MultiplierLink.closes_at)
        .join(Survey, Survey.id == SurveyDraft.survey_id)
        .outerjoin(MultiplierLink, MultiplierLink.id == SurveyDraft.link_id)
        .where(SurveyDraft.token_hash == token_hash))).one()
    return draft_expired(saved_on=row[0], survey_closes_at=row[1], link_closed_at=row[2],
                         link_closes_at=row[3], now=datetime.now(UTC))


async def test_sweep_deletes_exactly_the_expired_drafts(  # type: ignore[no-untyped-def]
        session, rollback_maker, make_staff, settings):
    key = settings.resolved_secret_key()
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    open_survey = await make_survey(session, process, from_template="vielfaltsmanager-feedback")
    closing = await make_survey(session, process, from_template="vielfaltsmanager-feedback")
    fresh, idle, edge = await make_invites(session, await make_campaign(session, open_survey), 3)
    (of_closing,) = await make_invites(session, await make_campaign(session, closing), 1)
    for invite in (fresh, idle, edge, of_closing):
        assert await service.save_draft(session, invite.token, {"gesamt": 4}) == []
    partner = await make_partner(session, staff.org_id, group="jugend", tier=2)
    links = {}
    for name in ("open", "closed", "expired"):
        link_id, secret, _ = await make_link(session, open_survey, partner, key)
        lp = await multiplier.open_link(session, secret, draft_key=f"{name}-{uuid.uuid4()}")
        assert await multiplier.keep_link_draft(session, lp, {"gesamt": 2}, complete=False) == []
        links[name] = (link_id, lp.p.token_hash)

    # A link's draft says which link (that is what lets it go with the link); an
    # invitation's says none.
    assert (await session.get(SurveyDraft, links["open"][1])).link_id == links["open"][0]
    assert (await session.get(SurveyDraft, fresh.invitation.token_hash)).link_id is None

    # Then: one survey closes, one link is closed by staff, one passes its own end, one draft
    # was last saved DRAFT_MAX_IDLE_DAYS ago, another a day less.
    now = datetime.now(UTC)
    closing.closes_at = now - timedelta(minutes=1)
    await multiplier.close_link(session, open_survey, links["closed"][0], actor=None)
    await session.execute(update(MultiplierLink).where(MultiplierLink.id == links["expired"][0])
                          .values(closes_at=now - timedelta(minutes=1)))
    for invite, days in ((idle, DRAFT_MAX_IDLE_DAYS), (edge, DRAFT_MAX_IDLE_DAYS - 1)):
        await session.execute(update(SurveyDraft).where(
            SurveyDraft.token_hash == invite.invitation.token_hash).values(
            saved_on=now.date() - timedelta(days=days)))
    await session.commit()

    gone = {idle.invitation.token_hash, of_closing.invitation.token_hash,
            links["closed"][1], links["expired"][1]}
    kept = {fresh.invitation.token_hash, edge.invitation.token_hash, links["open"][1]}
    # The SQL is the rule: what the rule expires is what the sweep will delete.
    for h in gone | kept:
        assert await _draft_rule(session, h) == (h in gone), h
    before_responses = await session.scalar(select(func.count()).select_from(SurveyResponse))
    before_events = await session.scalar(select(func.max(DomainEvent.seq)))
    await session.commit()

    def unit():  # type: ignore[no-untyped-def]
        return session_scope(rollback_maker)

    # Two rows a batch: the loop runs over several batches (other tests' committed drafts
    # may be due as well, so at least ours).
    deleted = await expire_drafts(unit, now=datetime.now(UTC), batch=2)
    assert deleted >= len(gone)

    left = set((await session.scalars(select(SurveyDraft.token_hash).where(
        SurveyDraft.token_hash.in_(gone | kept)))).all())
    assert left == kept
    # Nothing else touched: the drafts' answers, the surveys, the links, the responses.
    assert (await session.get(SurveyDraft, fresh.invitation.token_hash)).answers == {"gesamt": 4}
    assert await session.get(Survey, closing.id) is not None
    assert await session.scalar(select(func.count()).select_from(MultiplierLink).where(
        MultiplierLink.id.in_([v[0] for v in links.values()]))) == 3
    assert await session.scalar(
        select(func.count()).select_from(SurveyResponse)) == before_responses
    # One event for the sweep, with the count and nothing else.
    events = (await session.scalars(select(DomainEvent).where(
        DomainEvent.seq > (before_events or 0),
        DomainEvent.type == "survey.drafts_expired"))).all()
    assert [(e.organisation_id, e.data) for e in events] == [(None, {"deleted": deleted})]
    await session.commit()

    # Idempotent: the next sweep finds nothing and records nothing.
    assert await expire_drafts(unit, now=datetime.now(UTC)) == 0
    assert await session.scalar(select(func.count()).select_from(DomainEvent).where(
        DomainEvent.type == "survey.drafts_expired",
        DomainEvent.seq > (before_events or 0))) == 1


async def test_a_draft_saved_again_while_the_sweep_waits_is_kept(  # type: ignore[no-untyped-def]
        committed_maker, make_committed_staff):
    """The DELETE checks the rule on the row it locks, not only on the keys it chose: an idle
    draft that the participant saves again while the sweep waits for its row stays."""
    staff = await make_committed_staff()
    async with committed_maker() as s:
        survey = await make_survey(s, await make_process(s, staff.org_id),
                                   from_template="vielfaltsmanager-feedback")
        (invite,) = await make_invites(s, await make_campaign(s, survey), 1)
        await service.save_draft(s, invite.token, {"gesamt": 1})
        h = invite.invitation.token_hash
        await s.execute(update(SurveyDraft).where(SurveyDraft.token_hash == h).values(
            saved_on=date.today() - timedelta(days=DRAFT_MAX_IDLE_DAYS + 1)))
        await s.commit()

    async with committed_maker() as participant:
        # The participant's save holds the row (as save_draft's upsert does until commit).
        await participant.execute(update(SurveyDraft).where(SurveyDraft.token_hash == h)
                                  .values(saved_on=func.current_date()))
        sweep = asyncio.create_task(expire_drafts(lambda: session_scope(committed_maker),
                                                  now=datetime.now(UTC)))
        async with committed_maker() as probe:
            async with asyncio.timeout(10):
                while not await probe.scalar(text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE wait_event_type = 'Lock' AND query LIKE '%survey_drafts%'")):
                    await probe.rollback()  # the statistics are a snapshot per transaction
                    await asyncio.sleep(0.02)
        await participant.commit()
        await sweep
    async with committed_maker() as s:
        assert await s.get(SurveyDraft, h) is not None
        await s.execute(delete(SurveyDraft).where(SurveyDraft.token_hash == h))
        await s.commit()
