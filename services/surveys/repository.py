"""All SQL of the survey domain (built per session)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
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
class TokenTarget:
    invitation: Invitation
    campaign: Campaign
    survey: Survey | None


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
        """The invitation behind a token, its campaign and the survey, in one query. `lock`
        serialises submissions of the same token (a double click must not store two
        responses)."""
        stmt = (
            select(Invitation, Campaign, Survey)
            .join(Campaign, Campaign.id == Invitation.campaign_id)
            .outerjoin(Survey, (Survey.id == Campaign.target_id) & (Campaign.kind == "survey"))
            .where(Invitation.token_hash == token_hash)
            # Fresh state even if this session has the row cached (the receipt is written
            # with a Core UPDATE by the campaigns domain).
            .execution_options(populate_existing=True)
        )
        if lock:
            stmt = stmt.with_for_update(of=Invitation)
        row = (await self.session.execute(stmt)).first()
        if row is None:
            return None
        return TokenTarget(invitation=row[0], campaign=row[1], survey=row[2])

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
