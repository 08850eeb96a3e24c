"""Schemathesis over the OpenAPI document against the app on a real server (committed
PostgreSQL, the time-skipping Temporal server with the process worker): every operation with
generated JSON and multipart bodies, path and query values - including NUL and other control
characters, header-injection strings and dates and durations at the edge of the calendar
mixed into them. No answer may be a 500 and none may take more than 10 s.

The generator's seed is printed by Hypothesis when an example fails (and derandomised here,
so a run is repeatable)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from services.models.organisation import Role
from tests.support.live_server import live_server

pytestmark = pytest.mark.fuzz

EXAMPLES = 40
SLOW = 10.0
# Endless by design (SSE); its credentials check is tested on its own.
SKIP = {("GET", "/api/v1/events/stream")}

EDGE_DATETIMES = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z",
                  "2026-06-01T10:00:00-12:00", "2026-06-01T10:00:00+14:00",
                  "1999-12-31T23:59:59Z", "2101-01-01T00:00:00Z", "2026-02-30T00:00:00Z"]
EDGE_DATES = ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01", "2026-02-29"]
EDGE_DURATIONS = ["P9999999999D", "P0D", "-P1D", "PT0S", "P99999Y", "P7D"]
POISON = ["\x00", "nul\x00reason", "\x1b[31m", "\u202e", "Mallory\r\nBcc: victim@evil.example",
          "ｆｕｌｌ", "jörg@bücher.example", "=HYPERLINK(\"http://evil\")", "😀" * 200,
          *EDGE_DATETIMES, *EDGE_DATES, *EDGE_DURATIONS]

schemathesis.openapi.format("date-time", st.sampled_from(EDGE_DATETIMES) | st.datetimes(
    timezones=st.timezones()).map(lambda d: d.isoformat()))
schemathesis.openapi.format("date", st.sampled_from(EDGE_DATES) | st.dates().map(str))
schemathesis.openapi.format("duration", st.sampled_from(EDGE_DURATIONS))


def _poison(value: Any, draw: Any, known: dict[str, str] | None = None) -> Any:
    """Mix hostile strings into the strings of a generated value (dicts and lists walked);
    fields named like a known object (a phase, a survey) sometimes get the real one, so the
    request gets past "not found" to the code behind it."""
    if isinstance(value, str):
        return draw(st.sampled_from([value, *POISON, value + draw(st.sampled_from(POISON))]))
    if isinstance(value, dict):
        return {k: known[k] if known and k in known and draw(st.booleans())
                else _poison(v, draw, known) for k, v in value.items()}
    if isinstance(value, list):
        return [_poison(v, draw, known) for v in value]
    return value


def _run_operation(operation: Any, base_url: str, headers: dict[str, str],
                   known: dict[str, str], problems: list[str]) -> None:
    @hsettings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
               suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(), data=st.data())
    def run(case: Any, data: Any) -> None:
        draw = data.draw
        for name in list(case.path_parameters or {}):
            if name in known and draw(st.booleans()):
                case.path_parameters[name] = known[name]
        if case.body is not None and not isinstance(case.body, bytes):
            case.body = _poison(case.body, draw, known)
        if case.query:
            case.query = _poison(case.query, draw)
        started = time.monotonic()
        try:
            response = case.call(base_url=base_url, headers=headers, timeout=SLOW + 5)
        except Exception as exc:  # a hang or a dropped connection is a finding too
            problems.append(f"{operation.label}: {exc!r} for {case.body!r:.300}")
            return
        took = time.monotonic() - started
        if response.status_code >= 500 and response.status_code != 503:
            problems.append(f"{operation.label}: {response.status_code} for path "
                            f"{case.path_parameters} query {case.query!r:.200} body "
                            f"{case.body!r:.300}: {response.text[:300]}")
        if took > SLOW:
            problems.append(f"{operation.label}: {took:.1f} s")

    run()


async def test_no_500_and_no_slow_answer_anywhere(papp, worker, make_committed_staff):  # type: ignore[no-untyped-def]
    admin = await make_committed_staff(role=Role.admin, platform_admin=True)
    schema = schemathesis.openapi.from_dict(papp.openapi())
    problems: list[str] = []
    async with live_server(papp) as base_url:
        known = {"slug": admin.org_slug, "key": "weiterstadt-vielfaltsstrategie",
                 "template": "weiterstadt-vielfaltsstrategie",
                 "from_template": "bedarfe-und-wuensche", "kind": "survey"}


        async with httpx.AsyncClient(base_url=base_url, headers=admin.headers) as http:
            started = await http.post(f"/api/v1/orgs/{admin.org_slug}/processes", json={
                "template": "weiterstadt-vielfaltsstrategie", "title": "Fuzz",
                "starts_on": "2027-02-01"})
            assert started.status_code == 201, started.text
            known["process_id"] = started.json()["id"]
            known["phase"] = started.json()["phases"][1]["key"]
            survey = await http.post(f"/api/v1/processes/{known['process_id']}/surveys",
                                     json={"from_template": "bedarfe-und-wuensche"})
            if survey.status_code == 201:
                known["survey_id"] = known["target_id"] = survey.json()["id"]
        operations = [r.ok() for r in schema.get_all_operations()]
        for operation in operations:
            if (operation.method.upper(), operation.path) in SKIP:
                continue
            await asyncio.to_thread(_run_operation, operation, base_url, admin.headers,
                                    known, problems)
    assert problems == [], "\n".join(problems[:40])


def test_poison_reaches_bodies():
    """The mixer itself: hostile strings do replace generated ones."""
    seen: set[str] = set()

    @hsettings(max_examples=50, derandomize=True, database=None)
    @given(data=st.data())
    def run(data: Any) -> None:
        seen.add(_poison({"a": ["x"]}, data.draw)["a"][0])

    run()
    assert any("\x00" in s for s in seen)  # NUL is among what is sent


async def test_edge_values_in_valid_bodies_never_break_a_later_read(papp, worker,  # type: ignore[no-untyped-def]
                                                                    make_committed_staff):
    """Generated bodies rarely get past validation to the database, so this sweep takes
    valid bodies and puts each edge date, duration and hostile string into one field at a
    time - then reads everything back: a value stored but unreadable (a survey closing in the
    year 9999 used to turn every later survey list into a 500) shows up in the reads."""
    admin = await make_committed_staff(role=Role.admin, platform_admin=True)
    problems: list[str] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=papp),
                                 base_url="http://testserver", headers=admin.headers) as http:
        async def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
            response = await http.request(method, url, **kwargs)
            if response.status_code >= 500 and response.status_code != 503:
                problems.append(f"{method} {url} {kwargs.get('json')!r:.200}: "
                                f"{response.status_code} {response.text[:200]}")
            return response

        started = await call("POST", f"/api/v1/orgs/{admin.org_slug}/processes", json={
            "template": "weiterstadt-vielfaltsstrategie", "title": "Sweep",
            "starts_on": "2027-02-01"})
        process = started.json()
        pid, phase = process["id"], process["phases"][1]["key"]
        survey = (await call("POST", f"/api/v1/processes/{pid}/surveys",
                             json={"from_template": "bedarfe-und-wuensche"})).json()
        edges = [*EDGE_DATETIMES, *EDGE_DATES, *EDGE_DURATIONS, *POISON[:10]]
        bodies = [
            ("POST", f"/api/v1/processes/{pid}/surveys",
             {"from_template": "bedarfe-und-wuensche", "phase": phase}, ["closes_at",
                                                                        "opens_at", "title"]),
            ("POST", f"/api/v1/processes/{pid}/campaigns",
             {"kind": "survey", "target_id": survey["id"], "reminders": ["P7D"],
              "deadline": "2027-05-01T00:00:00+02:00"}, ["deadline", "title"]),
            ("POST", f"/api/v1/processes/{pid}/phases/{phase}/reschedule",
             {"planned_start": "2027-04-01", "planned_end": "2027-05-01"},
             ["planned_start", "planned_end"]),
            ("POST", f"/api/v1/orgs/{admin.org_slug}/processes",
             {"template": "bergkamen-for-all", "title": "T", "starts_on": "2027-02-01"},
             ["starts_on", "title"]),
        ]
        for method, url, body, fields in bodies:
            for field in fields:
                for edge in edges:
                    await call(method, url, json={**body, field: edge})
            await call(method, url, json={**body, "reminders": ["P9999999999D"]})
        reads = [f"/api/v1/processes/{pid}", f"/api/v1/processes/{pid}/surveys",
                 f"/api/v1/processes/{pid}/timeline", f"/api/v1/orgs/{admin.org_slug}/processes",
                 f"/api/v1/orgs/{admin.org_slug}/campaigns", f"/api/v1/surveys/{survey['id']}",
                 f"/api/v1/surveys/{survey['id']}/results", "/api/v1/events?limit=500"]
        surveys = (await call("GET", f"/api/v1/processes/{pid}/surveys")).json()
        reads += [f"/api/v1/surveys/{s['id']}" for s in surveys if isinstance(s, dict)]
        for url in reads:
            await call("GET", url)
    assert problems == [], "\n".join(problems[:30])
