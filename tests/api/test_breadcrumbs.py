"""Every staff page has the breadcrumb of api/templates/_breadcrumb.html (one `nav` named
"Brotkrumen", an `ol`, the page itself as aria-current="page"); pages inside a process lead
back to it, and the process page links to its surveys, campaigns, events and results.
Participant pages have none."""

from __future__ import annotations

import re

from api.deps import SESSION_COOKIE
from services.models.organisation import Role
from services.models.process import Process
from tests.api.test_campaigns_api import _invitation, _process
from tests.support.campaigns import audience_of_one
from tests.support.surveys import make_survey

NAV = re.compile(r'<nav aria-label="Brotkrumen" class="breadcrumb"><ol>(.*?)</ol></nav>', re.S)


def crumbs(html: str) -> list[tuple[str, str, bool]]:
    """(href, label, current) of the page's one breadcrumb."""
    found = NAV.findall(html)
    assert len(found) == 1, "no breadcrumb, or more than one"
    # Nor a second, hand-made one beside it (the stakeholder pages had their own).
    assert html.count('aria-label="Brotkrumen"') == 1, "a second breadcrumb"
    items = re.findall(r'<li><a href="([^"]*)"( aria-current="page")?>(.*?)</a></li>', found[0])
    assert items, found[0]
    return [(href, label, bool(current)) for href, current, label in items]


def assert_trail(html: str, *expected_hrefs: str) -> None:
    trail = crumbs(html)
    assert trail[0][:2] == ("/app", "Übersicht")
    assert [c for *_, c in trail].count(True) == 1 and trail[-1][2]
    hrefs = [h for h, _, _ in trail]
    for href in expected_hrefs:
        assert href in hrefs, (href, hrefs)


async def test_breadcrumbs_on_staff_pages(client, session, make_staff):  # type: ignore[no-untyped-def]
    admin = await make_staff(role=Role.admin)
    coordinator = await make_staff(role=Role.coordinator, org_slug=admin.org_slug)
    steering = await make_staff(role=Role.steering, org_slug=admin.org_slug)
    clerk = await make_staff(role=Role.clerk, org_slug=admin.org_slug)
    process_id = await _process(session, admin.org_id)
    _, _, _, campaign = await _invitation(session, admin.org_id)
    campaign.process_id = process_id
    survey = await make_survey(session, await session.get_one(Process, process_id),
                               from_template="weiterstadt-bedarfe-und-wuensche")
    person = await audience_of_one(session, admin.org_id)
    await session.flush()
    slug = admin.org_slug
    pages = [
        (admin, ["/app", "/app/processes", f"/app/orgs/{slug}/staff",
                f"/app/orgs/{slug}/templates", f"/app/orgs/{slug}/stakeholders",
                f"/app/orgs/{slug}/stakeholders/import", f"/app/orgs/{slug}/stakeholders/new",
                f"/app/orgs/{slug}/stakeholders/{person.id}",
                f"/app/orgs/{slug}/stakeholders/{person.id}/erase",
                "/app/passwort", "/app/surveys"]),
        (coordinator, [f"/app/orgs/{slug}/campaigns", f"/app/campaigns/{campaign.id}",
                       f"/app/campaigns/{campaign.id}/cancel"]),
        (steering, ["/app/approvals"]),
        (clerk, ["/app/clerk"]),
    ]
    for staff, urls in pages:
        client.cookies.set(SESSION_COOKIE, staff.token)
        for url in urls:
            r = await client.get(url)
            assert r.status_code == 200, (url, r.status_code)
            assert_trail(r.text)
    home = crumbs((await client.get("/app")).text)
    assert home == [("/app", "Übersicht", True)]

    # Inside a process: the trail leads back to the process (and its campaign list).
    client.cookies.set(SESSION_COOKIE, coordinator.token)
    inside = {
        f"/app/processes/{process_id}": ["/app/processes"],
        f"/app/processes/{process_id}/campaigns": [f"/app/processes/{process_id}"],
        f"/app/processes/{process_id}/campaigns/new": [
            f"/app/processes/{process_id}", f"/app/processes/{process_id}/campaigns"],
        f"/app/processes/{process_id}/events": [f"/app/processes/{process_id}"],
        f"/app/campaigns/{campaign.id}": [f"/app/processes/{process_id}",
                                          f"/app/processes/{process_id}/campaigns"],
        f"/app/surveys/{survey.id}/results": [f"/app/processes/{process_id}",
                                              f"/app/processes/{process_id}/surveys"],
        f"/app/processes/{process_id}/resolution": [f"/app/processes/{process_id}"],
    }
    for url, hrefs in inside.items():
        r = await client.get(url)
        assert r.status_code == 200, (url, r.status_code)
        assert_trail(r.text, *hrefs)

    # The process page links to everything that belongs to it.
    page = (await client.get(f"/app/processes/{process_id}")).text
    for href in (f"/app/processes/{process_id}/surveys",
                 f"/app/processes/{process_id}/campaigns",
                 f"/app/processes/{process_id}/events", "#ergebnisse"):
        assert f'href="{href}"' in page, href
    assert 'id="ergebnisse"' in page
    assert f'href="/app/surveys/{survey.id}/results"' in page
    listing = (await client.get(f"/app/processes/{process_id}/campaigns")).text
    assert f'href="/app/campaigns/{campaign.id}"' in listing


async def test_participant_pages_have_no_breadcrumb(client, session, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff(role=Role.coordinator)
    token, *_ = await _invitation(session, staff.org_id)
    r = await client.get(f"/t/{token}/decline")
    assert r.status_code == 200 and 'aria-label="Brotkrumen"' not in r.text
    r = await client.get("/login")
    assert 'aria-label="Brotkrumen"' not in r.text


async def test_results_trail_names_the_process(client, session, make_staff):  # type: ignore[no-untyped-def]
    """The results page's trail leads back to the process by its title (as the campaign and
    survey pages do), not by a generic "Prozess" - seen in the coordinator journey."""
    staff = await make_staff(role=Role.coordinator)
    process = await session.get_one(Process, await _process(session, staff.org_id))
    survey = await make_survey(session, process, from_template="weiterstadt-bedarfe-und-wuensche")
    await session.flush()
    client.cookies.set(SESSION_COOKIE, staff.token)
    r = await client.get(f"/app/surveys/{survey.id}/results")
    assert r.status_code == 200
    assert (f"/app/processes/{process.id}", process.title, False) in crumbs(r.text)


async def test_event_trails_name_the_process(client, session, make_staff):  # type: ignore[no-untyped-def]
    """An event's page and its check-in page lead back to the process by its title, not by a
    generic "Prozess" (as the events list, the campaign and survey pages do)."""
    from services.meetings import service as meetings
    from services.meetings.schemas import MeetingCreate

    staff = await make_staff(role=Role.coordinator)
    process = await session.get_one(Process, await _process(session, staff.org_id))
    meeting = await meetings.create_meeting(session, process, MeetingCreate.model_validate({
        "phase": "kickoff", "title": "Auftakt", "starts_at": "2027-05-04T18:00:00+02:00",
        "ends_at": "2027-05-04T20:00:00+02:00", "capacity": 10}), actor=staff.email)
    await session.commit()
    client.cookies.set(SESSION_COOKIE, staff.token)
    for url in (f"/app/events/{meeting.id}", f"/app/events/{meeting.id}/checkin"):
        r = await client.get(url)
        assert r.status_code == 200, (url, r.text)
        trail = crumbs(r.text)
        assert (f"/app/processes/{process.id}", process.title, False) in trail, trail
        assert "Prozess" not in [label for _, label, _ in trail]
