"""Form numbers under concurrency (issue 12, paper forms): print runs issued at once get
disjoint numbers; one number keyed in on several tablets at once is stored once. Committed
sessions on the real database (a rolled-back test transaction would serialise them)."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, func, select

from services.errors import Conflict
from services.models.organisation import Role
from services.models.survey import Survey, SurveyResponse
from services.surveys import assisted
from services.surveys.assisted import AssistedEntry
from tests.support.surveys import make_process, make_survey

ANSWERS = {"integration": "Mitreden.", "erreichbarkeit": "gut"}


async def test_concurrent_issues_and_claims(committed_maker, make_committed_staff):
    who = await make_committed_staff(role=Role.interviewer)
    async with committed_maker() as s:
        process = await make_process(s, who.org_id)
        survey = await make_survey(s, process, from_template="bergkamen-interviewleitfaden")
        await s.commit()
    try:
        async def issue() -> list[int]:
            async with committed_maker() as s:
                numbers = await assisted.issue_form_numbers(s, survey.id, 5)
                await s.commit()
                return numbers

        runs = await asyncio.gather(*(issue() for _ in range(10)))
        issued = sorted(n for run in runs for n in run)
        assert issued == list(range(1, 51))  # disjoint, no gap
        assert all(run == list(range(run[0], run[0] + 5)) for run in runs)

        async def enter() -> str:
            async with committed_maker() as s:
                fresh = await s.get(Survey, survey.id)
                assert fresh is not None
                try:
                    await assisted.enter(s, fresh, AssistedEntry(
                        channel="paper", answers=ANSWERS, form_number=7), user_id=who.user_id)
                except Conflict as exc:
                    await s.rollback()
                    return exc.code or ""
                await s.commit()
                return "stored"

        outcomes = await asyncio.gather(*(enter() for _ in range(8)))
        assert sorted(outcomes) == ["form_already_entered"] * 7 + ["stored"]
        async with committed_maker() as s:
            stored = await s.scalar(select(func.count()).select_from(SurveyResponse)
                                    .where(SurveyResponse.survey_id == survey.id))
        assert stored == 1
    finally:
        async with committed_maker() as s:
            await s.execute(delete(Survey).where(Survey.id == survey.id))
            await s.commit()
