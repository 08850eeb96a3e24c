"""CouncilResolutionWorkflow on Temporal's time-skipping server, driven through the API with
the real activities (PostgreSQL, SMTP sink): every outcome, the clerk reminders on their
simulated days, rejection then a second version, deferral then adoption, and the process
completing on adoption and not before."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select

from services.models.process import ProcessNotification
from services.models.resolution import ResolutionFile, ResolutionVersion
from tests.support.process_harness import BERLIN, local_day
from tests.support.resolutions import council, poll, submitted

# The whole chain through the API, with PDFs rendered for every version: the four slowest tests
# of the suite, so they run in `make test`, not in the fast lane, which has the workflow's
# logic with its activities mocked (tests/workflows/test_resolution_logic.py).
pytestmark = pytest.mark.slow


@pytest.fixture
async def api(papp) -> AsyncIterator[AsyncClient]:  # type: ignore[no-untyped-def]
    async with AsyncClient(transport=ASGITransport(app=papp), base_url="http://testserver") as c:
        yield c


async def clerk_notices(maker, process_id: str) -> list[ProcessNotification]:  # type: ignore[no-untyped-def]
    async with maker() as s:
        rows = await s.scalars(select(ProcessNotification).where(
            ProcessNotification.process_id == uuid.UUID(process_id),
            ProcessNotification.kind.like("resolution_%")).order_by(
                ProcessNotification.scheduled_for))
        return list(rows.all())


async def today(env) -> date:  # type: ignore[no-untyped-def]
    return (await env.get_current_time()).astimezone(BERLIN).date()


async def sleep_until(env, day: date, at: time) -> None:  # type: ignore[no-untyped-def]
    now = await env.get_current_time()
    await env.sleep(datetime.combine(day, at, tzinfo=BERLIN) - now)


async def step(api, c, rid: str, action: str, **body):  # type: ignore[no-untyped-def]
    r = await api.post(f"/api/v1/resolutions/{rid}/{action}", headers=c.clerk.headers,
                       json=body or None)
    assert r.status_code == 200, r.text
    return r.json()


async def process_status(api, c) -> str:  # type: ignore[no-untyped-def]
    return (await api.get(c.base, headers=c.coord)).json()["status"]  # type: ignore[no-any-return]


async def test_reminders_on_their_days_deferral_then_adoption(  # type: ignore[no-untyped-def]
        api, worker, time_skipping_env, committed_maker, make_committed_staff, smtp_sink):
    env = time_skipping_env
    c = await council(api, make_committed_staff)
    rid = await submitted(api, c)
    day0 = await today(env)
    await poll_notices(committed_maker, c.process_id, 1)  # the submission mail
    # No acknowledgement: the reminder comes after five days (the configured default), once.
    await env.sleep(timedelta(days=4, hours=23))
    assert [n.kind for n in await clerk_notices(committed_maker, c.process_id)] == [
        "resolution_submitted"]
    await env.sleep(timedelta(hours=2))
    notes = await poll_notices(committed_maker, c.process_id, 2)
    assert notes[1].kind == "resolution_ack_reminder"
    assert local_day(notes[1].scheduled_for) == day0 + timedelta(days=5)
    assert notes[1].recipient == c.clerk.email
    await env.sleep(timedelta(days=10))
    assert len(await clerk_notices(committed_maker, c.process_id)) == 2

    await step(api, c, rid, "received")
    meeting = await today(env) + timedelta(days=7)
    await step(api, c, rid, "scheduled", body="Stadtverordnetenversammlung",
               meeting_date=meeting.isoformat())
    # The meeting passes without an outcome: a reminder the day after, at 09:00, not before.
    await sleep_until(env, meeting + timedelta(days=1), time(8, 30))
    assert len(await clerk_notices(committed_maker, c.process_id)) == 2
    await env.sleep(timedelta(hours=1))
    notes = await poll_notices(committed_maker, c.process_id, 3)
    assert notes[2].kind == "resolution_outcome_reminder"
    assert notes[2].scheduled_for.astimezone(BERLIN) == datetime.combine(
        meeting + timedelta(days=1), time(9), tzinfo=BERLIN)
    assert await process_status(api, c) == "running"

    # Deferred to a new date: the process still runs; the new date re-arms the reminder.
    new_date = meeting + timedelta(days=21)
    out = await step(api, c, rid, "outcome", outcome="deferred",
                     decided_on=meeting.isoformat(), meeting_date=new_date.isoformat(),
                     note="Beratungsbedarf")
    assert out["status"] == "deferred" and out["meeting_date"] == new_date.isoformat()
    await sleep_until(env, new_date + timedelta(days=1), time(9, 30))
    notes = await poll_notices(committed_maker, c.process_id, 4)
    assert local_day(notes[3].scheduled_for) == new_date + timedelta(days=1)
    assert await process_status(api, c) == "running"

    out = await step(api, c, rid, "outcome", outcome="adopted", decided_on=new_date.isoformat(),
                     minutes_ref="SVV 2027/14")
    assert out["status"] == "adopted"
    process = await poll(api, c.base, c.coord, lambda b: b["status"] == "completed")
    assert process["current_phase"] is None
    # Decided: no further reminders, whatever time passes.
    await env.sleep(timedelta(days=30))
    assert len(await clerk_notices(committed_maker, c.process_id)) == 4


async def poll_notices(maker, process_id: str, n: int) -> list[ProcessNotification]:  # type: ignore[no-untyped-def]
    import asyncio

    for _ in range(200):
        rows = await clerk_notices(maker, process_id)
        if len(rows) >= n and all(r.status == "sent" for r in rows):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError([(r.kind, r.status) for r in await clerk_notices(maker, process_id)])


async def test_rejection_then_second_version_adopted(  # type: ignore[no-untyped-def]
        api, worker, make_committed_staff):
    c = await council(api, make_committed_staff)
    rid1 = await submitted(api, c)
    await step(api, c, rid1, "received")
    await step(api, c, rid1, "scheduled", body="Stadtverordnetenversammlung",
               meeting_date="2027-12-02")
    out = await step(api, c, rid1, "outcome", outcome="rejected", decided_on="2027-12-02",
                     note="Finanzierung ungeklärt")
    assert out["status"] == "rejected"
    body = await poll(api, f"{c.base}/resolution", c.coord,
                      lambda b: b["draft"]["status"] == "drafting")
    # Back to drafting with the reasons; the process stays in its last phase.
    assert body["draft"]["rejection"]["reasons"] == "Finanzierung ungeklärt"
    process = (await api.get(c.base, headers=c.coord)).json()
    assert process["status"] == "running" and process["current_phase"] == "beschluss"
    # Version 1 is no longer submittable; a second version goes the same way.
    rid2 = await submitted(api, c, finanzielle_auswirkungen="50.000 € im Haushalt 2028.")
    assert rid2 != rid1
    versions = (await api.get(f"{c.base}/resolution", headers=c.coord)).json()["versions"]
    assert [(v["number"], v["status"]) for v in versions] == [(1, "rejected"), (2, "submitted")]
    await step(api, c, rid2, "received")
    await step(api, c, rid2, "scheduled", body="Stadtverordnetenversammlung",
               meeting_date="2028-01-20")
    assert (await api.get(c.base, headers=c.coord)).json()["status"] == "running"
    await step(api, c, rid2, "outcome", outcome="adopted", decided_on="2028-01-20")
    await poll(api, c.base, c.coord, lambda b: b["status"] == "completed")
    # The earlier version stays readable.
    r = await api.get(f"{c.base}/resolution/drafts/1.pdf", headers=c.coord)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


async def test_amended_creates_final_version_and_completes(  # type: ignore[no-untyped-def]
        api, worker, committed_maker, make_committed_staff):
    c = await council(api, make_committed_staff)
    rid = await submitted(api, c)
    await step(api, c, rid, "received")
    await step(api, c, rid, "scheduled", body="Stadtverordnetenversammlung",
               meeting_date="2027-12-02")
    wording = "1. Die Strategie wird mit Änderungen beschlossen.\n2. Bericht alle zwei Jahre."
    out = await step(api, c, rid, "outcome", outcome="amended", decided_on="2027-12-02",
                     amendments=wording, minutes_ref="SVV 2027/12")
    assert out["status"] == "amended" and out["amendments"] == wording
    await poll(api, c.base, c.coord, lambda b: b["status"] == "completed")
    versions = (await api.get(f"{c.base}/resolution", headers=c.coord)).json()["versions"]
    assert [(v["number"], v["kind"], v["status"]) for v in versions] == [
        (1, "draft", "amended"), (2, "final", "amended")]
    async with committed_maker() as s:
        final = (await s.scalars(select(ResolutionVersion).where(
            ResolutionVersion.id == uuid.UUID(versions[1]["id"])))).one()
        assert final.based_on == uuid.UUID(rid) and final.content["amendments"] == wording
        files = (await s.scalars(select(ResolutionFile).where(
            ResolutionFile.version_id == final.id))).all()
        assert {f.kind for f in files} == {"pdf", "docx", "report"}
    r = await api.get(f"{c.base}/resolution/drafts/2.pdf", headers=c.coord)
    assert r.status_code == 200


async def test_edit_after_approval_needs_new_approval(api, worker, make_committed_staff):  # type: ignore[no-untyped-def]
    from tests.support.resolutions import approved_version, draft_body

    c = await council(api, make_committed_staff)
    await approved_version(api, c)
    body = (await api.get(f"{c.base}/resolution", headers=c.coord)).json()
    assert body["can_submit"], body["submit_blockers"]
    r = await api.put(f"{c.base}/resolution/draft", headers=c.coord,
                      json=draft_body(federfuehrung="Integrationsbüro"))
    assert r.status_code == 200
    body = (await api.get(f"{c.base}/resolution", headers=c.coord)).json()
    assert not body["can_submit"] and body["versions"][0]["draft_changed"]
    r = await api.post(f"{c.base}/resolution/submit", headers=c.coord)
    assert r.status_code == 409 and r.json()["error"]["code"] == "cannot_submit"
    # The changed draft cannot be approved as version 1 either: a new version is needed.
    r = await api.post(f"{c.base}/resolution/drafts/1/approval", headers=c.coord)
    assert r.status_code == 409
    await approved_version(api, c, federfuehrung="Integrationsbüro")
    r = await api.post(f"{c.base}/resolution/submit", headers=c.coord)
    assert r.status_code == 200 and r.json()["number"] == 2
