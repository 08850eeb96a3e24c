"""The DSGVO export names a person's event registrations; erasing (Art. 17) clears them:
name, address and needs go, the place in the counts stays."""

from __future__ import annotations

from sqlalchemy import select

from services.meetings import service
from services.meetings.schemas import Needs, RegistrationIn
from services.models.campaign import Invitation
from services.models.meeting import MeetingRegistration
from services.stakeholders import service as stakeholders
from tests.support.meetings import make_event, make_links, meeting, registrations


async def test_erasure_clears_registrations(committed_maker):
    setup = await make_event(committed_maker, capacity=5)
    [token] = await make_links(committed_maker, setup, 1)
    async with committed_maker() as s:
        await service.register_by_token(s, token, RegistrationIn(
            attending=True, companions=1, needs=Needs(note="Rollstuhl, bitte Rampe")))
        await s.commit()
    [reg] = await registrations(committed_maker, setup.meeting_id)
    assert reg.name and reg.email and reg.needs["note"]
    async with committed_maker() as s:
        person_id = (await s.scalars(select(Invitation.stakeholder_id).where(
            Invitation.id == reg.invitation_id))).one()
        export = await stakeholders.export_stakeholder(s, setup.org_id, person_id)
        assert [r["status"] for r in export.event_registrations] == ["registered"]
        assert export.event_registrations[0]["needs"]["note"] == "Rollstuhl, bitte Rampe"
        await stakeholders.erase_stakeholder(s, setup.org_id, person_id)
        await s.commit()
    async with committed_maker() as s:
        gone = (await s.scalars(select(MeetingRegistration).where(
            MeetingRegistration.id == reg.id))).one()
    assert (gone.name, gone.email, gone.needs, gone.stakeholder_id) == (None, None, {}, None)
    assert gone.status == "registered" and gone.companions == 1
    assert (await meeting(committed_maker, setup.meeting_id)).places_taken == 2
