"""How long saved, unsubmitted answers ("Zwischenspeichern", `survey_drafts`) are kept.

A draft belongs to its participant until they submit it, and submitting deletes it. One that
is never submitted must not stay for ever (DSGVO Art. 5(1)(e), storage limitation): it is
kept only while it can still become an answer, and not for ever even then. The rule, in one
place (`draft_expired`; the repository's sweep statement is its SQL form, and
tests/services/surveys/test_draft_retention.py checks the two agree on every case):

- its survey has closed (`closes_at` in the past): a closed survey takes no answers, so the
  draft can never be submitted; deleted at once, no grace;
- its multiplier link is closed (closed by staff, or past the link's own `closes_at`): the link
  takes no answers any more, even while the survey still does;
- it has not been saved for `max_idle_days` (DRAFT_MAX_IDLE_DAYS unless the operator sets
  MITWIRKEN_DRAFT_RETENTION_DAYS): for a survey without an end date, and for a participant who
  gave up long before the end.

The sweep itself (`expire_drafts`) runs once a day from a Temporal workflow
(workflows/draft_retention.py), so a draft is gone at most a day after it expired.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.events.service import record_event
from services.surveys.repository import SurveyRepository

# 90 days: surveys here run for weeks, rarely more than two months, and invitation reminders
# come within that time; a participant who saved and comes back (after the summer holidays,
# six weeks in Hesse) still finds their answers. A draft untouched for a quarter has been
# given up. Only for surveys without an end date, or a participant who stopped early, does the
# limit matter at all: the closed-survey rule takes every other draft at the survey's end.
DRAFT_MAX_IDLE_DAYS = 90
# Rows per DELETE: each batch is its own short transaction, so a sweep over a large backlog
# (the first sweep after the upgrade) neither holds locks long nor builds one huge WAL record.
DRAFT_SWEEP_BATCH = 1000


def idle_cutoff(now: datetime, max_idle_days: int) -> date:
    """The newest `saved_on` that is too old: a draft saved on this day or before it has not
    been saved for `max_idle_days` days."""
    return now.date() - timedelta(days=max_idle_days)


def draft_expired(*, saved_on: date, survey_closes_at: datetime | None,
                  link_closed_at: datetime | None = None,
                  link_closes_at: datetime | None = None,
                  now: datetime, max_idle_days: int = DRAFT_MAX_IDLE_DAYS) -> bool:
    """True when the draft is to be deleted (the module's rule). `link_*` are the multiplier
    link's dates for a draft saved through a link, None for an invitation's draft."""
    if survey_closes_at is not None and survey_closes_at <= now:
        return True
    if link_closed_at is not None or (link_closes_at is not None and link_closes_at <= now):
        return True
    return saved_on <= idle_cutoff(now, max_idle_days)


UnitOfWork = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def expire_drafts(unit: UnitOfWork, *, now: datetime,
                        max_idle_days: int = DRAFT_MAX_IDLE_DAYS,
                        batch: int = DRAFT_SWEEP_BATCH) -> int:
    """Delete every expired draft, `batch` rows per statement, each batch in its own unit of
    work (`unit()` commits on leaving, like infra.db.session_scope); returns how many.

    Idempotent: a second sweep finds nothing (0). When something was deleted, one domain
    event `survey.drafts_expired` with the count alone (no key, no survey: nothing to point
    at a participant) is recorded in the last batch's transaction. An interrupted sweep keeps
    what its committed batches deleted; its retry deletes (and counts) the rest."""
    total = 0
    while True:
        async with unit() as session:
            deleted = await SurveyRepository.from_session(session).delete_expired_drafts(
                now=now, idle_cutoff=idle_cutoff(now, max_idle_days), limit=batch)
            total += deleted
            if deleted < batch:
                if total:
                    # Not an organisation's event: the sweep spans all of them (no feed or
                    # webhook sees it; it is the installation's record that the rule ran).
                    await record_event(session, organisation_id=None,
                                       type="survey.drafts_expired", data={"deleted": total})
                return total
