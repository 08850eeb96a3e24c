"""The one-statement submission: receipt, event, response and answers together, never twice.

The write is gated on the invitation still being answerable (its UPDATE takes the row lock and
re-checks the status), so a stale read can never store a second response.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import select, text

from services.campaigns.service import mark_invitation_responded
from services.errors import Conflict, NotFound, Unavailable
from services.identity.service import create_organisation
from services.models.campaign import Invitation
from services.models.domain_event import DomainEvent
from services.surveys import service
from services.surveys.repository import SurveyRepository
from services.surveys.validation import check_answers
from tests.support.polling import eventually
from tests.support.surveys import counts, make_campaign, make_invites, make_process, make_survey

ANSWERS = {"tag": "tag1", "gesamt": 4, "inputs": 5, "austausch": 3, "multiplikator": 4,
           "einflussbereich": 7, "mitnehmen": "Viel gelernt."}


async def _events(session, campaign_id: uuid.UUID) -> list[DomainEvent]:
    rows = await session.scalars(
        select(DomainEvent).where(DomainEvent.type == "campaign.response_received",
                                  DomainEvent.data["campaign_id"].astext == str(campaign_id)))
    return list(rows)


@pytest.mark.parametrize("anonymity", ["anonymous", "identified"])
async def test_submit_writes_receipt_event_and_response(client, session, make_staff, anonymity):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, from_template="vielfaltsmanager-feedback",
                               anonymity=anonymity)
    campaign = await make_campaign(session, survey)
    (inv,) = await make_invites(session, campaign, group="verwaltung", tier=2)
    before = await counts(session)
    r = await client.post(f"/api/v1/participation/{inv.token}/response",
                          json={"answers": ANSWERS})
    assert r.status_code == 201, r.text
    assert r.json() == {"status": "submitted", "survey_id": str(survey.id),
                        "submitted_on": datetime.now(UTC).date().isoformat()}
    after = await counts(session)
    assert after["responses"] == before["responses"] + 1
    assert after["answers"] == before["answers"] + 7
    assert after["links"] == before["links"] + (anonymity == "identified")
    row = (await session.execute(
        select(Invitation.status, Invitation.responded_at).where(Invitation.id ==
                                                                 inv.invitation.id))).one()
    assert row.status == "responded" and row.responded_at == datetime.now(UTC).date()
    (event,) = await _events(session, campaign.id)
    assert event.organisation_id == staff.org_id and event.data == {
        "campaign_id": str(campaign.id)}
    response = (await session.execute(text(
        "SELECT group_key, reach_tier, channel FROM survey_responses WHERE survey_id = :s"),
        {"s": survey.id})).one()
    assert tuple(response) == ("verwaltung", 2, "invitation")


async def test_stale_read_writes_nothing(session, make_staff):
    """The second of two submits that both read the token before either wrote."""
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, from_template="vielfaltsmanager-feedback")
    campaign = await make_campaign(session, survey)
    (inv,) = await make_invites(session, campaign)
    now = datetime.now(UTC)
    stale = await service.open_token(session, inv.token, now=now)
    _, rows, errors = check_answers(stale.questions, ANSWERS)
    assert not errors
    assert (await service.submit(session, inv.token, ANSWERS)).status == "submitted"
    before = await counts(session)
    repo = SurveyRepository.from_session(session)
    written = await repo.submit_with_receipt(
        invitation_id=inv.invitation.id, day=now.date(), survey_id=survey.id,
        group_key="buerger", reach_tier=1, channel="invitation", language="de", rows=rows,
        token_hash=stale.token_hash, identified=False)
    assert written is None
    assert await counts(session) == before
    assert len(await _events(session, campaign.id)) == 1
    with pytest.raises(Conflict):
        await service.submit(session, inv.token, ANSWERS)


async def test_mark_invitation_responded_shares_the_receipt(session, make_staff):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, from_template="vielfaltsmanager-feedback")
    campaign = await make_campaign(session, survey)
    (inv,) = await make_invites(session, campaign)
    assert await mark_invitation_responded(session, inv.invitation.id) is True
    assert await mark_invitation_responded(session, inv.invitation.id) is False
    assert len(await _events(session, campaign.id)) == 1
    with pytest.raises(NotFound):
        await mark_invitation_responded(session, uuid.uuid4())
    with pytest.raises(Conflict):  # the survey path sees the receipt
        await service.submit(session, inv.token, ANSWERS)


async def test_concurrent_submits_of_one_token_store_one_response(committed_maker):
    async with committed_maker() as s:
        org = await create_organisation(s, f"race-{uuid.uuid4().hex[:8]}", "Race-Stadt")
        process = await make_process(s, org.id)
        survey = await make_survey(s, process, from_template="vielfaltsmanager-feedback")
        campaign = await make_campaign(s, survey)
        invites = await make_invites(s, campaign, 3)
        await s.commit()

    async def one(token: str) -> str:
        async with committed_maker() as s:
            try:
                result = await service.submit(s, token, ANSWERS)
            except Conflict as exc:
                await s.rollback()
                return exc.code or "conflict"
            await s.commit()
            return result.status

    outcomes = await asyncio.gather(*(one(inv.token) for inv in invites for _ in range(4)))
    assert sorted(outcomes) == ["already_answered"] * 9 + ["submitted"] * 3
    async with committed_maker() as s:
        n = await s.scalar(text("SELECT count(*) FROM survey_responses WHERE survey_id = :s"),
                           {"s": survey.id})
        assert n == 3
        assert len(await _events(s, campaign.id)) == 3


async def test_dead_connection_gives_unavailable_and_leaves_the_pool(committed_maker):
    """The raw statements bypass SQLAlchemy's disconnect handling, so the repository
    invalidates the connection itself (the API answers 503 once, the next request works)."""
    async with committed_maker() as s:
        conn = await s.connection()
        pid = (await conn.get_raw_connection()).driver_connection.get_server_pid()
        async with committed_maker() as other:
            assert await other.scalar(text("SELECT pg_terminate_backend(:p)"), {"p": pid})

        async def gone() -> bool:  # the backend has exited (terminate only signals it)
            async with committed_maker() as probe:  # a fresh snapshot of pg_stat_activity
                return not await probe.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid})
        await eventually(gone, timeout=10, what=f"backend {pid} gone")
        with pytest.raises(Unavailable):
            await service.submit(s, "ein-token-den-es-nicht-gibt", ANSWERS)
        assert conn.invalidated
    async with committed_maker() as s:
        with pytest.raises(NotFound):  # a fresh connection: the token is simply unknown
            await service.submit(s, "ein-token-den-es-nicht-gibt", ANSWERS)


@pytest.mark.parametrize("raised", [
    asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress"),
    asyncpg.InterfaceError("connection is closed"),
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
], ids=["fatal-read-close-not-yet", "closed", "closed-mid-operation"])
async def test_each_way_asyncpg_reports_a_killed_backend_leaves_the_pool(committed_maker, raised,
                                                                         monkeypatch):
    """A terminated backend shows as one of three errors, depending on how far asyncpg has
    read the server's goodbye (seen on this machine; CI once got the first, which returned a
    dead connection to the pool and failed the next test). Each must answer 503 and drop it."""
    async with committed_maker() as s:
        conn = await s.connection()
        raw = (await conn.get_raw_connection()).driver_connection

        async def dead(*_args: object, **_kwargs: object) -> None:
            raise raised
        monkeypatch.setattr(type(raw), "fetchrow", dead)  # slots: not per instance
        with pytest.raises(Unavailable):
            await service.submit(s, "ein-token-den-es-nicht-gibt", ANSWERS)
        assert conn.invalidated
