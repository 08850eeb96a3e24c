"""Multiplier links in the survey domain: the answer rows identify nobody (live schema and
stored values), the gate refuses closed and full links, results by channel are suppressed."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from services.errors import Conflict, Gone
from services.models.survey import MultiplierLink
from services.surveys import multiplier, service
from services.surveys.results import channel_breakdown, compute_results
from tests.support.multiplier import ANSWERS, answer, make_link, make_partner
from tests.support.surveys import make_campaign, make_invites, make_process, make_survey

ANON_TABLES = ("survey_responses", "survey_answers")


async def _setup(session, make_staff):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, from_template="vielfaltsmanager-feedback")
    partner = await make_partner(session, staff.org_id, group="jugend", tier=2)
    return staff, survey, partner


async def _submit(session, secret, answers=ANSWERS):
    lp = await multiplier.open_link(session, secret, draft_key=None)
    return await multiplier.submit_link(session, lp, answers)


async def test_answer_rows_keep_nothing_of_the_client_live_schema(client, app, session,
                                                                  make_staff, settings):
    """The live schema: the answer tables reference no link (nor anything personal), have no
    column for a client, a link or a cookie; and the stored row holds exactly the survey, the
    date, group, tier and channel: no address hash, no draft key, no link id."""
    refs = (await session.execute(text(
        "SELECT tc.table_name, ccu.table_name AS referenced "
        "FROM information_schema.table_constraints tc "
        "JOIN information_schema.constraint_column_usage ccu "
        "  ON tc.constraint_name = ccu.constraint_name AND tc.table_schema = ccu.table_schema "
        "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_name = ANY(:t)"
    ), {"t": list(ANON_TABLES)})).all()
    assert {r.referenced for r in refs} <= {"surveys", "survey_responses"}
    # Nor does the link table point at responses: no way from a link to its answers.
    link_refs = (await session.execute(text(
        "SELECT ccu.table_name FROM information_schema.table_constraints tc "
        "JOIN information_schema.constraint_column_usage ccu "
        "  ON tc.constraint_name = ccu.constraint_name AND tc.table_schema = ccu.table_schema "
        "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_name = 'multiplier_links'"
    ))).scalars().all()
    assert not set(link_refs) & set(ANON_TABLES), link_refs
    columns = set((await session.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ANY(:t)"
    ), {"t": list(ANON_TABLES)})).scalars().all())
    for forbidden in ("link", "multiplier", "partner", "address", "ip", "client", "cookie",
                      "agent", "device", "session", "secret", "hash"):
        assert not any(forbidden in c.split("_") or c.startswith(forbidden) for c in columns), \
            (forbidden, columns)

    staff, survey, partner = await _setup(session, make_staff)
    link_id, secret, results = await make_link(session, survey, partner,
                                               settings.resolved_secret_key())
    r = await answer(client, secret)
    assert r.status_code == 303
    address_key = multiplier_limits_key(app)
    (row,) = (await session.execute(text(
        "SELECT row_to_json(r)::text FROM survey_responses r WHERE survey_id = :s"),
        {"s": survey.id})).scalars().all()
    answer_rows = " ".join((await session.execute(text(
        "SELECT row_to_json(a)::text FROM survey_answers a WHERE survey_id = :s"),
        {"s": survey.id})).scalars().all())
    stored = json.loads(row)
    assert set(stored) == {"id", "survey_id", "submitted_on", "group_key", "reach_tier",
                           "channel", "language"}
    assert (stored["channel"], stored["group_key"], stored["reach_tier"],
            stored["language"]) == ("multiplier", "jugend", 2, None)
    draft_key = r.request.headers.get("cookie", "")
    for needle in (str(link_id), secret, results, address_key, "127.0.0.1", str(partner.id),
                   *[p.split("=", 1)[1] for p in draft_key.split("; ") if "=" in p]):
        assert needle not in row and needle not in answer_rows, needle


def multiplier_limits_key(app) -> str:
    """The hashed address key the limiter keeps for the test client (127.0.0.1)."""
    (key,) = list(app.state.multiplier_limits.submits.buckets)
    return key


async def test_submission_gate_refuses_closed_and_full_links(session, make_staff, settings):
    staff, survey, partner = await _setup(session, make_staff)
    key = settings.resolved_secret_key()
    link_id, secret, _ = await make_link(session, survey, partner, key, cap=2)
    lp = await multiplier.open_link(session, secret, draft_key=None)
    await multiplier.submit_link(session, lp, ANSWERS)
    await multiplier.submit_link(session, lp, ANSWERS)  # the page was open before it filled
    # The third, through the participation opened before the cap was reached: the one
    # statement's gate refuses it, nothing is written.
    with pytest.raises(Conflict) as full:
        await multiplier.submit_link(session, lp, ANSWERS)
    assert full.value.code == "link_full"
    with pytest.raises(Conflict):
        await multiplier.open_link(session, secret, draft_key=None)
    assert (await session.get(MultiplierLink, link_id)).answers == 2
    assert await session.scalar(text(
        "SELECT count(*) FROM survey_responses WHERE survey_id = :s"), {"s": survey.id}) == 2

    other_id, other, _ = await make_link(session, survey, partner, key)
    lp = await multiplier.open_link(session, other, draft_key=None)
    await multiplier.close_link(session, survey, other_id, actor="x@example.org",
                                now=datetime.now(UTC))
    with pytest.raises(Gone) as closed:
        await multiplier.submit_link(session, lp, ANSWERS)
    assert closed.value.code == "link_closed"
    with pytest.raises(Gone):
        await multiplier.open_link(session, other, draft_key=None)


async def test_identified_surveys_get_no_links(session, make_staff, settings):
    from services.errors import ValidationFailed

    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, from_template="vielfaltsmanager-feedback",
                               anonymity="identified")
    partner = await make_partner(session, staff.org_id)
    with pytest.raises(ValidationFailed) as exc:
        await make_link(session, survey, partner, settings.resolved_secret_key())
    assert exc.value.code == "survey_identified"


def test_channel_breakdown_counts_interviews_and_paper_forms_in_their_own_tables():
    # 7 interviews (tiers 3 and 1), 4 paper forms, 20 invitation answers: the 4 are hidden
    # and with them the smallest other channel (the 7), so neither comes back by subtraction.
    out = channel_breakdown([("invitation", "buerger", 1, 20), ("interview", "senioren", 3, 6),
                             ("interview", "", 0, 1), ("paper", "jugend", 2, 4)])
    by = {c["channel"]: c for c in out["channels"]}
    assert [c["channel"] for c in out["channels"]] == ["invitation", "multiplier", "interview",
                                                       "paper"]
    assert (by["interview"]["label"], by["paper"]["label"]) == ("Interview", "Papierbogen")
    assert by["paper"]["suppressed"] and by["interview"]["suppressed"]
    assert by["invitation"]["responses"] == 20
    assert all(c["suppressed"] for c in out["paper"]["cells"] + out["interview"]["cells"])
    # Enough interviews: their table by tier shows the 3-tier's 6, hides the lone answer
    # without a group or tier (and a complement).
    out = channel_breakdown([("interview", "senioren", 3, 6), ("interview", "jugend", 3, 5),
                             ("interview", "", 0, 1), ("paper", "jugend", 2, 9)])
    by = {c["channel"]: c for c in out["channels"]}
    assert (by["interview"]["responses"], by["paper"]["responses"]) == (12, 9)
    cells = {(c["group"], c["tier"]): c for c in out["interview"]["cells"]}
    assert cells[("", 0)]["suppressed"] and cells[("senioren", 3)]["responses"] == 6
    assert out["paper"]["by_tier"][[t["tier"] for t in out["paper"]["by_tier"]].index(2)] \
        == {"tier": 2, "responses": 9, "suppressed": False}


def test_channel_breakdown_suppresses_small_channels_and_their_complement():
    # 12 invitation answers and 3 through links: the 3 are hidden, and so is the 12 (the
    # number of responses, 15, would give the 3 back).
    out = channel_breakdown([("invitation", "buerger", 1, 12), ("multiplier", "jugend", 2, 3)])
    by = {c["channel"]: c for c in out["channels"]}
    assert by["multiplier"] == {"channel": "multiplier", "label": "Multiplikatoren-Link",
                                "responses": None, "suppressed": True}
    assert by["invitation"]["suppressed"] is True and by["invitation"]["responses"] is None
    assert by["interview"] == {"channel": "interview", "label": "Interview", "responses": 0,
                               "suppressed": False}
    assert all(c["suppressed"] for c in out["multiplier"]["cells"])
    # Enough on both: shown; the multiplier table hides its small cell and a complement.
    out = channel_breakdown([("invitation", "buerger", 1, 12), ("multiplier", "jugend", 2, 6),
                             ("multiplier", "senioren", 2, 2), ("multiplier", "jugend", 1, 5)])
    by = {c["channel"]: c for c in out["channels"]}
    assert by["invitation"]["responses"] == 12 and by["multiplier"]["responses"] == 13
    cells = {(c["group"], c["tier"]): c for c in out["multiplier"]["cells"]}
    assert cells[("senioren", 2)]["suppressed"] is True
    assert cells[("jugend", 1)]["responses"] == 5 or cells[("jugend", 1)]["suppressed"]
    # Whatever is shown, the hidden 2 cannot be recomputed from a shown row or column total.
    groups = {g["group"]: g for g in out["multiplier"]["by_group"]}
    tiers = {t["tier"]: t for t in out["multiplier"]["by_tier"]}
    assert groups["senioren"]["suppressed"] or tiers[2]["suppressed"] is True or \
        cells[("jugend", 2)]["suppressed"]
    # Fewer than 5 responses in all: every count hidden.
    out = channel_breakdown([("invitation", "buerger", 1, 2), ("multiplier", "jugend", 2, 1)])
    assert all(c["suppressed"] for c in out["channels"]
               if c["channel"] in ("invitation", "multiplier"))


async def test_results_by_channel(session, make_staff, settings):
    staff, survey, partner = await _setup(session, make_staff)
    campaign = await make_campaign(session, survey)
    for inv in await make_invites(session, campaign, 6):
        await service.submit(session, inv.token, ANSWERS)
    _, secret, _ = await make_link(session, survey, partner, settings.resolved_secret_key())
    for _ in range(3):
        await _submit(session, secret)
    out = (await compute_results(session, survey)).as_dict()["by_channel"]
    by = {c["channel"]: c for c in out["channels"]}
    assert by["multiplier"]["suppressed"] and by["invitation"]["suppressed"]
    for _ in range(3):
        await _submit(session, secret)
    out = (await compute_results(session, survey)).as_dict()["by_channel"]
    by = {c["channel"]: c for c in out["channels"]}
    assert (by["invitation"]["responses"], by["multiplier"]["responses"]) == (6, 6)
    cells = {(c["group"], c["tier"]): c["responses"] for c in out["multiplier"]["cells"]}
    assert cells[("jugend", 2)] == 6


def test_secrets_are_derived_short_and_distinct():
    key = "k" * 40
    link_id = uuid.uuid4()
    a, r = multiplier.link_secret(key, link_id), multiplier.results_secret(key, link_id)
    assert len(a) == 16 and a.isalnum() and a == a.lower() and len(r) == 43 and a not in r
    assert multiplier.link_secret(key, link_id) == a  # reproducible for the poster
    assert multiplier.link_secret(key, uuid.uuid4()) != a
