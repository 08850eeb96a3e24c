"""All SQL of the survey domain (built per session)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

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


class SurveyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> SurveyRepository:
        return cls(session)

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
    async def token_target(self, token_hash: str, *, lock: bool = False) -> TokenTarget | None:
        """The invitation behind a token, its campaign's kind and the survey, in one query of
        plain columns (the hot path of every submission: no ORM entities). `lock` serialises
        submissions of the same token (a double click must not store two responses)."""
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
        if lock:
            stmt = stmt.with_for_update(of=Invitation)
        row = (await self.session.execute(stmt)).first()
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

    # --- responses ---------------------------------------------------------------------
    async def insert_response(
        self,
        *,
        survey_id: uuid.UUID,
        group_key: str | None,
        reach_tier: int | None,
        channel: str,
        language: str,
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
        self, token_hash: str, survey_id: uuid.UUID, answers: dict[str, Any]
    ) -> None:
        stmt = pg_insert(SurveyDraft).values(
            token_hash=token_hash, survey_id=survey_id, answers=answers
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[SurveyDraft.token_hash],
            set_={"answers": stmt.excluded.answers, "saved_on": func.current_date()},
        )
        await self.session.execute(stmt)

    async def delete_draft(self, token_hash: str) -> None:
        await self.session.execute(delete(SurveyDraft).where(SurveyDraft.token_hash == token_hash))
