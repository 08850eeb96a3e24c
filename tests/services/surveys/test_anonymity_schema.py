"""Anonymity by separation, checked against the live schema (information_schema/pg_catalog)."""

from __future__ import annotations

from sqlalchemy import text

ANON_TABLES = ("survey_responses", "survey_answers")
PERSONAL_TABLES = {"invitations", "stakeholders", "campaigns", "outbound_mails",
                   "survey_response_links", "survey_drafts"}


async def test_no_reference_to_invitations_or_people(session):
    rows = (await session.execute(text(
        "SELECT tc.table_name, ccu.table_name AS referenced "
        "FROM information_schema.table_constraints tc "
        "JOIN information_schema.constraint_column_usage ccu "
        "  ON tc.constraint_name = ccu.constraint_name AND tc.table_schema = ccu.table_schema "
        "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_name = ANY(:t)"
    ), {"t": list(ANON_TABLES)})).all()
    referenced = {r.referenced for r in rows}
    assert referenced <= {"surveys", "survey_responses"}, referenced
    assert not referenced & PERSONAL_TABLES

    columns = (await session.execute(text(
        "SELECT table_name, column_name, data_type, column_default "
        "FROM information_schema.columns WHERE table_name = ANY(:t)"
    ), {"t": list(ANON_TABLES)})).all()
    names = {c.column_name for c in columns}
    assert names, "tables missing"
    for forbidden in ("invitation", "stakeholder", "token", "email", "name", "campaign",
                      "person", "user"):
        assert not any(forbidden in n for n in names), (forbidden, names)
    # Stakeholder attributes beyond group and tier are not copied.
    resp_cols = {c.column_name for c in columns if c.table_name == "survey_responses"}
    assert resp_cols == {"id", "survey_id", "submitted_on", "group_key", "reach_tier", "channel",
                         "language"}


async def test_no_precise_time_and_random_ids(session):
    columns = (await session.execute(text(
        "SELECT table_name, column_name, data_type, column_default, is_identity "
        "FROM information_schema.columns WHERE table_name = ANY(:t)"
    ), {"t": list(ANON_TABLES)})).all()
    for c in columns:
        assert not c.data_type.startswith(("timestamp", "time")), c
        assert c.data_type != "interval"
        assert c.is_identity == "NO", c
        assert "nextval" not in (c.column_default or ""), c
    ids = {c.table_name: c for c in columns if c.column_name == "id"}
    for table in ANON_TABLES:
        assert ids[table].data_type == "uuid"
        assert ids[table].column_default == "gen_random_uuid()"
    # No sequence is owned by (or shared with) these tables.
    owned = (await session.execute(text(
        "SELECT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
        "JOIN pg_class t ON d.refobjid = t.oid "
        "WHERE s.relkind = 'S' AND t.relname = ANY(:t)"
    ), {"t": list(ANON_TABLES)})).all()
    assert owned == []


async def test_response_ids_do_not_follow_submission_order(session, make_staff):
    """Random ids: sorting by id does not give the order of submission."""
    from services.surveys import service
    from tests.support.surveys import make_campaign, make_invites, make_process, make_survey

    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, from_template="vielfaltsmanager-feedback")
    campaign = await make_campaign(session, survey)
    invites = await make_invites(session, campaign, 12)
    for inv in invites:
        await service.submit(session, inv.token, {"tag": "tag1", "gesamt": 4})
    ids = list(await session.scalars(text(
        "SELECT id FROM survey_responses WHERE survey_id = :s"), {"s": survey.id}))
    assert len(ids) == 12
    assert all(i.version == 4 for i in ids)  # uuid4: random
    # The receipt side: date precision only.
    kinds = (await session.execute(text(
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_name = 'invitations' AND column_name = 'responded_at'"))).scalar_one()
    assert kinds == "date"


async def _rows_mentioning(session, value: str, survey_id) -> list[str]:
    """Every row of the anonymous side (responses, answers) and of the feed's receipt events
    whose text form contains `value` as a whole JSON/text value."""
    found = []
    for table, where in (("survey_responses", "survey_id = :s"),
                         ("survey_answers", "survey_id = :s"),
                         ("domain_events", "type = 'campaign.response_received'")):
        rows = (await session.execute(text(
            f"SELECT to_jsonb(t) AS j FROM {table} t WHERE {where}"), {"s": survey_id})).all()
        for (j,) in rows:
            if any(v == value or (isinstance(v, dict) and value in v.values())
                   for v in j.values()):
                found.append(f"{table}: {j}")
    return found


async def test_anonymous_answer_stores_no_language(session, make_staff):
    """Issue 8: the language of few speakers identifies them; an anonymous response keeps group
    and tier only (DESIGN.md section 4). Both write paths: the one-statement hot path and the
    locked fallback."""
    from datetime import UTC, datetime

    from services.surveys import service
    from tests.support.surveys import make_campaign, make_invites, make_process, make_survey

    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, from_template="vielfaltsmanager-feedback")
    assert survey.anonymity == "anonymous"
    campaign = await make_campaign(session, survey)
    hot, locked = await make_invites(session, campaign, 2, language="en")
    answers = {"tag": "tag1", "gesamt": 4}
    assert (await service.submit(session, hot.token, answers)).status == "submitted"
    # The fallback under the row lock (taken after a lost race) writes the response itself.
    await service._submit_locked(session, locked.token, answers, channel="invitation",
                                 now=datetime.now(UTC))
    languages = list(await session.scalars(text(
        "SELECT language FROM survey_responses WHERE survey_id = :s"), {"s": survey.id}))
    assert languages == [None, None]
    assert await _rows_mentioning(session, "en", survey.id) == []


async def test_identified_answer_keeps_its_language(session, make_staff):
    from services.surveys import service
    from tests.support.surveys import make_campaign, make_invites, make_process, make_survey

    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, from_template="vielfaltsmanager-feedback",
                               anonymity="identified")
    campaign = await make_campaign(session, survey)
    (inv,) = await make_invites(session, campaign, language="en")
    await service.submit(session, inv.token, {"tag": "tag1", "gesamt": 4})
    assert list(await session.scalars(text(
        "SELECT language FROM survey_responses WHERE survey_id = :s"), {"s": survey.id})) == ["en"]
