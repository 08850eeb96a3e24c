"""All SQL of the multiplier links (services/surveys/multiplier.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update

from services.models.meeting import Meeting
from services.models.stakeholder import Stakeholder
from services.models.survey import MultiplierLink, Survey
from services.repository import Repository
from services.surveys.validation import AnswerRow

# The link's answer counter, the response, its answers and the draft's deletion in ONE
# statement, gated on the UPDATE of the link row: it takes the row lock, and after waiting for
# a concurrent submission PostgreSQL re-evaluates the WHERE on the new row version (READ
# COMMITTED), so `answers < cap` holds however many submit at once (no read-then-write). The
# response gets the link's group and tier and the channel, a random id, the date (column
# default) and no language: nothing on it names the link, the client or a person.
# The gate: the link takes one more (not closed, under its cap, within its dates). `{now}` is
# the parameter holding the moment.
_GATE = ("closed_at IS NULL AND (cap IS NULL OR answers < cap) "
         "AND (opens_at IS NULL OR opens_at <= {now}) AND (closes_at IS NULL OR closes_at > {now})")
_SUBMIT = (
    "WITH link AS (UPDATE multiplier_links SET answers = answers + 1 "
    f"WHERE id = $1 AND {_GATE.format(now='$5')} "
    "RETURNING survey_id, group_key, reach_tier), "
    "resp AS (INSERT INTO survey_responses (id, survey_id, group_key, reach_tier, channel, "
    "language) SELECT CAST($2 AS uuid), survey_id, group_key, reach_tier, 'multiplier', NULL "
    "FROM link), "
    "draft AS (DELETE FROM survey_drafts WHERE token_hash = CAST($3 AS text) "
    "AND EXISTS (SELECT FROM link)), "
    "answers AS (INSERT INTO survey_answers "
    "(id, response_id, survey_id, question_key, ordinal, choice, num, text) "
    "SELECT gen_random_uuid(), CAST($2 AS uuid), CAST($4 AS uuid), u.q, u.o, u.c, u.n, u.t "
    "FROM unnest(CAST($6 AS text[]), CAST($7 AS smallint[]), CAST($8 AS text[]), "
    "CAST($9 AS float8[]), CAST($10 AS text[])) AS u(q, o, c, n, t) "
    "WHERE EXISTS (SELECT FROM link)) "
    "SELECT count(*) FROM link"
)


class LinksRepository(Repository):
    async def add(self, link: MultiplierLink) -> None:
        self.session.add(link)
        await self.session.flush()

    async def of_target(self, *, survey_id: uuid.UUID | None,
                        meeting_id: uuid.UUID | None) -> list[MultiplierLink]:
        rows = await self.session.scalars(
            select(MultiplierLink).where(MultiplierLink.survey_id == survey_id
                                         if survey_id is not None
                                         else MultiplierLink.meeting_id == meeting_id)
            .order_by(MultiplierLink.created_at, MultiplierLink.id)
            .execution_options(populate_existing=True))
        return list(rows)

    async def partners(self, organisation_id: uuid.UUID, limit: int = 1000) -> list[Stakeholder]:
        """The organisation's stakeholders of kind organisation (not erased), by name."""
        rows = await self.session.scalars(
            select(Stakeholder).where(Stakeholder.organisation_id == organisation_id,
                                      Stakeholder.kind == "organisation",
                                      Stakeholder.erased_at.is_(None))
            .order_by(Stakeholder.name, Stakeholder.id).limit(limit))
        return list(rows)

    async def get(self, link_id: uuid.UUID, *, survey_id: uuid.UUID | None,
                  meeting_id: uuid.UUID | None) -> MultiplierLink | None:
        return (await self.session.scalars(select(MultiplierLink).where(
            MultiplierLink.id == link_id,
            MultiplierLink.survey_id == survey_id if survey_id is not None
            else MultiplierLink.meeting_id == meeting_id)
            .execution_options(populate_existing=True))).first()

    async def close(self, link_id: uuid.UUID, now: datetime) -> bool:
        """Close at once; False if it was closed already (the first close time stays)."""
        result = await self.session.execute(
            update(MultiplierLink).where(MultiplierLink.id == link_id,
                                         MultiplierLink.closed_at.is_(None))
            .values(closed_at=now).returning(MultiplierLink.id))
        return result.first() is not None

    async def by_secret(self, secret_hash: str) -> tuple[MultiplierLink, Survey] | None:
        row = (await self.session.execute(
            select(MultiplierLink, Survey).join(Survey, Survey.id == MultiplierLink.survey_id)
            .where(MultiplierLink.secret_hash == secret_hash))).first()
        return (row[0], row[1]) if row is not None else None

    async def link_by_secret(self, secret_hash: str) -> MultiplierLink | None:
        """The link whatever its target."""
        return (await self.session.scalars(select(MultiplierLink).where(
            MultiplierLink.secret_hash == secret_hash))).first()

    async def event_by_secret(self, secret_hash: str) -> tuple[MultiplierLink, Meeting] | None:
        row = (await self.session.execute(
            select(MultiplierLink, Meeting).join(Meeting, Meeting.id == MultiplierLink.meeting_id)
            .where(MultiplierLink.secret_hash == secret_hash)
            .execution_options(populate_existing=True))).first()
        return (row[0], row[1]) if row is not None else None

    async def by_results_secret(self, results_hash: str
                                ) -> tuple[MultiplierLink, Survey | Meeting] | None:
        row = (await self.session.execute(
            select(MultiplierLink, Survey, Meeting)
            .outerjoin(Survey, Survey.id == MultiplierLink.survey_id)
            .outerjoin(Meeting, Meeting.id == MultiplierLink.meeting_id)
            .where(MultiplierLink.results_hash == results_hash))).first()
        if row is None:
            return None
        return row[0], row[1] if row[1] is not None else row[2]

    async def take(self, link_id: uuid.UUID, now: datetime) -> bool:
        """Count one registration through an event's link, under the link's row lock, in the
        caller's transaction (the confirmation's): the same gate as a survey answer's, so the
        cap holds however many confirm at once. False (nothing changed) when it takes no
        more."""
        row = await self.raw_fetchrow(
            "UPDATE multiplier_links SET answers = answers + 1 "
            f"WHERE id = $1 AND meeting_id IS NOT NULL AND {_GATE.format(now='$2')} "
            "RETURNING id", link_id, now)
        return row is not None

    async def answers(self, link_id: uuid.UUID) -> int:
        value = await self.session.scalar(
            select(MultiplierLink.answers).where(MultiplierLink.id == link_id))
        return int(value or 0)

    async def submit(self, *, link_id: uuid.UUID, survey_id: uuid.UUID, now: datetime,
                     draft_hash: str, rows: Sequence[AnswerRow]) -> uuid.UUID | None:
        """The submission (`_SUBMIT`); the new response's id, or None when the link took no
        more answers (closed, outside its dates, or its cap reached) and nothing was written."""
        response_id = uuid.uuid4()
        row = await self.raw_fetchrow(
            _SUBMIT, link_id, response_id, draft_hash, survey_id, now,
            [r.question_key for r in rows], [r.ordinal for r in rows],
            [r.choice for r in rows], [None if r.num is None else float(r.num) for r in rows],
            [r.text for r in rows])
        return response_id if row[0] else None
