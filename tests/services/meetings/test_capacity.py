"""Capacity under concurrency: 50 people ask at once for 20 places; cancellations, a higher
capacity and companions move the waitlist in arrival order (real PostgreSQL, committed)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, text

from services.meetings import service
from services.meetings.schemas import MeetingUpdate, RegistrationIn
from services.models.meeting import MeetingMail
from tests.support.meetings import make_event, make_links, meeting, registrations


async def _register(maker, token: str, companions: int = 0):  # type: ignore[no-untyped-def]
    async with maker() as s:
        out = await service.register_by_token(
            s, token, RegistrationIn(attending=True, companions=companions))
        await s.commit()
        return out


async def test_fifty_concurrent_for_twenty_places(committed_maker):
    setup = await make_event(committed_maker, capacity=20)
    tokens = await make_links(committed_maker, setup, 50)

    results = await asyncio.gather(*(_register(committed_maker, t) for t in tokens))

    assert sorted(r.status for r in results).count("registered") == 20
    assert sum(r.status == "waitlisted" for r in results) == 30
    rows = await registrations(committed_maker, setup.meeting_id)
    # Arrival order is the order of the lock: the first 20 to get it hold the places, the
    # others wait in the order they came, and each was told its position.
    assert [r.status for r in rows] == ["registered"] * 20 + ["waitlisted"] * 30
    positions = {r.id: r.waitlist_position for r in results}
    assert [positions[r.id] for r in rows[20:]] == list(range(1, 31))
    m = await meeting(committed_maker, setup.meeting_id)
    assert (m.places_taken, m.waiting, m.status) == (20, 30, "full")
    # Every registration queued exactly one mail of its kind.
    async with committed_maker() as s:
        kinds = list(await s.scalars(select(MeetingMail.kind).where(
            MeetingMail.meeting_id == setup.meeting_id)))
    assert kinds.count("confirmation") == 20 and kinds.count("waitlisted") == 30

    # Two cancellations: the first two in line move up, in order.
    waiting = rows[20:]
    for reg in rows[:2]:
        async with committed_maker() as s:
            await service.cancel_registration(s, reg.id, actor="koordination@example.org")
            await s.commit()
    rows2 = {r.id: r for r in await registrations(committed_maker, setup.meeting_id)}
    assert [rows2[r.id].status for r in waiting[:3]] == ["registered", "registered",
                                                         "waitlisted"]
    # A capacity raise by three: the next three.
    async with committed_maker() as s:
        await service.update_meeting(s, setup.meeting_id, MeetingUpdate(capacity=23),
                                     actor="koordination@example.org")
        await s.commit()
    rows3 = {r.id: r for r in await registrations(committed_maker, setup.meeting_id)}
    assert [rows3[r.id].status for r in waiting[:6]] == ["registered"] * 5 + ["waitlisted"]
    m = await meeting(committed_maker, setup.meeting_id)
    assert m.places_taken == 23 and m.waiting == 25
    async with committed_maker() as s:
        promoted = list(await s.scalars(select(MeetingMail.registration_id).where(
            MeetingMail.meeting_id == setup.meeting_id, MeetingMail.kind == "promoted")))
    assert sorted(promoted) == sorted(r.id for r in waiting[:5])
    # A lower capacity than the places given is refused, not an overbooking.
    async with committed_maker() as s:
        try:
            await service.update_meeting(s, setup.meeting_id, MeetingUpdate(capacity=10),
                                         actor=None)
        except service.ValidationFailed as exc:
            assert exc.code == "capacity_below_registered"
        else:
            raise AssertionError("capacity below the places taken was accepted")


async def test_companions_count_and_the_line_is_strict(committed_maker):
    setup = await make_event(committed_maker, capacity=5)
    a, b, c, d = await make_links(committed_maker, setup, 4)
    assert (await _register(committed_maker, a, companions=2)).status == "registered"  # 3
    assert (await _register(committed_maker, b, companions=2)).status == "waitlisted"  # 3 > 2
    # One place would be free for c, but b waits first: c waits too.
    out_c = await _register(committed_maker, c)
    assert (out_c.status, out_c.waitlist_position) == ("waitlisted", 2)
    m = await meeting(committed_maker, setup.meeting_id)
    assert m.places_taken == 3
    # a declines: b (with two companions) and then c fit.
    async with committed_maker() as s:
        out = await service.register_by_token(s, a, RegistrationIn(attending=False))
        await s.commit()
    assert out.status == "cancelled"
    rows = {r.status for r in await registrations(committed_maker, setup.meeting_id)}
    assert rows == {"cancelled", "registered"}
    m = await meeting(committed_maker, setup.meeting_id)
    assert (m.places_taken, m.waiting, m.status) == (4, 0, "open")
    # d with one companion needs two places, one is free: waitlisted.
    assert (await _register(committed_maker, d, companions=1)).status == "waitlisted"


async def test_the_constraint_refuses_overbooking_whatever_the_code(committed_maker):
    setup = await make_event(committed_maker, capacity=2)
    async with committed_maker() as s:
        try:
            await s.execute(text("UPDATE meetings SET places_taken = 3 WHERE id = :m"),
                            {"m": setup.meeting_id})
        except Exception as exc:  # IntegrityError from the check constraint
            assert "within_capacity" in str(exc)
        else:
            raise AssertionError("overbooking accepted by the schema")


async def test_ledger_keys_of_the_hot_path(committed_maker):
    setup = await make_event(committed_maker, capacity=1)
    a, b = await make_links(committed_maker, setup, 2)
    ra = await _register(committed_maker, a)
    rb = await _register(committed_maker, b)
    async with committed_maker() as s:
        keys = set(await s.scalars(select(MeetingMail.idempotency_key).where(
            MeetingMail.meeting_id == setup.meeting_id)))
    [b_row] = [r for r in await registrations(committed_maker, setup.meeting_id)
               if r.id == rb.id]
    assert keys == {f"confirmation:{ra.id}:0", f"waitlisted:{rb.id}:{b_row.seq}"}


async def test_concurrent_public_confirmations_never_overbook(committed_maker):
    """The ordinary (ORM) placement, used by double opt-in confirmations, under the same
    lock: 20 confirmations at once for 8 places."""
    from services.meetings.links import public_token
    from services.meetings.schemas import PublicRegistrationIn

    setup = await make_event(committed_maker, capacity=8, public=True)
    secret = "s" * 40
    ids = []
    for i in range(20):
        async with committed_maker() as s:
            await service.register_public(s, setup.meeting_id, PublicRegistrationIn(
                name=f"P {i}", email=f"p{i}@example.org"), secret_key=secret)
            await s.commit()
    ids = [r.id for r in await registrations(committed_maker, setup.meeting_id)]

    async def confirm(reg_id):  # type: ignore[no-untyped-def]
        async with committed_maker() as s:
            out = await service.confirm_public(s, public_token(secret, reg_id))
            await s.commit()
            return out

    results = await asyncio.gather(*(confirm(i) for i in ids))
    assert sum(r.status == "registered" for r in results) == 8
    assert sorted(r.waitlist_position for r in results if r.waitlist_position) == list(
        range(1, 13))
    m = await meeting(committed_maker, setup.meeting_id)
    assert (m.places_taken, m.waiting) == (8, 12)


async def test_the_same_link_clicked_at_once_registers_once(committed_maker):  # type: ignore[no-untyped-def]
    """The one-statement hot path reads "no registration yet" from its snapshot: racing
    clicks of one link meet the unique index and take the ordinary path, which sees the
    first. Declines racing them lock the link first, as the hot path does: no deadlock."""
    setup = await make_event(committed_maker, capacity=3)
    [token] = await make_links(committed_maker, setup, 1)

    results = await asyncio.gather(*(_register(committed_maker, token) for _ in range(6)))

    assert len({r.id for r in results}) == 1
    assert {r.status for r in results} == {"registered"}
    rows = await registrations(committed_maker, setup.meeting_id)
    assert [r.status for r in rows] == ["registered"]
    m = await meeting(committed_maker, setup.meeting_id)
    assert (m.places_taken, m.waiting) == (1, 0)

    async def decline():  # type: ignore[no-untyped-def]
        async with committed_maker() as s:
            out = await service.register_by_token(s, token, RegistrationIn(attending=False))
            await s.commit()
            return out

    [other] = await make_links(committed_maker, setup, 1)
    mixed = await asyncio.gather(*(
        [_register(committed_maker, other) for _ in range(3)] + [decline() for _ in range(3)]))
    assert len(mixed) == 6  # none failed (a deadlock would raise)
    rows = await registrations(committed_maker, setup.meeting_id)
    m = await meeting(committed_maker, setup.meeting_id)
    assert m.places_taken == sum(1 + r.companions for r in rows if r.status == "registered")
    async with committed_maker() as s:
        mails = list(await s.scalars(select(MeetingMail.idempotency_key).where(
            MeetingMail.meeting_id == setup.meeting_id, MeetingMail.kind == "confirmation")))
    assert len(mails) == len(set(mails))
