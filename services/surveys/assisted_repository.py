"""All SQL of assisted entry (services/surveys/assisted.py): form numbers, paper codes and the
per-staff entry counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from services.campaigns.receipt import RESPONDABLE
from services.models.campaign import Campaign, Invitation
from services.models.organisation import User
from services.models.survey import (
    Survey,
    SurveyEntryCount,
    SurveyFormNumber,
    SurveyResponseEntry,
)
from services.repository import Repository

# Issuing one survey's numbers is serialised by a transaction-scoped advisory lock, taken in
# a statement of its own: the INSERT after it reads max(number) with a snapshot taken after
# the lock was granted (READ COMMITTED), so two print runs at once get disjoint ranges with
# no gap and no duplicate.
_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
_ISSUE = text(
    "INSERT INTO survey_form_numbers (survey_id, number) "
    "SELECT CAST(:s AS uuid), top.n + g FROM "
    "(SELECT coalesce(max(number), 0) AS n FROM survey_form_numbers "
    "WHERE survey_id = CAST(:s AS uuid)) AS top, generate_series(1, :count) AS g "
    "RETURNING number"
)


@dataclass(frozen=True)
class EntryCount:
    user_id: uuid.UUID
    email: str
    display_name: str
    channel: str
    entries: int


class AssistedRepository(Repository):
    # --- anonymous form numbers ----------------------------------------------------------
    async def issue_numbers(self, survey_id: uuid.UUID, count: int) -> list[int]:
        await self.session.execute(_LOCK, {"key": f"survey-form-numbers:{survey_id}"})
        rows = await self.session.execute(_ISSUE, {"s": str(survey_id), "count": count})
        return sorted(int(r[0]) for r in rows)

    async def claim_number(self, survey_id: uuid.UUID, number: int) -> bool:
        """Mark an issued number entered; False when it was entered already or never issued.
        The UPDATE takes the row lock and re-checks `entered_at IS NULL` after a concurrent
        claim committed, so of two entries of one number exactly one wins."""
        result = await self.session.execute(
            update(SurveyFormNumber)
            .where(SurveyFormNumber.survey_id == survey_id, SurveyFormNumber.number == number,
                   SurveyFormNumber.entered_at.is_(None))
            .values(entered_at=func.now()).returning(SurveyFormNumber.number))
        return result.first() is not None

    async def number_issued(self, survey_id: uuid.UUID, number: int) -> bool:
        value = await self.session.scalar(
            select(SurveyFormNumber.number).where(SurveyFormNumber.survey_id == survey_id,
                                                  SurveyFormNumber.number == number))
        return value is not None

    # --- personal paper codes ------------------------------------------------------------
    async def set_paper_code(self, invitation_id: uuid.UUID, code: str) -> str | None:
        """Give the invitation `code` unless it has one; returns the invitation's code after
        the statement (the existing one if a concurrent call was first), or None when `code`
        is taken by another invitation (the caller draws again)."""
        try:
            async with self.session.begin_nested():
                await self.session.execute(
                    update(Invitation)
                    .where(Invitation.id == invitation_id, Invitation.paper_code.is_(None))
                    .values(paper_code=code))
        except IntegrityError:
            return None
        return await self.session.scalar(
            select(Invitation.paper_code).where(Invitation.id == invitation_id))

    async def token_hash_of_code(self, organisation_id: uuid.UUID, code: str) -> str | None:
        return await self.session.scalar(
            select(Invitation.token_hash).join(Campaign, Campaign.id == Invitation.campaign_id)
            .where(Invitation.paper_code == code, Invitation.organisation_id == organisation_id,
                   Campaign.kind == "survey"))

    # --- who entered what ----------------------------------------------------------------
    async def count_entry(self, survey_id: uuid.UUID, user_id: uuid.UUID, channel: str) -> None:
        stmt = pg_insert(SurveyEntryCount).values(survey_id=survey_id, user_id=user_id,
                                                  channel=channel, entries=1)
        await self.session.execute(stmt.on_conflict_do_update(
            index_elements=[SurveyEntryCount.survey_id, SurveyEntryCount.user_id,
                            SurveyEntryCount.channel],
            set_={"entries": SurveyEntryCount.entries + 1}))

    async def add_entry(self, response_id: uuid.UUID, user_id: uuid.UUID) -> None:
        self.session.add(SurveyResponseEntry(response_id=response_id, user_id=user_id))
        await self.session.flush()

    async def entry_counts(self, survey_id: uuid.UUID) -> list[EntryCount]:
        rows = await self.session.execute(
            select(SurveyEntryCount.user_id, User.email, User.display_name,
                   SurveyEntryCount.channel, SurveyEntryCount.entries)
            .join(User, User.id == SurveyEntryCount.user_id)
            .where(SurveyEntryCount.survey_id == survey_id)
            .order_by(User.email, SurveyEntryCount.channel))
        return [EntryCount(*r) for r in rows]

    async def open_surveys(self, organisation_id: uuid.UUID, now: datetime,
                           closed_after: datetime, limit: int = 200) -> list[Survey]:
        rows = await self.session.scalars(
            select(Survey).where(
                Survey.organisation_id == organisation_id,
                or_(Survey.opens_at.is_(None), Survey.opens_at <= now),
                or_(Survey.closes_at.is_(None), Survey.closes_at > closed_after))
            .order_by(Survey.created_at.desc(), Survey.id).limit(limit))
        return list(rows)

    # --- personal paper forms ------------------------------------------------------------
    async def printable_invitations(self, survey_id: uuid.UUID, campaign_id: uuid.UUID,
                                    *, offset: int, limit: int) -> tuple[list[Invitation], int]:
        """A survey campaign's invitations that can still be answered (the receipt's own
        statuses), in a stable order for printing in parts; and how many there are."""
        where = (Invitation.campaign_id == campaign_id, Campaign.target_id == survey_id,
                 Campaign.kind == "survey", Invitation.status.in_(RESPONDABLE))
        base = select(Invitation).join(Campaign, Campaign.id == Invitation.campaign_id)
        total = await self.session.scalar(
            select(func.count()).select_from(base.where(*where).subquery()))
        rows = await self.session.scalars(
            base.where(*where).order_by(Invitation.id).offset(offset).limit(limit))
        return list(rows), int(total or 0)

    async def campaign_of_survey(self, survey_id: uuid.UUID, campaign_id: uuid.UUID) -> bool:
        found = await self.session.scalar(
            select(Campaign.id).where(Campaign.id == campaign_id, Campaign.target_id == survey_id,
                                      Campaign.kind == "survey"))
        return found is not None
