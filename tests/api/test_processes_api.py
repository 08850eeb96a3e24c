"""The template, process, phase, approval and timeline endpoints, and every error path, against
real PostgreSQL (committed) and a real Temporal server with the process worker running."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient

from api.app import create_app
from services.models.organisation import Role
from tests.support.process_harness import make_org

WEITERSTADT = "weiterstadt-vielfaltsstrategie"


@pytest.fixture
async def api(papp) -> AsyncIterator[AsyncClient]:  # type: ignore[no-untyped-def]
    async with AsyncClient(transport=ASGITransport(app=papp), base_url="http://testserver") as c:
        yield c


def error_code(response) -> str:  # type: ignore[no-untyped-def]
    return response.json()["error"]["code"]


async def start_process(api: AsyncClient, org, template: str = WEITERSTADT) -> dict:  # type: ignore[no-untyped-def]
    r = await api.post(f"/api/v1/orgs/{org.slug}/processes", headers=org.coordinator.headers,
                       json={"template": template, "title": "Weiterstadt WIRkt!",
                             "starts_on": "2027-02-01"})
    assert r.status_code == 201, r.text
    return r.json()


async def poll(api: AsyncClient, url: str, headers: dict, pred, timeout: float = 10):  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        body = (await api.get(url, headers=headers)).json()
        if pred(body):
            return body
        assert loop.time() < end, body
        await asyncio.sleep(0.05)


async def test_templates(api, make_committed_staff):  # type: ignore[no-untyped-def]
    staff = await make_committed_staff(role=Role.coordinator)
    assert (await api.get("/api/v1/templates")).status_code == 401
    r = await api.get("/api/v1/templates", headers=staff.headers)
    assert r.status_code == 200
    # Shipped ones (platform-shared templates other tests committed may be listed too).
    assert {t["key"] for t in r.json() if t["origin"] == "shipped"} == {
        WEITERSTADT, "weltoffene-kommune-selbstcheck", "bergkamen-for-all",
        "vielfaltsmanager-ausbildung", "vielfaltsbuendnis"}
    detail = (await api.get(f"/api/v1/templates/{WEITERSTADT}", headers=staff.headers)).json()
    assert [p["title"] for p in detail["phases"]][0].endswith("Planung")
    assert len(detail["stakeholder_groups"]) == 7
    assert [s["key"] for s in detail["draft_sections"]] == [
        "leitlinien", "buendnis-fuer-vielfalt", "vielfaltsmanagement"]
    r = await api.get("/api/v1/templates/gibt-es-nicht", headers=staff.headers)
    assert r.status_code == 404 and error_code(r) == "template_not_found"


async def test_bad_input_is_422_and_changes_nothing(api, worker, make_committed_staff):  # type: ignore[no-untyped-def]
    org = await make_org(make_committed_staff, steering=1)
    url = f"/api/v1/orgs/{org.slug}/processes"
    r = await api.post(url, headers=org.coordinator.headers,
                       json={"template": WEITERSTADT, "title": "x"})
    assert r.status_code == 422
    assert any(d["field"].endswith("starts_on") for d in r.json()["error"]["details"])
    r = await api.post(url, headers=org.coordinator.headers,
                       json={"template": "unbekannt", "title": "x", "starts_on": "2027-02-01"})
    assert r.status_code == 422 and error_code(r) == "unknown_template"
    r = await api.post(url, headers=org.coordinator.headers,
                       json={"template": WEITERSTADT, "title": "x", "starts_on": "31.02.2027"})
    assert r.status_code == 422
    for bad, field in [({"starts_on": "0695-02-01"}, "starts_on"),
                       ({"title": "Strategie\x07"}, "title"),
                       ({"title": "   "}, "title"),
                       ({"unbekannt": 1}, "unbekannt")]:
        body = {"template": WEITERSTADT, "title": "x", "starts_on": "2027-02-01", **bad}
        r = await api.post(url, headers=org.coordinator.headers, json=body)
        assert r.status_code == 422, (bad, r.text)
        assert any(d["field"].endswith(field) for d in r.json()["error"]["details"]), r.text
    assert (await api.get(url, headers=org.coordinator.headers)).json() == []
    # Steering members do not start processes.
    r = await api.post(url, headers=org.steering[0].headers,
                       json={"template": WEITERSTADT, "title": "x", "starts_on": "2027-02-01"})
    assert r.status_code == 403


async def test_walk_and_every_error_path(api, worker, make_committed_staff):  # type: ignore[no-untyped-def]
    org = await make_org(make_committed_staff)
    s1, s2, s3 = org.steering
    h = org.coordinator.headers
    process = await start_process(api, org)
    pid = process["id"]
    assert process["status"] == "running" and process["current_phase"] == "planung"
    assert [p["key"] for p in process["phases"]][:2] == ["planung", "kick-off"]
    assert process["phases"][0]["planned_end"] == "2027-03-31"
    assert process["phases"][6]["planned_start"] == "2027-11-01"
    assert process["phases"][6]["planned_end"] == "2027-12-31"
    assert len(process["phases"][0]["checklist"]) == 4
    base = f"/api/v1/processes/{pid}"

    # 409 with the rule that failed.
    r = await api.post(f"{base}/advance", headers=h, json={"expected_current": "kick-off"})
    assert r.status_code == 409 and error_code(r) == "phase_mismatch"
    assert r.json()["error"]["details"]["current_phase"] == "planung"
    r = await api.post(f"{base}/advance", headers=h, json={"expected_current": "planung"})
    assert r.status_code == 409 and error_code(r) == "checklist_open"
    assert "ausschreibung" in r.json()["error"]["details"]["open_items"]
    # 404 for what the process does not have; 422 for bad input.
    r = await api.post(f"{base}/phases/planung/checklist/nope", headers=h, json={"done": True})
    assert r.status_code == 404 and error_code(r) == "unknown_item"
    r = await api.post(f"{base}/phases/nope/skip", headers=h, json={"reason": "x"})
    assert r.status_code == 404 and error_code(r) == "unknown_phase"
    r = await api.post(f"{base}/phases/bergfest/reschedule", headers=h,
                       json={"planned_start": "2027-07-10", "planned_end": "2027-07-01"})
    assert r.status_code == 422 and error_code(r) == "invalid_window"
    r = await api.post(f"{base}/phases/bergfest/skip", headers=h, json={"reason": ""})
    assert r.status_code == 422
    r = await api.post(f"{base}/advance", headers=h, json={})
    assert r.status_code == 422

    r = await api.post(f"{base}/phases/planung/checklist/ausschreibung", headers=h,
                       json={"done": True})
    assert r.status_code == 200
    assert r.json()["phases"][0]["checklist"][0]["done"] is True
    assert r.json()["phases"][0]["checklist"][0]["done_by"] == org.coordinator.email
    r = await api.post(f"{base}/phases/bergfest/reschedule", headers=h,
                       json={"planned_start": "2027-06-15", "planned_end": "2027-07-20"})
    assert r.status_code == 200
    assert next(p for p in r.json()["phases"] if p["key"] == "bergfest")["planned_end"] == \
        "2027-07-20"

    # The gate: awaiting approval, then 409 until the steering group decided.
    r = await api.post(f"{base}/advance", headers=h,
                       json={"expected_current": "planung", "override_reason": "Vergabe läuft"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "awaiting_approval"
    approval_id = r.json()["approval_id"]
    r = await api.post(f"{base}/advance", headers=h,
                       json={"expected_current": "planung", "override_reason": "x"})
    assert r.status_code == 409 and error_code(r) == "gate_not_approved"
    r = await api.post(f"{base}/phases/planung/skip", headers=h, json={"reason": "x"})
    assert r.status_code == 409 and error_code(r) == "approval_pending"

    a_url = f"/api/v1/approvals/{approval_id}"
    approval = await poll(api, a_url, s1.headers, lambda b: len(b.get("voters", [])) == 3)
    assert approval["rule"] == "majority" and approval["can_vote"] is True
    waiting = (await api.get("/api/v1/approvals", headers=s1.headers)).json()
    assert [a["id"] for a in waiting] == [approval_id]
    # Coordinators do not vote (403); a steering member who joined later is not a voter (409).
    r = await api.post(f"{a_url}/decision", headers=h, json={"decision": "approve"})
    assert r.status_code == 403
    late = await make_committed_staff(role=Role.steering, org_slug=org.slug)
    r = await api.post(f"{a_url}/decision", headers=late.headers, json={"decision": "approve"})
    assert r.status_code == 409 and error_code(r) == "not_a_voter"
    r = await api.post(f"{a_url}/decision", headers=s1.headers, json={"decision": "reject"})
    assert r.status_code == 422 and error_code(r) == "comment_required"
    r = await api.post(f"{a_url}/decision", headers=s1.headers, json={"decision": "vielleicht"})
    assert r.status_code == 422
    r = await api.post(f"{a_url}/decision", headers=s1.headers,
                       json={"decision": "reject", "comment": "Ausschreibung fehlt"})
    assert r.status_code == 200 and r.json()["votes"][0]["decision"] == "reject"
    r = await api.post(f"{a_url}/decision", headers=s1.headers,
                       json={"decision": "approve", "comment": ""})
    assert r.status_code == 409 and error_code(r) == "already_decided"
    for member in (s2, s3):
        r = await api.post(f"{a_url}/decision", headers=member.headers,
                           json={"decision": "approve", "comment": "passt"})
        assert r.status_code == 200
    body = await poll(api, base, h, lambda b: b["current_phase"] == "kick-off")
    planung = body["phases"][0]
    assert planung["status"] == "completed" and planung["gate"]["approval_status"] == "approved"
    r = await api.post(f"{a_url}/decision", headers=late.headers,
                       json={"decision": "approve"})
    assert r.status_code == 409 and error_code(r) in ("approval_closed", "not_a_voter")
    assert (await api.get(a_url, headers=h)).json()["status"] == "approved"
    r = await api.post(f"{base}/phases/planung/skip", headers=h, json={"reason": "x"})
    assert r.status_code == 409 and error_code(r) == "phase_closed"

    # Skip the kick-off (current): the process moves on and the timeline tells who did what.
    r = await api.post(f"{base}/phases/kick-off/skip", headers=h,
                       json={"reason": "Kick-off mit Stadtfest zusammengelegt"})
    assert r.status_code == 200 and r.json()["current_phase"] == "beteiligung-1"
    timeline = (await api.get(f"{base}/timeline", headers=s1.headers)).json()
    kinds = [t["kind"] for t in timeline]
    assert kinds[0] == "started"
    for kind in ("checklist", "rescheduled", "approval_requested", "vote", "approval_decided",
                 "advanced", "skipped"):
        assert kind in kinds
    skipped = next(t for t in timeline if t["kind"] == "skipped")
    assert skipped["actor"] == org.coordinator.email
    assert skipped["reason"] == "Kick-off mit Stadtfest zusammengelegt"
    assert all(t["occurred_at"] for t in timeline)
    approvals = (await api.get(f"{base}/approvals", headers=h)).json()
    assert [a["status"] for a in approvals] == ["approved"]


async def test_other_organisation_gets_404(api, worker, make_committed_staff):  # type: ignore[no-untyped-def]
    org = await make_org(make_committed_staff, steering=1)
    other = await make_org(make_committed_staff, steering=1)
    process = await start_process(api, org, "bergkamen-for-all")
    base = f"/api/v1/processes/{process['id']}"
    oh = other.coordinator.headers
    for method, url, body in (
        ("get", base, None), ("get", f"{base}/timeline", None),
        ("post", f"{base}/advance", {"expected_current": "steuerungsgruppe"}),
        ("post", f"{base}/phases/steuerungsgruppe/skip", {"reason": "x"}),
        ("post", f"{base}/phases/steuerungsgruppe/checklist/perspektiven", {"done": True}),
    ):
        r = await (api.get(url, headers=oh) if method == "get"
                   else api.post(url, headers=oh, json=body))
        assert r.status_code == 404, (url, r.text)
        assert error_code(r) == "process_not_found"
    r = await api.get(f"/api/v1/processes/{uuid.uuid4()}", headers=org.coordinator.headers)
    assert r.status_code == 404
    # The steering group of the process's own organisation may read, not act.
    r = await api.get(base, headers=org.steering[0].headers)
    assert r.status_code == 200
    r = await api.post(f"{base}/advance", headers=org.steering[0].headers,
                       json={"expected_current": "steuerungsgruppe"})
    assert r.status_code == 403
    r = await api.get(f"/api/v1/orgs/{org.slug}/processes", headers=oh)
    assert r.status_code == 404


async def test_temporal_down_is_503(settings, committed_maker, make_committed_staff):  # type: ignore[no-untyped-def]
    app = create_app(settings, sessionmaker=committed_maker)  # Temporal at 127.0.0.1:1
    org = await make_org(make_committed_staff, steering=1)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
        r = await c.post(f"/api/v1/orgs/{org.slug}/processes", headers=org.coordinator.headers,
                         json={"template": WEITERSTADT, "title": "x", "starts_on": "2027-02-01"})
        assert r.status_code == 503
        r = await c.get(f"/api/v1/orgs/{org.slug}/processes", headers=org.coordinator.headers)
        assert r.json() == []  # no process row without its workflow
