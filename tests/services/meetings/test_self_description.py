"""The voluntary self-description of who came cannot be joined to the person (checked on the
live schema, as for anonymous survey answers), keeps origin only with its own consent, and its
counts are shown only when no small group can be read from them."""

from __future__ import annotations

from sqlalchemy import text

from services.meetings import service
from services.meetings.diversity import dimension
from services.meetings.schemas import RegistrationIn, SelfDescription
from tests.support.meetings import make_event, make_links

TABLE = "meeting_self_descriptions"


async def test_no_way_back_to_the_person(session):
    refs = (await session.execute(text(
        "SELECT ccu.table_name AS referenced "
        "FROM information_schema.table_constraints tc "
        "JOIN information_schema.constraint_column_usage ccu "
        "  ON tc.constraint_name = ccu.constraint_name AND tc.table_schema = ccu.table_schema "
        "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_name = :t"), {"t": TABLE})).all()
    assert {r.referenced for r in refs} == {"meetings", "processes"}
    columns = (await session.execute(text(
        "SELECT column_name, data_type, column_default, is_identity "
        "FROM information_schema.columns WHERE table_name = :t"), {"t": TABLE})).all()
    names = {c.column_name for c in columns}
    # `channel` (0023): one of four ways in, as coarse as the date; the counts by channel are
    # shown only from MIN_GROUP on (services/meetings/service.py `channels`).
    assert names == {"id", "meeting_id", "process_id", "age_band", "gender", "origin",
                     "group_key", "given_on", "channel"}
    for c in columns:
        # No precise time (it could be matched with the registration's), no sequence.
        assert not c.data_type.startswith(("timestamp", "time")), c
        assert c.is_identity == "NO" and "nextval" not in (c.column_default or ""), c
    ids = {c.column_name: c for c in columns}
    assert ids["id"].data_type == "uuid" and ids["id"].column_default == "gen_random_uuid()"
    # And nothing points at it from the registration side.
    back = (await session.execute(text(
        "SELECT tc.table_name FROM information_schema.table_constraints tc "
        "JOIN information_schema.constraint_column_usage ccu "
        "  ON tc.constraint_name = ccu.constraint_name "
        "WHERE tc.constraint_type = 'FOREIGN KEY' AND ccu.table_name = :t"),
        {"t": TABLE})).all()
    assert back == []


async def test_origin_needs_its_own_consent_and_counts_are_suppressed(committed_maker):
    setup = await make_event(committed_maker, capacity=0)
    tokens = await make_links(committed_maker, setup, 12)
    answers = ([("27_44", "eu", True)] * 6 + [("45_64", "nicht_eu", True)] * 3
               + [("65_plus", "nicht_eu", False)] * 2 + [("keine_angabe", "keine_angabe", False)])
    for token, (age, origin, consent) in zip(tokens, answers, strict=True):
        async with committed_maker() as s:
            await service.register_by_token(s, token, RegistrationIn(
                attending=True, self_description=SelfDescription(
                    age_band=age, gender="weiblich", origin=origin, origin_consent=consent)))
            await s.commit()
    async with committed_maker() as s:
        out = await service.diversity(s, meeting_id=setup.meeting_id)
        by_process = await service.diversity(s, process_id=setup.process_id)
    assert out == by_process
    dims = {d.dimension: d for d in out.dimensions}
    assert out.total == 12
    age = {c.value: c.count for c in dims["age_band"].counts}
    # 3, 2 and 1 are hidden; 6 alone is not a complement problem (12 - 6 = 6 spread over
    # three hidden counts).
    assert age == {"27_44": 6, "45_64": None, "65_plus": None, "keine_angabe": None}
    origin = {c.value: c.count for c in dims["origin"].counts}
    # Without consent the origin was not stored: 3 "keine Angabe" (two withheld, one not given).
    assert origin == {"eu": 6, "nicht_eu": None, "keine_angabe": None}
    assert dims["gender"].counts[0].count == 12
    assert out.checklist_met is False  # one gender only


def test_complementary_suppression_and_small_totals():
    # 6 and 3 of 9: the 3 is hidden, and the 6 too, or 9 - 6 would give the 3 back.
    d = dimension("age_band", {"27_44": 6, "45_64": 3})
    assert d.total == 9 and [c.count for c in d.counts] == [None, None]
    # Fewer than five in all: nothing is shown.
    small = dimension("gender", {"weiblich": 2, "maennlich": 2})
    assert small.total is None and all(c.count is None for c in small.counts)
    assert small.varied is True
    # Big enough everywhere: everything shown.
    big = dimension("gender", {"weiblich": 5, "maennlich": 7})
    assert [c.count for c in big.counts] == [7, 5]
