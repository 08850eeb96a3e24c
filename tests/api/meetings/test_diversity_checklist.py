"""The kick-off's self-descriptions answer its phase's checklist item "Teilnahme von Akteuren
unterschiedlicher Gruppen, unterschiedlichen Alters, verschiedener Geschlechter und
Nationalitäten": marked held with varied self-descriptions, the item is ticked through the
process workflow's checklist update (time-skipping Temporal, real PostgreSQL); not met, it
stays open. The coordinator's event page says which."""

from __future__ import annotations

import asyncio
from datetime import date

from httpx import ASGITransport, AsyncClient
from sqlalchemy import select

from api.app import create_app
from api.deps import SESSION_COOKIE
from services.meetings import service
from services.meetings.schemas import RegistrationIn, SelfDescription
from services.models.campaign import Campaign
from services.models.process import ChecklistItem
from tests.support.forms import form_token
from tests.support.meetings import Setup, make_links
from tests.support.process_harness import make_org, process_worker, start

WEITERSTADT = "weiterstadt-vielfaltsstrategie"
VARIED = [("unter_18", "weiblich", "deutsch", "jugend"), ("27_44", "maennlich", "eu", "verein"),
          ("65_plus", "divers", "nicht_eu", "buerger"), ("45_64", "weiblich", "deutsch", "buerger"),
          ("18_26", "maennlich", "nicht_eu", "jugend")]


async def _kickoff(maker, org, pid) -> Setup:  # type: ignore[no-untyped-def]
    async with maker() as s:
        [kickoff] = [m for m in await service.meetings_of_process(s, pid)
                     if m.phase_key == "kick-off"]
        campaign = Campaign(organisation_id=org.org_id, process_id=pid, kind="event",
                            target_id=kickoff.id, title=kickoff.title, audience={},
                            reminders=[], deadline=kickoff.starts_at, status="running")
        s.add(campaign)
        await s.commit()
        return Setup(org.org_id, pid, kickoff.id, campaign.id)


async def _register(maker, setup, answers) -> None:  # type: ignore[no-untyped-def]
    for token, (age, gender, origin, group) in zip(
            await make_links(maker, setup, len(answers)), answers, strict=True):
        async with maker() as s:
            await service.register_by_token(s, token, RegistrationIn(
                attending=True, self_description=SelfDescription(
                    age_band=age, gender=gender, origin=origin, origin_consent=True,
                    group=group)))
            await s.commit()


async def _item(maker, pid) -> ChecklistItem:  # type: ignore[no-untyped-def]
    async with maker() as s:
        return (await s.scalars(select(ChecklistItem).where(
            ChecklistItem.process_id == pid, ChecklistItem.key == "vielfalt-teilnahme"))).one()


async def test_held_with_varied_participants_ticks_the_diversity_item(  # type: ignore[no-untyped-def]
        settings, committed_maker, time_skipping_env, smtp_sink, make_committed_staff):
    env = time_skipping_env
    org = await make_org(make_committed_staff, steering=1)
    app = create_app(settings, sessionmaker=committed_maker)
    app.state.temporal.client = env.client
    h = org.coordinator.headers
    async with process_worker(env.client, smtp_sink.port) as queue:
        met_pid, _ = await start(committed_maker, env.client, org, WEITERSTADT,
                                 date(2027, 2, 1), queue)
        unmet_pid, _ = await start(committed_maker, env.client, org, WEITERSTADT,
                                   date(2027, 2, 1), queue)
        met = await _kickoff(committed_maker, org, met_pid)
        unmet = await _kickoff(committed_maker, org, unmet_pid)
        await _register(committed_maker, met, VARIED)
        # Five people, but all of one gender: not met.
        await _register(committed_maker, unmet, [(a, "weiblich", o, g) for a, _, o, g in VARIED])

        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver",
                               cookies={SESSION_COOKIE: org.coordinator.token}) as web:
            for s in (met, unmet):
                r = await web.get(f"/api/v1/events/{s.meeting_id}/diversity", headers=h)
                assert r.json()["checklist_met"] is (s is met)
                page = await web.get(f"/app/events/{s.meeting_id}")
                assert "In der Checkliste der Phase: <strong>noch nicht abgehakt" in page.text
                assert ("Jetzt in der Checkliste abhaken" in page.text) is (s is met)
            # The met one is closed on its page, the other through the API.
            url = f"/app/events/{met.meeting_id}"
            r = await web.post(url, data={"csrf_token": await form_token(web, url),
                                          "aktion": "stattgefunden", "minutes": "Protokoll"})
            assert r.status_code == 303, r.text
            r = await web.patch(f"/api/v1/events/{unmet.meeting_id}", headers=h,
                                json={"status": "held"})
            assert r.status_code == 200, r.text

            loop = asyncio.get_running_loop()
            end = loop.time() + 15
            while not (await _item(committed_maker, met_pid)).done:
                assert loop.time() < end, "the diversity item was not ticked"
                await asyncio.sleep(0.1)
            item = await _item(committed_maker, met_pid)
            assert (item.phase_key, item.done_by) == ("kick-off", org.coordinator.email)
            assert not (await _item(committed_maker, unmet_pid)).done
            # The process's timeline has the tick as the coordinator's checklist step.
            r = await web.get(f"/api/v1/processes/{met_pid}/timeline", headers=h)
            assert any(t["kind"] == "checklist" and t["actor"] == org.coordinator.email
                       for t in r.json())
            page = await web.get(url)
            assert "In der Checkliste der Phase: <strong>abgehakt" in page.text
            page = await web.get(f"/app/events/{unmet.meeting_id}")
            assert "<strong>noch nicht erfüllt" in page.text
            assert "In der Checkliste der Phase: <strong>noch nicht abgehakt" in page.text
