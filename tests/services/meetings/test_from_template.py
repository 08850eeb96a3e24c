"""A process started from a template gets the events its YAML names (`events:`), in their
phase, on the phase's first day at 18:00 local time; editable afterwards."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from services.meetings import service
from services.models.organisation import Organisation, Role
from services.processes.service import create_process


async def test_template_events_are_created_with_the_process(session, make_staff):
    staff = await make_staff(role=Role.coordinator)
    org = await session.get_one(Organisation, staff.org_id)
    process, wf_input = await create_process(
        session, org, template_key="weiterstadt-vielfaltsstrategie", title="WIRkt!",
        starts_on=date(2027, 2, 1), actor="k@example.org")
    meetings = await service.meetings_of_process(session, process.id)
    by_key = {m.template_key: m for m in meetings}
    assert set(by_key) == {"kick-off", "bergfest", "abschlussveranstaltung"}
    phases = {p.key: p for p in wf_input.state.phases}
    for m in meetings:
        start = m.starts_at.astimezone(ZoneInfo("Europe/Berlin"))
        assert start.date() == phases[m.phase_key].planned_start
        assert (start.hour, start.minute) == (18, 0)
        assert m.status == "planned" and m.capacity == 0
    assert by_key["kick-off"].phase_key == "kick-off"
    assert by_key["kick-off"].title == "Kick-off-Veranstaltung"


async def test_every_shipped_template_gets_its_events(session, make_staff):
    from services.processes.templates import builtin_templates

    staff = await make_staff(role=Role.coordinator)
    org = await session.get_one(Organisation, staff.org_id)
    for key, template in builtin_templates().items():
        process, _ = await create_process(session, org, template_key=key, title=key,
                                          starts_on=date(2027, 3, 1), actor=None)
        keys = {m.template_key for m in await service.meetings_of_process(session, process.id)}
        assert keys == {e.key for e in template.events}, key
