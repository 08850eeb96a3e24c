"""The events API (API.md "Events and approvals"): plan, list, edit, registrations for staff,
the participant's registration by personal link, the public feed; next to the domain event
feed's /api/v1/events and /stream, which must keep answering."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from services.campaigns.tokens import hash_token, new_token
from services.models.campaign import Campaign, Invitation
from services.models.organisation import Role
from tests.support.surveys import make_process


async def _event(client, staff, process_id, **extra):  # type: ignore[no-untyped-def]
    starts = datetime.now(UTC) + timedelta(days=20)
    body = {"phase": "kickoff", "title": "Kick-off", "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(), "location": "Rathaus",
            "capacity": 1, **extra}
    return await client.post(f"/api/v1/processes/{process_id}/events", json=body,
                             headers=staff.headers)


async def _links(session, org_id, process_id, meeting_id, n):  # type: ignore[no-untyped-def]
    campaign = Campaign(organisation_id=org_id, process_id=process_id, kind="event",
                        target_id=meeting_id, title="Kick-off", audience={}, reminders=[],
                        deadline=datetime.now(UTC) + timedelta(days=10), status="running")
    session.add(campaign)
    await session.flush()
    tokens = []
    for _ in range(n):
        token = new_token()
        session.add(Invitation(campaign_id=campaign.id, organisation_id=org_id,
                               token_hash=hash_token(token), status="sent", group_key="b",
                               reach_tier=1, language="de", batch_no=0))
        tokens.append(token)
    await session.flush()
    return tokens


async def test_plan_register_and_list(client, session, make_staff):
    staff = await make_staff(role=Role.coordinator)
    process = await make_process(session, staff.org_id)
    r = await _event(client, staff, process.id)
    assert r.status_code == 201, r.text
    event = r.json()
    assert event["status"] == "planned" and event["capacity"] == 1
    assert event["time_zone"] == "Europe/Berlin"

    # A phase the process does not have, an end before the start: 422 naming the field.
    bad = await _event(client, staff, process.id, phase="gibt-es-nicht")
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "phase"
    starts = datetime.now(UTC) + timedelta(days=3)
    bad = await _event(client, staff, process.id, starts_at=starts.isoformat(),
                       ends_at=(starts - timedelta(hours=1)).isoformat())
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "ends_at"
    # Local time without an offset is the organisation's time zone.
    local = await _event(client, staff, process.id, starts_at="2027-07-01T18:00:00",
                         ends_at="2027-07-01T20:00:00")
    assert local.status_code == 201
    assert local.json()["starts_at"].startswith("2027-07-01T16:00:00")  # 18:00 CEST

    a, b = await _links(session, staff.org_id, process.id, uuid.UUID(event["id"]), 2)
    r1 = await client.post(f"/api/v1/participation/{a}/registration",
                           json={"attending": True, "needs": {"wheelchair": True,
                                                              "interpreter": "tr"}})
    assert r1.status_code == 200, r1.text
    assert r1.json()["status"] == "registered" and len(r1.json()["checkin_code"]) == 8
    r2 = await client.post(f"/api/v1/participation/{b}/registration", json={"attending": True})
    assert (r2.json()["status"], r2.json()["waitlist_position"]) == ("waitlisted", 1)
    mine = await client.get(f"/api/v1/participation/{b}/registration")
    assert mine.json()["status"] == "waitlisted"
    # Bad input: 422 naming the field, never a 500.
    bad = await client.post(f"/api/v1/participation/{b}/registration",
                            json={"attending": True, "companions": 99})
    assert bad.status_code == 422
    assert "companions" in str(bad.json()["error"]["details"])
    unknown = await client.post("/api/v1/participation/nope/registration",
                                json={"attending": True})
    assert unknown.status_code == 404

    regs = await client.get(f"/api/v1/events/{event['id']}/registrations",
                            headers=staff.headers)
    assert regs.status_code == 200
    rows = regs.json()
    assert [r["status"] for r in rows] == ["registered", "waitlisted"]
    assert rows[0]["needs"]["wheelchair"] is True and rows[0]["needs"]["interpreter"] == "tr"
    only = await client.get(f"/api/v1/events/{event['id']}/registrations?status=waitlisted",
                            headers=staff.headers)
    assert [r["waitlist_position"] for r in only.json()] == [1]

    # a declines: b moves up.
    r3 = await client.post(f"/api/v1/participation/{a}/registration", json={"attending": False})
    assert r3.json()["status"] == "cancelled"
    assert (await client.get(f"/api/v1/participation/{b}/registration")).json()["status"] \
        == "registered"

    # Raising the capacity and rescheduling through PATCH.
    moved = datetime.now(UTC) + timedelta(days=21)
    p = await client.patch(f"/api/v1/events/{event['id']}", headers=staff.headers, json={
        "capacity": 5, "starts_at": moved.isoformat(),
        "ends_at": (moved + timedelta(hours=1)).isoformat()})
    assert p.status_code == 200, p.text
    assert p.json()["capacity"] == 5 and p.json()["sequence"] == 1
    listed = await client.get(f"/api/v1/processes/{process.id}/events", headers=staff.headers)
    assert len(listed.json()) == 2

    # Every change is in the feed; the feed's own paths still answer next to /events/{id}.
    feed = await client.get("/api/v1/events?after=0&limit=1000", headers=staff.headers)
    assert feed.status_code == 200
    types = {e["type"] for e in feed.json()["events"]}
    assert {"event.created", "registration.created", "registration.waitlisted",
            "registration.cancelled", "registration.promoted",
            "event.rescheduled"} <= types
    assert (await client.get("/api/v1/events/stream?after=0", headers={"Authorization": "x"})
            ).status_code == 401  # the stream route, not an event id


async def test_other_organisation_and_roles(client, session, make_staff):
    staff = await make_staff(role=Role.coordinator)
    other = await make_staff(role=Role.coordinator)
    clerk = await make_staff(role=Role.clerk, org_slug=staff.org_slug)
    process = await make_process(session, staff.org_id)
    event = (await _event(client, staff, process.id)).json()
    assert (await client.get(f"/api/v1/events/{event['id']}", headers=other.headers)
            ).status_code == 404
    assert (await client.get(f"/api/v1/events/{event['id']}/registrations",
                             headers=other.headers)).status_code == 404
    assert (await client.get(f"/api/v1/events/{event['id']}/registrations",
                             headers=clerk.headers)).status_code == 403
    assert (await _event(client, other, process.id)).status_code == 404


async def test_public_feed_has_only_public_events(client, session, make_staff):
    staff = await make_staff(role=Role.coordinator)
    process = await make_process(session, staff.org_id)
    await _event(client, staff, process.id, title="Intern")
    public = (await _event(client, staff, process.id, title="Kick-off für alle",
                           public=True)).json()
    r = await client.get(f"/api/v1/processes/{process.id}/events.ics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(r.content)
    assert [str(e["SUMMARY"]) for e in cal.walk("VEVENT")] == ["Kick-off für alle"]
    assert str(cal.walk("VEVENT")[0]["UID"]).startswith(f"event-{public['id']}@")


async def test_held_with_minutes_appears_in_the_timeline(client, session, make_staff):
    staff = await make_staff(role=Role.coordinator)
    process = await make_process(session, staff.org_id)
    event = (await _event(client, staff, process.id, capacity=0)).json()
    [a] = await _links(session, staff.org_id, process.id, event["id"], 1)
    code = (await client.post(f"/api/v1/participation/{a}/registration",
                              json={"attending": True, "companions": 2})).json()["checkin_code"]
    await client.post(f"/api/v1/events/{event['id']}/checkin", json={"code": code},
                      headers=staff.headers)
    for _ in range(2):  # saving twice adds one step
        r = await client.patch(f"/api/v1/events/{event['id']}", headers=staff.headers,
                               json={"status": "held", "minutes": "Ergebnisse: drei Themen"})
        assert r.status_code in (200, 409)
    timeline = (await client.get(f"/api/v1/processes/{process.id}/timeline",
                                 headers=staff.headers)).json()
    held = [t for t in timeline if t["kind"] == "event_held"]
    assert len(held) == 1 and held[0]["phase_key"] == "kickoff"
    assert held[0]["data"]["attended"] == 3 and held[0]["data"]["registered"] == 3
    assert held[0]["data"]["minutes"] == "Ergebnisse: drei Themen"
