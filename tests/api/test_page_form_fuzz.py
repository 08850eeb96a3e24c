"""A fuzz of every page form: each POST route outside /api gets form fields - as multipart and
as url-encoded bodies, with the session's CSRF token - filled with hostile and plausible
values (NUL and other control characters, header injection, edge dates, huge and empty
strings, real phase and item keys), on a real process with a running workflow. No answer may
be a 500 and none may take more than 10 s. The seed is printed; set FORM_FUZZ_SEED to repeat
a run."""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from api.deps import SESSION_COOKIE
from api.routes import ROUTERS
from tests.api.test_api_fuzz import EDGE_DATES, EDGE_DATETIMES, POISON
from tests.support.forms import form_token
from tests.support.process_harness import make_org

ROUNDS = 12
SLOW = 10.0


def page_forms() -> list[tuple[str, list[str]]]:
    """(path, form field names) of every POST page route, read from the endpoints."""
    forms = []
    for router in ROUTERS:
        for route in router.routes:
            methods = getattr(route, "methods", None) or set()
            path = (router.prefix or "") + route.path
            if "POST" not in methods or path.startswith(("/api/", "/oparl")):
                continue
            fields = [p.alias or p.name for p in route.dependant.body_params]
            forms.append((path, fields))
    return forms


def _value(rng: random.Random, plausible: list[str]) -> str:
    pick = rng.random()
    if pick < 0.4 and plausible:
        return rng.choice(plausible)
    if pick < 0.8:
        return rng.choice(POISON)
    return rng.choice(plausible or ["x"]) + rng.choice(POISON)


@pytest.mark.fuzz
async def test_no_page_form_answers_500_or_slowly(papp, worker, make_committed_staff):  # type: ignore[no-untyped-def]
    seed = int(os.environ.get("FORM_FUZZ_SEED", random.randrange(2**32)))
    print(f"form fuzz seed: {seed}")
    rng = random.Random(seed)
    org = await make_org(make_committed_staff, steering=1)
    problems: list[str] = []
    async with AsyncClient(transport=ASGITransport(app=papp), base_url="http://testserver",
                           headers=org.coordinator.headers) as api:
        r = await api.post(f"/api/v1/orgs/{org.slug}/processes", json={
            "template": "bergkamen-for-all", "title": "Fuzz", "starts_on": "2027-02-01"})
        assert r.status_code == 201, r.text
        process = r.json()
    phases = [p["key"] for p in process["phases"]]
    items = [i["key"] for p in process["phases"] for i in p.get("checklist", [])]
    known_path = {"process_id": [process["id"], str(uuid.uuid4())], "key": phases,
                  "item": items or ["x"], "approval_id": [str(uuid.uuid4())],
                  "slug": [org.slug], "token": ["x" * 43, "kurz"]}
    plausible = {"expected_current": phases, "org": [org.slug], "template": [
        "bergkamen-for-all", "weiterstadt-vielfaltsstrategie"], "title": ["Titel"],
        "starts_on": ["2027-02-01", *EDGE_DATES], "planned_start": EDGE_DATES,
        "planned_end": EDGE_DATES, "deadline": [*EDGE_DATES, *EDGE_DATETIMES],
        "done": ["1", "0", "true"], "decision": ["approve", "reject"], "reminders": ["P7D"],
        "email": [org.coordinator.email], "password": ["falsch"], "next": ["/app", "//evil"]}

    async with AsyncClient(transport=ASGITransport(app=papp), base_url="http://testserver",
                           cookies={SESSION_COOKIE: org.coordinator.token}) as web:
        csrf = await form_token(web, "/app/processes")
        for path, fields in page_forms():
            for _ in range(ROUNDS):
                url = path
                for name, values in known_path.items():
                    url = url.replace("{" + name + "}", rng.choice(values))
                data: dict[str, Any] = {f: _value(rng, plausible.get(f, [])) for f in fields
                                        if rng.random() < 0.9}
                data["csrf_token"] = csrf
                as_multipart = rng.random() < 0.5
                started = time.monotonic()
                try:
                    kwargs: dict[str, Any] = (
                        {"files": {k: (None, v) for k, v in data.items()}} if as_multipart
                        else {"data": data})
                    response = await asyncio.wait_for(web.post(url, **kwargs), SLOW + 5)
                except Exception as exc:
                    problems.append(f"{url}: {exc!r} for {data!r:.300}")
                    continue
                took = time.monotonic() - started
                if response.status_code >= 500 and response.status_code != 503:
                    problems.append(f"{url} ({'multipart' if as_multipart else 'form'}): "
                                    f"{response.status_code} for {data!r:.300}")
                if took > SLOW:
                    problems.append(f"{url}: {took:.1f} s")
    assert problems == [], f"seed {seed}:\n" + "\n".join(problems[:30])


def test_every_page_form_is_fuzzed():
    """The route walk finds the forms (a walk that found none would let the fuzz pass)."""
    paths = {path for path, _ in page_forms()}
    assert {"/login", "/app/processes", "/app/processes/{process_id}/advance",
            "/app/approvals/{approval_id}/decision", "/t/{token}"} <= paths
