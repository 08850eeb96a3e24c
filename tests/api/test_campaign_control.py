"""Steering a running campaign through the API and the coordinator's page (real PostgreSQL,
the time-skipping Temporal server with the real workers, an SMTP sink): the deadline
validator's refusal is a 422 with its German message in JSON and on the page, an accepted
move changes the deadline, cancel (after a confirmation page) stops the campaign; the page
has no refresh header but a plain "Aktualisieren" link and the progress script; the SSE
progress stream yields progress, ends with the campaign, and is scoped to the organisation;
the new-campaign page takes reminders in days."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import update

from api.app import create_app
from api.deps import SESSION_COOKIE
from composition.worker import build_workers
from infra import mail as infra_mail
from infra.mail import MailTransport
from services.models.campaign import Campaign, Invitation
from services.models.organisation import Role
from services.models.process import Process
from tests.api.test_campaigns_api import _invitation, _process
from tests.support.campaigns import add_stakeholders, campaign_row, wait_for
from tests.support.forms import token_in
from tests.support.live_server import live_server as serve_live
from tests.support.surveys import make_survey


def _web(app, staff) -> AsyncClient:  # type: ignore[no-untyped-def]
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver",
                       cookies={SESSION_COOKIE: staff.token})


async def _survey_process(maker, org_id) -> tuple[uuid.UUID, uuid.UUID]:  # type: ignore[no-untyped-def]
    async with maker() as s:
        process_id = await _process(s, org_id)
        survey = await make_survey(s, await s.get_one(Process, process_id),
                                   from_template="weiterstadt-bedarfe-und-wuensche")
        await s.commit()
        return process_id, survey.id


async def test_deadline_and_cancel_through_api_and_page(  # type: ignore[no-untyped-def]
        papp, time_skipping_env, committed_maker, make_committed_staff, smtp_sink):
    env = time_skipping_env
    infra_mail.configure(MailTransport(smtp_sink.host, smtp_sink.port))
    staff = await make_committed_staff(role=Role.coordinator)
    steering = await make_committed_staff(role=Role.steering, org_slug=staff.org_slug)
    process_id, survey_id = await _survey_process(committed_maker, staff.org_id)
    await add_stakeholders(committed_maker, staff.org_id, [
        {"name": f"P{i}", "email": f"cc{i}-{staff.org_id.hex[:6]}@example.org",
         "group_key": "politik"} for i in range(3)])
    workers = build_workers(env.client)
    async with workers[0], workers[1], _web(papp, staff) as web:
        now = await env.get_current_time()
        body = {"kind": "survey", "target_id": str(survey_id), "reminders": ["P7D", "P14D"],
                "deadline": (now + timedelta(days=21)).isoformat()}
        r = await web.post(f"/api/v1/processes/{process_id}/campaigns", json=body,
                           headers=staff.headers)
        assert r.status_code == 201, r.text
        cid = r.json()["id"]

        async def invited() -> bool:
            r = await web.get(f"/api/v1/campaigns/{cid}", headers=staff.headers)
            return bool(r.json()["sent"] == 3)

        await wait_for(invited)

        # The workflow's validator refuses a past deadline: 422 naming the field, in German.
        r = await web.post(f"/api/v1/campaigns/{cid}/deadline", headers=staff.headers,
                           json={"deadline": (now - timedelta(days=1)).isoformat()})
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert error["code"] == "deadline_refused"
        assert "Vergangenheit" in error["message"]
        assert error["details"][0]["field"] == "deadline"
        # Not a date at all: the API's own 422.
        r = await web.post(f"/api/v1/campaigns/{cid}/deadline", headers=staff.headers,
                           json={"deadline": "bald"})
        assert r.status_code == 422
        # Steering members read campaigns but do not steer them.
        r = await web.post(f"/api/v1/campaigns/{cid}/deadline", headers=steering.headers,
                           json={"deadline": (now + timedelta(days=9)).isoformat()})
        assert r.status_code == 403

        moved = now + timedelta(days=10)
        r = await web.post(f"/api/v1/campaigns/{cid}/deadline", headers=staff.headers,
                           json={"deadline": moved.isoformat()})
        assert r.status_code == 200, r.text
        assert datetime.fromisoformat(r.json()["deadline"]) == moved
        assert (await campaign_row(committed_maker, uuid.UUID(cid))).deadline == moved

        # The page: no refresh header or meta, a plain link, the progress script.
        page = await web.get(f"/app/campaigns/{cid}")
        assert page.status_code == 200
        assert "refresh" not in page.headers and 'http-equiv="refresh"' not in page.text
        assert f'<a href="/app/campaigns/{cid}">Aktualisieren</a>' in page.text
        assert f'data-progress-url="/api/v1/campaigns/{cid}/progress"' in page.text
        assert '<script src="/static/campaign-progress.js"' in page.text
        assert "nach 7 Tagen, nach 14 Tagen" in page.text
        assert 'aria-label="Brotkrumen"' in page.text
        assert f'href="/app/processes/{process_id}"' in page.text
        csrf = token_in(page.text)

        # The page's deadline form: the validator's message on the page, with a 422.
        yesterday = (now - timedelta(days=1)).date().isoformat()
        r = await web.post(f"/app/campaigns/{cid}/deadline",
                           data={"csrf_token": csrf, "deadline": yesterday})
        assert r.status_code == 422 and 'class="error-summary"' in r.text
        assert "Die neue Frist liegt in der Vergangenheit" in r.text
        assert f'value="{yesterday}"' in r.text
        r = await web.post(f"/app/campaigns/{cid}/deadline",
                           data={"csrf_token": csrf,
                                 "deadline": (now + timedelta(days=12)).date().isoformat()})
        assert r.status_code == 303 and r.headers["location"].endswith("ok=deadline")

        # Cancel: a confirmation page first, then the POST.
        confirm = await web.get(f"/app/campaigns/{cid}/cancel")
        assert confirm.status_code == 200 and "Ja, Kampagne abbrechen" in confirm.text
        r = await web.post(f"/app/campaigns/{cid}/cancel",
                           data={"csrf_token": token_in(confirm.text)})
        assert r.status_code == 303, r.text
        page = await web.get(r.headers["location"])
        assert "Die Kampagne wurde abgebrochen" in page.text
        assert '<strong class="status" data-field="status_label">abgebrochen</strong>' in page.text
        assert "Aktualisieren" not in page.text and "campaign-progress.js" not in page.text
        assert "Frist verschieben" not in page.text

        # Ended: both updates are a 409 now, and the page says so too.
        r = await web.post(f"/api/v1/campaigns/{cid}/cancel", headers=staff.headers)
        assert r.status_code == 409 and r.json()["error"]["code"] == "campaign_not_running"
        r = await web.post(f"/app/campaigns/{cid}/cancel", data={"csrf_token": csrf})
        assert r.status_code == 409 and "läuft nicht mehr" in r.text

        await env.client.get_workflow_handle(f"campaign-{cid}").result()
    assert (await campaign_row(committed_maker, uuid.UUID(cid))).status == "cancelled"
    # Invitations only; the reminders (day 7) never went out.
    assert len(smtp_sink.messages) == 3


async def test_new_campaign_page_takes_reminders_in_days(  # type: ignore[no-untyped-def]
        app, client, session, make_staff, dev_server_env):
    from tests.support.campaigns import audience_of_one

    staff = await make_staff(role=Role.coordinator)
    process_id = await _process(session, staff.org_id)
    survey = await make_survey(session, await session.get_one(Process, process_id),
                               from_template="weiterstadt-bedarfe-und-wuensche")
    await audience_of_one(session, staff.org_id)
    await session.commit()
    client.cookies.set(SESSION_COOKIE, staff.token)
    url = f"/app/processes/{process_id}/campaigns/new"
    page = await client.get(url)
    assert 'name="reminder_days" value="7" checked' in page.text
    assert 'type="number"' in page.text and "P7D" not in page.text
    deadline = (datetime.now(UTC) + timedelta(days=40)).date().isoformat()
    form = {"survey": str(survey.id), "groups": "politik", "deadline": deadline,
            "reminder_days": ["14", "7"], "reminder_other": "30", "step": "send",
            "counted": "1", "csrf_token": token_in(page.text)}
    r = await client.post(url, data=dict(form, reminder_other="0"))
    assert r.status_code == 422 and "ganzen Tagen zwischen 1 und 365" in r.text
    app.state.temporal.client = dev_server_env.client
    try:
        r = await client.post(url, data=form)
        assert r.status_code == 303, r.text
        campaign_id = uuid.UUID(r.headers["location"].rsplit("/", 1)[1])
        await dev_server_env.client.get_workflow_handle(
            f"campaign-{campaign_id}").terminate("test done")
    finally:
        app.state.temporal.client = None
    campaign = await session.get_one(Campaign, campaign_id)
    assert campaign.reminders == ["P7D", "P14D", "P30D"]
    # 23:59 on the chosen day in the organisation's zone (never "21:59 UTC" on the page).
    local = campaign.deadline.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.date().isoformat(), local.hour, local.minute) == (deadline, 23, 59)


@pytest.fixture
async def live(settings, committed_maker) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    app = create_app(settings, sessionmaker=committed_maker)
    async with serve_live(app, start_timeout=5) as base:
        yield base


async def _events(response: httpx.Response) -> AsyncIterator[tuple[str, dict]]:
    event = ""
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            yield event, json.loads(line[6:])


async def test_progress_stream_follows_the_campaign_and_ends(  # type: ignore[no-untyped-def]
        live, committed_maker, make_committed_staff):
    staff = await make_committed_staff(role=Role.coordinator)
    other = await make_committed_staff(role=Role.coordinator)
    async with committed_maker() as s:
        _, invitation, _, campaign = await _invitation(s, staff.org_id)
        await s.execute(update(Invitation).where(Invitation.id == invitation.id)
                        .values(status="pending", sent_at=None))
        await s.commit()
    url = f"{live}/api/v1/campaigns/{campaign.id}/progress"
    async with httpx.AsyncClient(timeout=20) as http:
        # Another organisation's campaign is not found; without a login, 401.
        r = await http.get(url, headers=other.headers)
        assert r.status_code == 404
        assert (await http.get(url)).status_code == 401

        async with http.stream("GET", url, headers=staff.headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            seen: list[tuple[str, dict]] = []

            async def follow() -> None:
                async for item in _events(response):
                    seen.append(item)

            reader = asyncio.create_task(follow())

            async def saw(n: int) -> bool:
                return len(seen) >= n

            await wait_for(lambda: saw(1), timeout=10)
            assert seen[0][0] == "progress" and seen[0][1]["sent"] == 0
            assert seen[0][1]["pending"] == 1
            async with committed_maker() as s:
                await s.execute(update(Invitation).where(Invitation.id == invitation.id)
                                .values(status="sent", sent_at=datetime.now(UTC)))
                await s.commit()
            await wait_for(lambda: saw(2), timeout=10)
            assert seen[1][0] == "progress" and seen[1][1]["sent"] == 1
            async with committed_maker() as s:
                await s.execute(update(Campaign).where(Campaign.id == campaign.id)
                                .values(status="closed", closed_at=datetime.now(UTC)))
                await s.commit()
            # The stream ends by itself once the campaign is done.
            await asyncio.wait_for(reader, timeout=10)
    assert [e for e, _ in seen][-2:] == ["progress", "done"]
    assert seen[-1][1] == {"status": "closed"}
