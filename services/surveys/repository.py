"""All SQL of the survey domain (built per session)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.campaigns.receipt import receipt_ctes
from services.errors import Conflict
from services.models.campaign import Campaign, Invitation
from services.models.process import Process
from services.models.survey import (
    Survey,
    SurveyAnswer,
    SurveyDraft,
    SurveyQuestion,
    SurveyResponse,
    SurveyResponseLink,
)
from services.repository import Repository
from services.surveys.validation import AnswerRow

_ANSWERS_SELECT = (
    "SELECT gen_random_uuid(), CAST(:r AS uuid), CAST(:s AS uuid), u.q, u.o, u.c, u.n, u.t "
    "FROM unnest(CAST(:q AS text[]), CAST(:o AS smallint[]), CAST(:c AS text[]), "
    "CAST(:n AS float8[]), CAST(:t AS text[])) AS u(q, o, c, n, t)"
)
_ANSWER_COLUMNS = "(id, response_id, survey_id, question_key, ordinal, choice, num, text)"
_INSERT_ANSWERS = text(f"INSERT INTO survey_answers {_ANSWER_COLUMNS} {_ANSWERS_SELECT}")
# Parent and children in one statement: the foreign key is checked at its end.
_INSERT_RESPONSE = text(
    "WITH resp AS (INSERT INTO survey_responses "
    "(id, survey_id, group_key, reach_tier, channel, language) "
    "VALUES (CAST(:r AS uuid), CAST(:s AS uuid), :g, :tier, :ch, :lang)), "
    "draft AS (DELETE FROM survey_drafts WHERE token_hash = :h) "
    f"INSERT INTO survey_answers {_ANSWER_COLUMNS} {_ANSWERS_SELECT}"
)

# The draft retention sweep (services/surveys/retention.py's `draft_expired` in SQL): one
# index-backed branch per reason (closed survey: survey_id; idle: saved_on; closed link: the
# partial link_id index), at most :n keys in all. The DELETE checks the rule again on the row
# it locks: a participant who saved an idle draft a moment ago (the UPDATE committed while
# the sweep waited for the row) keeps it, as PostgreSQL re-evaluates the WHERE, correlated
# subqueries included, on the new row version (READ COMMITTED).
_EXPIRED_WHERE = (
    "(d.saved_on <= :cutoff "
    "OR EXISTS (SELECT FROM surveys s WHERE s.id = d.survey_id AND s.closes_at <= :now) "
    "OR EXISTS (SELECT FROM multiplier_links l WHERE l.id = d.link_id "
    "AND (l.closed_at IS NOT NULL OR l.closes_at <= :now)))"
)
_EXPIRE = text(
    "WITH doomed AS (SELECT token_hash FROM ("
    "(SELECT d.token_hash FROM surveys s JOIN survey_drafts d ON d.survey_id = s.id "
    "WHERE s.closes_at <= :now LIMIT :n) "
    "UNION (SELECT token_hash FROM survey_drafts WHERE saved_on <= :cutoff LIMIT :n) "
    "UNION (SELECT d.token_hash FROM multiplier_links l JOIN survey_drafts d "
    "ON d.link_id = l.id WHERE l.closed_at IS NOT NULL OR l.closes_at <= :now LIMIT :n)"
    ") AS u LIMIT :n), "
    "gone AS (DELETE FROM survey_drafts d WHERE d.token_hash IN (SELECT token_hash FROM doomed) "
    f"AND {_EXPIRED_WHERE} RETURNING 1) "
    "SELECT count(*) FROM gone"
)

# --- the participant's hot path: raw asyncpg on the session's connection -----------------------
# A submission is two statements, each one round trip through asyncpg's prepared-statement
# cache, with no ORM or Core compilation: the token read and one write. Both run on the
# connection of the caller's session, so they join its transaction when one is open (tests,
# the locked fallback); otherwise each statement is a transaction of its own, and the write
# being ONE statement is what makes receipt, event, response and answers atomic.

_TOKEN_READ = (
    "SELECT i.id, i.organisation_id, i.status, i.group_key, i.reach_tier, i.language, "
    "i.expires_at, c.kind, s.id, s.revision, s.title, s.introduction, s.anonymity, "
    "s.allow_edits, s.opens_at, s.closes_at "
    "FROM invitations i JOIN campaigns c ON c.id = i.campaign_id "
    "LEFT JOIN surveys s ON s.id = c.target_id AND c.kind = 'survey' "
    "WHERE i.token_hash = $1"
)


def _submit_sql(identified: bool) -> str:
    """Receipt (the campaigns domain's CTEs: invitation answered + its event), response,
    answers (unnest of one array per column), draft deletion, and for identified surveys the
    link: everything gated on the receipt, whose UPDATE takes the invitation's row lock and
    re-checks its status after any wait. Of two submits of one token exactly one writes; the
    other gets 0 and the caller decides under the lock. Foreign keys are checked at the end of
    the statement, so children may be written in the same statement as their parent.
    Anonymous surveys: the response row gets a random id, the date, group and tier, nothing
    that names the invitation (the statement has no link CTE at all) and no language (the
    caller passes None)."""
    link = ("link AS (INSERT INTO survey_response_links (response_id, invitation_id) "
            "SELECT CAST($3 AS uuid), id FROM receipt), ") if identified else ""
    return (
        f"WITH {receipt_ctes('$1', '$2')}, "
        "resp AS (INSERT INTO survey_responses "
        "(id, survey_id, group_key, reach_tier, channel, language) "
        "SELECT CAST($3 AS uuid), CAST($4 AS uuid), CAST($5 AS text), CAST($6 AS smallint), "
        "CAST($7 AS text), CAST($8 AS text) FROM receipt), "
        f"{link}"
        "draft AS (DELETE FROM survey_drafts WHERE token_hash = CAST($9 AS text) "
        "AND EXISTS (SELECT FROM receipt)), "
        f"answers AS (INSERT INTO survey_answers {_ANSWER_COLUMNS} "
        "SELECT gen_random_uuid(), CAST($3 AS uuid), CAST($4 AS uuid), u.q, u.o, u.c, u.n, u.t "
        "FROM unnest(CAST($10 AS text[]), CAST($11 AS smallint[]), CAST($12 AS text[]), "
        "CAST($13 AS float8[]), CAST($14 AS text[])) AS u(q, o, c, n, t) "
        "WHERE EXISTS (SELECT FROM receipt)) "
        "SELECT count(*) FROM receipt"
    )


_SUBMIT = {False: _submit_sql(False), True: _submit_sql(True)}

def _answer_arrays(rows: Sequence[AnswerRow]) -> dict[str, list[Any]]:
    return {"q": [r.question_key for r in rows], "o": [r.ordinal for r in rows],
            "c": [r.choice for r in rows],
            "n": [None if r.num is None else float(r.num) for r in rows],
            "t": [r.text for r in rows]}


@dataclass(frozen=True)
class InvitationView:
    """What the survey domain reads of an invitation (plain values, no ORM entity)."""

    id: uuid.UUID
    organisation_id: uuid.UUID
    status: str
    group_key: str
    reach_tier: int
    language: str
    expires_at: datetime | None


@dataclass(frozen=True)
class SurveyView:
    """What a participant's request needs of a survey."""

    id: uuid.UUID
    revision: int
    title: dict[str, str]
    introduction: dict[str, str]
    anonymity: str
    allow_edits: bool
    opens_at: datetime | None
    closes_at: datetime | None


@dataclass(frozen=True)
class TokenTarget:
    invitation: InvitationView
    campaign_kind: str
    survey: SurveyView | None


def _target(row: Any) -> TokenTarget | None:
    if row is None:
        return None
    invitation = InvitationView(
        id=row[0], organisation_id=row[1], status=row[2], group_key=row[3],
        reach_tier=row[4], language=row[5], expires_at=row[6])
    survey = None
    if row[8] is not None:
        survey = SurveyView(
            id=row[8], revision=row[9], title=row[10], introduction=row[11],
            anonymity=row[12], allow_edits=row[13], opens_at=row[14], closes_at=row[15])
    return TokenTarget(invitation=invitation, campaign_kind=row[7], survey=survey)


class SurveyRepository(Repository):
    # --- definitions -------------------------------------------------------------------
    async def process(self, process_id: uuid.UUID) -> Process | None:
        return await self.session.get(Process, process_id)

    async def add_survey(self, survey: Survey, questions: Sequence[SurveyQuestion]) -> None:
        self.session.add(survey)
        await self.session.flush()
        for q in questions:
            q.survey_id = survey.id
            self.session.add(q)
        await self.session.flush()

    async def survey(self, survey_id: uuid.UUID) -> Survey | None:
        return await self.session.get(Survey, survey_id)

    async def questions(self, survey_id: uuid.UUID) -> list[SurveyQuestion]:
        rows = await self.session.scalars(
            select(SurveyQuestion)
            .where(SurveyQuestion.survey_id == survey_id)
            .order_by(SurveyQuestion.position)
        )
        return list(rows)

    async def blocks(self, survey_id: uuid.UUID) -> list[dict[str, Any]]:
        value = await self.session.scalar(select(Survey.blocks).where(Survey.id == survey_id))
        return list(value or [])

    async def replace_questions(
        self, survey_id: uuid.UUID, questions: Sequence[SurveyQuestion]
    ) -> None:
        await self.session.execute(
            delete(SurveyQuestion).where(SurveyQuestion.survey_id == survey_id)
        )
        for q in questions:
            q.survey_id = survey_id
            self.session.add(q)
        await self.session.flush()

    async def latest_version(self, lineage_id: uuid.UUID) -> int:
        value = await self.session.scalar(
            select(func.max(Survey.version)).where(Survey.lineage_id == lineage_id)
        )
        return int(value or 0)

    async def surveys_of_process(self, process_id: uuid.UUID) -> list[Survey]:
        rows = await self.session.scalars(
            select(Survey).where(Survey.process_id == process_id).order_by(Survey.created_at)
        )
        return list(rows)

    async def response_count(self, survey_id: uuid.UUID) -> int:
        value = await self.session.scalar(
            select(func.count()).select_from(SurveyResponse)
            .where(SurveyResponse.survey_id == survey_id)
        )
        return int(value or 0)

    async def has_responses(self, survey_id: uuid.UUID) -> bool:
        value = await self.session.scalar(
            select(SurveyResponse.id).where(SurveyResponse.survey_id == survey_id).limit(1)
        )
        return value is not None

    # --- tokens ------------------------------------------------------------------------
    async def _raw(self, sql: str, *args: Any) -> Any:
        """`raw_fetchrow`, a violated constraint (a concurrent submission) as 409."""
        try:
            return await self.raw_fetchrow(sql, *args)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise Conflict("Die Änderung widerspricht einer gleichzeitigen Änderung.",
                           code="conflict") from exc

    async def token_target(self, token_hash: str, *, lock: bool = False) -> TokenTarget | None:
        """The invitation behind a token, its campaign's kind and the survey, in one query of
        plain columns. Without `lock` it is one raw prepared statement (every participant
        request starts here). `lock` (the fallback and the edit path of a submission) goes
        through SQLAlchemy, which opens the transaction the row lock must live in."""
        if not lock:
            return _target(await self._raw(_TOKEN_READ, token_hash))
        stmt = (
            select(
                Invitation.id, Invitation.organisation_id, Invitation.status,
                Invitation.group_key, Invitation.reach_tier, Invitation.language,
                Invitation.expires_at, Campaign.kind, Survey.id, Survey.revision, Survey.title,
                Survey.introduction, Survey.anonymity, Survey.allow_edits, Survey.opens_at,
                Survey.closes_at,
            )
            .join(Campaign, Campaign.id == Invitation.campaign_id)
            .outerjoin(Survey, (Survey.id == Campaign.target_id) & (Campaign.kind == "survey"))
            .where(Invitation.token_hash == token_hash)
        )
        stmt = stmt.with_for_update(of=Invitation)
        return _target((await self.session.execute(stmt)).first())

    async def submit_with_receipt(
        self,
        *,
        invitation_id: uuid.UUID,
        day: date,
        survey_id: uuid.UUID,
        group_key: str | None,
        reach_tier: int | None,
        channel: str,
        language: str | None,
        rows: Sequence[AnswerRow],
        token_hash: str,
        identified: bool,
    ) -> uuid.UUID | None:
        """The whole submission in one statement (`_submit_sql`). Returns the new response's
        id, or None when the invitation was no longer answerable (nothing was written)."""
        response_id = uuid.uuid4()
        a = _answer_arrays(rows)
        row = await self._raw(
            _SUBMIT[identified], invitation_id, day, response_id, survey_id, group_key,
            reach_tier, channel, language, token_hash, a["q"], a["o"], a["c"], a["n"], a["t"])
        return response_id if row[0] else None

    # --- responses ---------------------------------------------------------------------
    async def insert_response(
        self,
        *,
        survey_id: uuid.UUID,
        group_key: str | None,
        reach_tier: int | None,
        channel: str,
        language: str | None,
        rows: Sequence[AnswerRow],
        drop_draft: str | None = None,
    ) -> uuid.UUID:
        """The response, its answers (and the draft's deletion) in one statement: one round
        trip per submission. The random ids come from Python (response) and PostgreSQL's
        gen_random_uuid() (answers); nothing here refers to the invitation."""
        response_id = uuid.uuid4()
        await self.session.execute(_INSERT_RESPONSE, {
            "r": response_id, "s": survey_id, "g": group_key, "tier": reach_tier,
            "ch": channel, "lang": language, "h": drop_draft or "",
            **_answer_arrays(rows),
        })
        return response_id

    async def insert_answers(
        self, survey_id: uuid.UUID, response_id: uuid.UUID, rows: Sequence[AnswerRow]
    ) -> None:
        if rows:
            await self.session.execute(_INSERT_ANSWERS, {
                "r": response_id, "s": survey_id, **_answer_arrays(rows)})

    async def delete_answers(self, response_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(SurveyAnswer).where(SurveyAnswer.response_id == response_id)
        )

    async def link_response(self, response_id: uuid.UUID, invitation_id: uuid.UUID) -> None:
        await self.session.execute(
            insert(SurveyResponseLink).values(response_id=response_id,
                                              invitation_id=invitation_id)
        )

    async def linked_response(self, invitation_id: uuid.UUID) -> uuid.UUID | None:
        return await self.session.scalar(
            select(SurveyResponseLink.response_id)
            .where(SurveyResponseLink.invitation_id == invitation_id)
        )

    async def answers_of(self, response_id: uuid.UUID) -> list[SurveyAnswer]:
        rows = await self.session.scalars(
            select(SurveyAnswer).where(SurveyAnswer.response_id == response_id)
            .order_by(SurveyAnswer.question_key, SurveyAnswer.ordinal)
        )
        return list(rows)

    # --- drafts ------------------------------------------------------------------------
    async def draft(self, token_hash: str) -> SurveyDraft | None:
        return await self.session.get(SurveyDraft, token_hash)

    async def save_draft(
        self, token_hash: str, survey_id: uuid.UUID, answers: dict[str, Any],
        link_id: uuid.UUID | None = None,
    ) -> None:
        stmt = pg_insert(SurveyDraft).values(
            token_hash=token_hash, survey_id=survey_id, answers=answers, link_id=link_id
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[SurveyDraft.token_hash],
            set_={"answers": stmt.excluded.answers, "saved_on": func.current_date(),
                  "link_id": stmt.excluded.link_id},
        )
        await self.session.execute(stmt)

    async def delete_expired_drafts(self, *, now: datetime, idle_cutoff: date,
                                    limit: int) -> int:
        """At most `limit` drafts that services/surveys/retention.py's rule expires (`_EXPIRE`);
        returns how many were deleted."""
        result = await self.session.execute(
            _EXPIRE, {"now": now, "cutoff": idle_cutoff, "n": limit})
        return int(result.scalar_one())

    async def delete_draft(self, token_hash: str) -> None:
        await self.session.execute(delete(SurveyDraft).where(SurveyDraft.token_hash == token_hash))
