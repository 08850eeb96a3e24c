"""The domain event feed: order, `after` paging, organisation scoping, and the SSE stream
against a real uvicorn server."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest

from api.app import create_app
from services.events.service import record_event
from services.models.organisation import Role
from tests.support.live_server import live_server as serve_live


async def _record(maker, org_id, n: int, prefix: str) -> None:
    async with maker() as s:
        for i in range(n):
            await record_event(s, organisation_id=org_id, type=f"{prefix}.happened",
                               data={"i": i}, actor="test")
        await s.commit()


async def test_feed_is_ordered_paged_and_scoped(client, make_staff, rollback_maker):
    # "x.happened" is in no audience: admins only (services/events/audience.py).
    a = await make_staff(role=Role.admin)
    b = await make_staff(role=Role.admin)
    # Interleave the two organisations' events so scoping and paging are both exercised.
    for _ in range(3):
        await _record(rollback_maker, a.org_id, 2, "a")
        await _record(rollback_maker, b.org_id, 1, "b")

    r = await client.get("/api/v1/events?after=0&limit=1000", headers=a.headers)
    assert r.status_code == 200
    events = r.json()["events"]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    ours = [e for e in events if e["type"] == "a.happened"]
    assert len(ours) == 6 and [e["data"]["i"] for e in ours] == [0, 1] * 3
    assert not any(e["type"].startswith("b.") for e in events)
    assert {e["actor"] for e in ours} == {"test"}
    assert set(events[0]) == {"seq", "type", "process_id", "occurred_at", "actor", "data"}

    # Paging with `after`: three pages of two, nothing lost, nothing repeated.
    paged, after = [], 0
    for _ in range(10):
        page = (await client.get(f"/api/v1/events?after={after}&limit=2",
                                 headers=a.headers)).json()
        if not page["events"]:
            assert page["next_after"] == after
            break
        assert len(page["events"]) <= 2
        paged += page["events"]
        after = page["next_after"]
    assert [e["seq"] for e in paged] == seqs
    last = (await client.get(f"/api/v1/events?after={seqs[-1]}", headers=a.headers)).json()
    assert last == {"events": [], "next_after": seqs[-1]}

    # And b sees only b's own events (the membership grant included).
    rb = (await client.get("/api/v1/events?limit=1000", headers=b.headers)).json()["events"]
    assert [e["type"] for e in rb if e["type"].endswith(".happened")] == ["b.happened"] * 3
    assert not {e["seq"] for e in rb} & set(seqs)


async def test_feed_needs_a_login(client):
    r = await client.get("/api/v1/events")
    assert r.status_code == 401


@pytest.fixture
async def live_server(settings, committed_maker):
    """The app on a real uvicorn server (streaming over real sockets), committed data."""
    app = create_app(settings, sessionmaker=committed_maker)
    async with serve_live(app, start_timeout=5) as base:
        yield base


async def _next_event(lines) -> dict:
    event: dict = {}
    async for line in lines:
        if line == "":
            if "data" in event:
                return event
            event = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            event[key] = value
    raise AssertionError("stream ended")


async def test_sse_delivers_a_new_event_of_the_own_organisation_only(
        live_server, make_committed_staff, committed_maker):
    a = await make_committed_staff(role=Role.admin)
    b = await make_committed_staff(role=Role.admin)
    await _record(committed_maker, a.org_id, 1, "vorher")  # before connecting: not replayed
    marker = uuid.uuid4().hex
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as http:
        async with http.stream("GET", "/api/v1/events/stream", headers=a.headers) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            lines = resp.aiter_lines()
            assert await asyncio.wait_for(anext(lines), 5) == ": connected"
            # Written by another session after the client connected.
            async with committed_maker() as s:
                await record_event(s, organisation_id=b.org_id, type="fremd.happened",
                                   data={"marker": marker})
                await record_event(s, organisation_id=a.org_id, type="neu.happened",
                                   data={"marker": marker}, actor="jemand")
                await s.commit()
            event = await asyncio.wait_for(_next_event(lines), 10)
    assert event["event"] == "neu.happened"
    data = json.loads(event["data"])
    assert data["data"] == {"marker": marker} and data["actor"] == "jemand"
    assert event["id"] == str(data["seq"])


async def test_sse_resumes_after_last_event_id(live_server, make_committed_staff,
                                               committed_maker):
    a = await make_committed_staff(role=Role.admin)
    await _record(committed_maker, a.org_id, 3, "alt")
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as http:
        feed = (await http.get("/api/v1/events?limit=1000", headers=a.headers)).json()["events"]
        alt = [e for e in feed if e["type"] == "alt.happened"]
        headers = {**a.headers, "Last-Event-ID": str(alt[0]["seq"])}
        async with http.stream("GET", "/api/v1/events/stream", headers=headers) as resp:
            lines = resp.aiter_lines()
            got = [await asyncio.wait_for(_next_event(lines), 10) for _ in range(2)]
    assert [int(e["id"]) for e in got] == [alt[1]["seq"], alt[2]["seq"]]


async def test_feed_rejects_a_cursor_beyond_bigint_with_422(client, make_staff):
    # Found by fuzzing: `after` larger than a PostgreSQL bigint was a 500 from the driver.
    a = await make_staff(role=Role.coordinator)
    for path in ("/api/v1/events?after=4472683034646879928320",
                 "/api/v1/events/stream?after=9223372036854775808"):
        r = await client.get(path, headers=a.headers)
        assert r.status_code == 422, path
        assert r.json()["error"]["code"] == "validation_error"
    r = await client.get("/api/v1/events?after=9223372036854775807", headers=a.headers)
    assert r.status_code == 200 and r.json()["events"] == []


@pytest.mark.parametrize("last_event_id", [b"\xb9", b"99999999999999999999"])
async def test_sse_ignores_a_last_event_id_that_is_no_seq(
        live_server, make_committed_staff, committed_maker, last_event_id):
    # "¹".isdigit() is true but int("¹") fails (was a 500); a seq beyond bigint broke the stream.
    a = await make_committed_staff(role=Role.admin)
    marker = uuid.uuid4().hex
    headers = {**a.headers, "Last-Event-ID": last_event_id}
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as http:
        async with http.stream("GET", "/api/v1/events/stream", headers=headers) as resp:
            assert resp.status_code == 200
            lines = resp.aiter_lines()
            assert await asyncio.wait_for(anext(lines), 5) == ": connected"
            async with committed_maker() as s:
                await record_event(s, organisation_id=a.org_id, type="neu.happened",
                                   data={"marker": marker})
                await s.commit()
            event = await asyncio.wait_for(_next_event(lines), 10)
    assert json.loads(event["data"])["data"] == {"marker": marker}


# --- audiences (issue 8): each event type to the roles that need it ---------------------------

COMMENT = "Die Kosten sind zu hoch, siehe Gespräch mit Frau K."


async def _approval_story(maker, org_id, voter: str) -> None:
    """The events a gate decision leaves, in the shapes services/processes writes them."""
    approval = str(uuid.uuid4())
    async with maker() as s:
        await record_event(s, organisation_id=org_id, type="approval.vote", actor=voter,
                           data={"approval_id": approval, "decision": "reject",
                                 "comment": COMMENT})
        await record_event(s, organisation_id=org_id, type="approval.rejected",
                           data={"approval_id": approval, "phase": "kickoff",
                                 "reasons": [f"{voter}: {COMMENT}"]})
        await record_event(s, organisation_id=org_id, type="process.approval_decided",
                           actor="Steuerungsgruppe",
                           data={"phase": "kickoff", "reason": f"{voter}: {COMMENT}"})
        await record_event(s, organisation_id=org_id, type="campaign.created", actor=voter,
                           data={"campaign_id": str(uuid.uuid4()), "kind": "survey"})
        await record_event(s, organisation_id=org_id, type="process.completed",
                           actor=voter, data={"phase": None, "reason": None})
        await s.commit()


async def _feed(client, who) -> list[dict]:
    r = await client.get("/api/v1/events?after=0&limit=1000", headers=who.headers)
    assert r.status_code == 200
    return r.json()["events"]


async def test_each_role_sees_the_events_and_fields_it_needs(client, make_staff,
                                                             rollback_maker):
    coordinator = await make_staff(role=Role.coordinator)
    slug = coordinator.org_slug
    steering = await make_staff(role=Role.steering, org_slug=slug)
    clerk = await make_staff(role=Role.clerk, org_slug=slug)
    admin = await make_staff(role=Role.admin, org_slug=slug)
    await _approval_story(rollback_maker, coordinator.org_id, steering.email)

    # The clerk: no vote, no comment, no member's address (membership grants of four members
    # are in this organisation's log too), only the organisation and the process's end.
    seen = await _feed(client, clerk)
    text = json.dumps(seen)
    assert [e["type"] for e in seen] == ["organisation.created", "process.completed"]
    assert COMMENT not in text and "@" not in text
    assert seen[1]["actor"] is None and "reason" not in seen[1]["data"]

    # The coordinator: the vote with its comment and the campaign, but no addresses.
    seen = await _feed(client, coordinator)
    types = [e["type"] for e in seen]
    assert {"approval.vote", "approval.rejected", "process.approval_decided",
            "campaign.created", "process.completed"} <= set(types)
    assert "membership.granted" not in types
    vote = next(e for e in seen if e["type"] == "approval.vote")
    assert vote["data"]["comment"] == COMMENT and vote["data"]["decision"] == "reject"
    rejected = next(e for e in seen if e["type"] == "approval.rejected")
    assert rejected["data"]["reasons"] == [f"[E-Mail-Adresse]: {COMMENT}"]
    assert "@" not in json.dumps(seen)

    # The steering member: the vote and the gate, not the campaign (the coordinator's domain).
    seen = await _feed(client, steering)
    types = [e["type"] for e in seen]
    assert "approval.vote" in types and "campaign.created" not in types
    assert "@" not in json.dumps(seen)

    # The admin: everything, addresses included.
    seen = await _feed(client, admin)
    types = [e["type"] for e in seen]
    assert "membership.granted" in types
    assert next(e for e in seen if e["type"] == "approval.vote")["actor"] == steering.email


async def test_the_stream_applies_the_same_audiences(live_server, make_committed_staff,
                                                     committed_maker):
    clerk = await make_committed_staff(role=Role.clerk)
    voter = "steuerung@example.org"
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as http:
        async with http.stream("GET", "/api/v1/events/stream", headers=clerk.headers) as resp:
            lines = resp.aiter_lines()
            assert await asyncio.wait_for(anext(lines), 5) == ": connected"
            await _approval_story(committed_maker, clerk.org_id, voter)
            event = await asyncio.wait_for(_next_event(lines), 10)
    # The vote, the rejection and the campaign came first, but the clerk gets the end only.
    assert event["event"] == "process.completed"
    assert COMMENT not in event["data"] and "@" not in event["data"]
