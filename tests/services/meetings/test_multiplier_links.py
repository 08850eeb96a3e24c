"""Multiplier links to an event (issue 12): whoever has a partner's link registers through the
event's public registration with double opt-in (the mail through the SMTP sink), attributed to
the link's group, tier and the channel `multiplier`; the link's cap holds under 30 concurrent
confirmations; a closed link refuses; capacity and waitlist work as for everyone (real
PostgreSQL, committed)."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from sqlalchemy import select

from services.errors import Conflict, Gone
from services.meetings import delivery, service
from services.meetings.schemas import PublicRegistrationIn, SelfDescription
from services.models.meeting import MeetingRegistration, MeetingSelfDescription
from services.models.survey import MultiplierLink
from services.surveys import multiplier
from services.surveys.multiplier import MultiplierLinkCreate
from tests.support.meetings import delivery_setup, make_event, meeting, registrations
from tests.support.multiplier import make_partner

KEY = "test-secret-key"  # delivery_setup's: the mailed confirmation link is derived from it
_CONFIRM = re.compile(r"/anmeldung/([A-Za-z0-9_\-]+)/bestaetigen")


async def _link(maker, setup, **body):  # type: ignore[no-untyped-def]
    """A partner (group `jugend`, tier 2) and its link to the event: (link id, secret)."""
    async with maker() as s:
        partner = await make_partner(s, setup.org_id, group="jugend", tier=2)
        m = await service.MeetingRepository.from_session(s).get(setup.meeting_id)
        link = await multiplier.create_link(s, m, MultiplierLinkCreate(
            partner_id=partner.id, **body), secret_key=KEY, actor="koordination@example.org")
        await s.commit()
        return link.id, multiplier.link_secret(KEY, link.id)


async def _ask(maker, secret, email, **extra):  # type: ignore[no-untyped-def]
    async with maker() as s:
        await service.register_by_link(s, secret, PublicRegistrationIn(
            name="Ada Muster", email=email, **extra), secret_key=KEY)
        await s.commit()


async def _confirm(maker, token, sd=None):  # type: ignore[no-untyped-def]
    async with maker() as s:
        out = await service.confirm_public(s, token, self_description=sd)
        await s.commit()
        return out


def _token(maker_reg_id):  # type: ignore[no-untyped-def]
    from services.meetings.links import public_token

    return public_token(KEY, maker_reg_id)


async def _link_row(maker, link_id):  # type: ignore[no-untyped-def]
    async with maker() as s:
        return await s.get(MultiplierLink, link_id)


async def test_registration_with_double_opt_in_attributed_to_the_link(  # type: ignore[no-untyped-def]
        committed_maker, smtp_sink):
    # Not public: the partner's audience is invited through the link alone.
    setup = await make_event(committed_maker, capacity=10)
    link_id, secret = await _link(committed_maker, setup)

    await _ask(committed_maker, secret, "Ada@Example.org", companions=1,
               needs={"wheelchair": True, "interpreter": "tr"})
    [reg] = await registrations(committed_maker, setup.meeting_id)
    # Nobody is placed before the mailed link is used; the link counts nothing yet.
    assert (reg.status, reg.email, reg.channel, reg.multiplier_link_id, reg.group_key,
            reg.reach_tier) == ("pending", "ada@example.org", "multiplier", link_id,
                                "jugend", 2)
    assert reg.needs["wheelchair"] is True and reg.needs["interpreter"] == "tr"
    assert (await _link_row(committed_maker, link_id)).answers == 0

    ds = delivery_setup(committed_maker, smtp_sink.port)
    assert await delivery.deliver(ds, setup.meeting_id) == 1
    [mail] = smtp_sink.to("ada@example.org")
    match = _CONFIRM.search(mail.message.get_body(("plain",)).get_content())
    assert match, "the opt-in mail carries the confirmation link"

    out = await _confirm(committed_maker, match.group(1),
                         SelfDescription(age_band="18_26", group="verein"))
    assert out.status == "registered"
    [reg] = await registrations(committed_maker, setup.meeting_id)
    assert (reg.status, reg.channel, reg.group_key, reg.reach_tier) == (
        "registered", "multiplier", "jugend", 2)
    assert (await _link_row(committed_maker, link_id)).answers == 1
    m = await meeting(committed_maker, setup.meeting_id)
    assert (m.places_taken, m.waiting) == (2, 0)  # with the companion
    # The self-description: given at the confirmation, stored apart with its channel only.
    async with committed_maker() as s:
        [sd] = (await s.scalars(select(MeetingSelfDescription).where(
            MeetingSelfDescription.meeting_id == setup.meeting_id))).all()
    assert (sd.age_band, sd.group_key, sd.channel) == ("18_26", "verein", "multiplier")
    # Confirming twice changes nothing, counts nothing twice.
    assert (await _confirm(committed_maker, match.group(1))).status == "registered"
    assert (await _link_row(committed_maker, link_id)).answers == 1

    # The coordinator's counts by channel: the link on its own row.
    async with committed_maker() as s:
        m = await service.MeetingRepository.from_session(s).get(setup.meeting_id)
        channels = await service.channels(s, m)
    [row] = channels.rows
    assert (row.channel, row.link_id, row.registered, row.people) == (
        "multiplier", link_id, 1, 2)
    assert row.label == "Multiplikatoren-Link: Kulturverein Nord"
    # One self-description: below 5, not broken down.
    assert channels.self_descriptions.total is None


async def test_the_cap_holds_under_thirty_concurrent_confirmations(committed_maker):  # type: ignore[no-untyped-def]
    setup = await make_event(committed_maker, capacity=0)
    link_id, secret = await _link(committed_maker, setup, cap=10)
    emails = [f"p{i:02d}-{uuid.uuid4().hex[:6]}@example.org" for i in range(30)]
    # 30 ask at once (the link is not full yet for any of them: requests count nothing) ...
    await asyncio.gather(*(_ask(committed_maker, secret, e) for e in emails))
    pending = await registrations(committed_maker, setup.meeting_id)
    assert len(pending) == 30 and {r.status for r in pending} == {"pending"}

    # ... and 30 confirm at once: exactly 10 get through the link.
    async def confirm(reg):  # type: ignore[no-untyped-def]
        try:
            return (await _confirm(committed_maker, _token(reg.id))).status
        except Conflict as exc:
            return exc.code

    results = await asyncio.gather(*(confirm(r) for r in pending))
    assert results.count("registered") == 10 and results.count("link_full") == 20
    assert (await _link_row(committed_maker, link_id)).answers == 10
    rows = await registrations(committed_maker, setup.meeting_id)
    assert sum(r.status == "registered" for r in rows) == 10
    assert sum(r.status == "pending" for r in rows) == 20  # refused ones stay unconfirmed
    assert (await meeting(committed_maker, setup.meeting_id)).places_taken == 10
    # A full link refuses a new request at once.
    with pytest.raises(Conflict) as full:
        await _ask(committed_maker, secret, "spaet@example.org")
    assert full.value.code == "link_full"


async def test_a_closed_link_refuses(committed_maker):  # type: ignore[no-untyped-def]
    setup = await make_event(committed_maker, capacity=10)
    link_id, secret = await _link(committed_maker, setup)
    await _ask(committed_maker, secret, "vorher@example.org")
    [early] = await registrations(committed_maker, setup.meeting_id)
    async with committed_maker() as s:
        m = await service.MeetingRepository.from_session(s).get(setup.meeting_id)
        await multiplier.close_link(s, m, link_id, actor="koordination@example.org")
        await s.commit()
    with pytest.raises(Gone) as closed:
        await _ask(committed_maker, secret, "nachher@example.org")
    assert closed.value.code == "link_closed"
    # A request made before the close is not placed through the closed link either.
    with pytest.raises(Gone):
        await _confirm(committed_maker, _token(early.id))
    [still] = await registrations(committed_maker, setup.meeting_id)
    assert still.status == "pending"
    assert (await _link_row(committed_maker, link_id)).answers == 0
    # An unknown secret is no link.
    with pytest.raises(service.NotFound):
        await _ask(committed_maker, "a" * 16, "x@example.org")


async def test_capacity_and_waitlist_as_for_everyone(committed_maker):  # type: ignore[no-untyped-def]
    setup = await make_event(committed_maker, capacity=2)
    link_id, secret = await _link(committed_maker, setup, cap=50)
    for i in range(3):
        await _ask(committed_maker, secret, f"w{i}@example.org")
    regs = await registrations(committed_maker, setup.meeting_id)
    statuses = [(await _confirm(committed_maker, _token(r.id))).status for r in regs]
    assert statuses == ["registered", "registered", "waitlisted"]
    m = await meeting(committed_maker, setup.meeting_id)
    assert (m.places_taken, m.waiting, m.status) == (2, 1, "full")
    # A waitlisted registration is one through the link too (it asked and confirmed).
    assert (await _link_row(committed_maker, link_id)).answers == 3
    # A cancellation moves the waitlist up as always.
    async with committed_maker() as s:
        await service.cancel_registration(s, regs[0].id, actor=None)
        await s.commit()
    async with committed_maker() as s:
        third = await s.get(MeetingRegistration, regs[2].id)
    assert third.status == "registered"
