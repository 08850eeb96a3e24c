"""The council resolution through the API with the real workflows (time-skipping Temporal),
PostgreSQL and SMTP sink: draft, compile, approve, submit, the clerk's steps, roles, errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient

from services.models.organisation import Role
from tests.support.resolutions import council, draft_body, poll, submitted


@pytest.fixture
async def api(papp) -> AsyncIterator[AsyncClient]:  # type: ignore[no-untyped-def]
    async with AsyncClient(transport=ASGITransport(app=papp), base_url="http://testserver") as c:
        yield c


def code(r) -> str:  # type: ignore[no-untyped-def]
    return r.json()["error"]["code"]


async def test_adopted_end_to_end(api, worker, make_committed_staff, smtp_sink):  # type: ignore[no-untyped-def]
    c = await council(api, make_committed_staff)
    r = await api.get(f"{c.base}/resolution", headers=c.coord)
    assert r.status_code == 200
    draft = r.json()["draft"]
    # The template's draft sections are the Begründung's parts, text for the coordinator.
    assert [s["key"] for s in draft["sections"]["sachverhalt"]] == [
        "leitlinien", "buendnis-fuer-vielfalt", "vielfaltsmanagement"]
    assert {p["field"] for p in draft["problems"]} >= {"beratungsfolge", "beschlussvorschlag"}
    rid = await submitted(api, c)
    body = (await api.get(f"{c.base}/resolution", headers=c.coord)).json()
    assert body["versions"][0]["status"] == "submitted" and not body["can_submit"]

    inbox = (await api.get("/api/v1/clerk/inbox", headers=c.clerk.headers)).json()
    assert [v["id"] for v in inbox["new"]] == [rid]
    # The clerks' mail carries the PDF.
    mails = await poll_mail(smtp_sink, lambda m: m["X-Mitwirken-Notice"] == "resolution_submitted")
    assert mails[0]["To"] == c.clerk.email
    assert any(p.get_content_type() == "application/pdf" for p in mails[0].iter_attachments())

    url = f"/api/v1/resolutions/{rid}"
    r = await api.post(f"{url}/outcome", headers=c.clerk.headers,
                       json={"outcome": "adopted", "decided_on": "2027-12-02"})
    assert r.status_code == 409 and code(r) == "resolution_not_scheduled"
    r = await api.post(f"{url}/received", headers=c.coord)
    assert r.status_code == 403
    r = await api.post(f"{url}/received", headers=c.clerk.headers)
    assert r.status_code == 200 and r.json()["status"] == "received"
    r = await api.post(f"{url}/received", headers=c.clerk.headers)
    assert r.status_code == 409 and code(r) == "resolution_already_received"
    r = await api.post(f"{url}/scheduled", headers=c.clerk.headers,
                       json={"body": "Stadtverordnetenversammlung", "meeting_date": "2027-12-02"})
    assert r.status_code == 200 and r.json()["meeting_date"] == "2027-12-02"
    process = (await api.get(c.base, headers=c.coord)).json()
    assert process["status"] == "running"
    r = await api.post(f"{url}/outcome", headers=c.clerk.headers,
                       json={"outcome": "adopted", "decided_on": "2027-12-02",
                             "minutes_ref": "SVV/2027/12 TOP 5", "note": "einstimmig"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "adopted" and r.json()["minutes_ref"] == "SVV/2027/12 TOP 5"
    process = await poll(api, c.base, c.coord, lambda b: b["status"] == "completed")
    assert process["phases"][-1]["status"] == "completed"
    r = await api.post(f"{url}/outcome", headers=c.clerk.headers,
                       json={"outcome": "rejected", "decided_on": "2027-12-02", "note": "x"})
    assert r.status_code == 409 and code(r) == "resolution_decided"

    timeline = (await api.get(f"{c.base}/timeline", headers=c.coord)).json()
    kinds = [t["kind"] for t in timeline]
    for kind in ("resolution_compiled", "resolution_approval_requested", "resolution_submitted",
                 "resolution_received", "resolution_scheduled", "resolution_adopted",
                 "council_decided", "completed"):
        assert kind in kinds, kinds
    by_kind = {t["kind"]: t for t in timeline}
    assert by_kind["resolution_submitted"]["actor"] == c.org.coordinator.email
    assert by_kind["resolution_received"]["actor"] == c.clerk.email
    events = (await api.get("/api/v1/events?after=0&limit=500", headers=c.clerk.headers)).json()
    types = [e["type"] for e in events["events"]]
    assert {"resolution.submitted", "resolution.received", "resolution.scheduled",
            "resolution.adopted", "process.completed"} <= set(types)
    submitted_event = next(e for e in events["events"] if e["type"] == "resolution.submitted")
    assert submitted_event["data"]["resolution_id"] == rid
    assert submitted_event["data"]["pdf"].endswith("/resolution/drafts/1.pdf")
    inbox = (await api.get("/api/v1/clerk/inbox", headers=c.clerk.headers)).json()
    assert [v["id"] for v in inbox["decided"]] == [rid] and not inbox["new"]


async def poll_mail(sink, pred, timeout: float = 10):  # type: ignore[no-untyped-def]
    import asyncio

    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        found = [m.message for m in list(sink.messages) if pred(m.message)]
        if found:
            return found
        assert loop.time() < end
        await asyncio.sleep(0.05)


async def test_validation_roles_and_tenancy(api, worker, make_committed_staff):  # type: ignore[no-untyped-def]
    c = await council(api, make_committed_staff)
    url = f"{c.base}/resolution/draft"
    # Two deciding bodies, a wrong role, a too long subject, an unknown field: 422 by field.
    two = draft_body(beratungsfolge=[{"body": "A", "role": "entscheidung"},
                                     {"body": "B", "role": "entscheidung"}])
    r = await api.put(url, headers=c.coord, json=two)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "beratungsfolge"
    for bad, field in [({"beratungsfolge": [{"body": "A", "role": "abstimmung"}]},
                        "beratungsfolge.0.role"),
                       ({"betreff": "x" * 301}, "betreff"),
                       ({"anlagen": "keine Liste"}, "anlagen"),
                       ({"beratungsfolge": [{"body": "A", "role": "entscheidung",
                                             "date": "31.12.2027"}]}, "beratungsfolge.0.date"),
                       ({"unbekannt": 1}, "unbekannt")]:
        r = await api.put(url, headers=c.coord, json=draft_body(**bad))
        assert r.status_code == 422, (bad, r.text)
        assert any(d["field"] == field for d in r.json()["error"]["details"]), r.text
    r = await api.put(url, headers={**c.coord, "content-type": "application/json"},
                      content=b"[1, 2]")
    assert r.status_code == 422
    # Compiling an incomplete draft names what is missing.
    r = await api.post(url, headers=c.coord)
    assert r.status_code == 422 and code(r) == "draft_incomplete"
    assert "beratungsfolge" in {d["field"] for d in r.json()["error"]["details"]}
    # Only coordinators edit and compile; a clerk of another organisation sees nothing.
    r = await api.put(url, headers=c.clerk.headers, json=draft_body())
    assert r.status_code == 403
    other = await make_committed_staff(role=Role.clerk)
    assert (await api.get(f"{c.base}/resolution", headers=other.headers)).status_code == 404
    r = await api.put(url, headers=c.coord, json=draft_body())
    assert r.status_code == 200 and r.json()["revision"] == 1 and not r.json()["problems"]
    r = await api.post(url, headers=c.coord)
    assert r.status_code == 201
    v1 = r.json()
    assert v1["number"] == 1 and len(v1["content_hash"]) == 64
    assert {f["kind"] for f in v1["files"]} == {"pdf", "docx", "report"}
    # Not approved: cannot submit (409 with the reason).
    r = await api.post(f"{c.base}/resolution/submit", headers=c.coord)
    assert r.status_code == 409 and code(r) == "cannot_submit"
    preview = await api.get(f"{c.base}/resolution/preview", headers=c.coord)
    assert preview.status_code == 200 and "Beschlussvorschlag" in preview.text
    assert (await api.get(f"{c.base}/resolution/drafts/1.pdf", headers=other.headers)
            ).status_code == 404
    r = await api.get(f"{c.base}/resolution/drafts/1.pdf", headers=c.clerk.headers)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert (await api.get(f"{c.base}/resolution/drafts/9.pdf", headers=c.coord)).status_code == 404
    rid = await submitted(api, c)
    r = await api.post(f"/api/v1/resolutions/{rid}/received", headers=other.headers)
    assert r.status_code == 404
    r = await api.post(f"/api/v1/resolutions/{rid}/scheduled", headers=c.clerk.headers,
                       json={"body": "", "meeting_date": "2027-12-02"})
    assert r.status_code == 422
    r = await api.post(f"/api/v1/resolutions/{rid}/outcome", headers=c.clerk.headers,
                       json={"outcome": "vertagt", "decided_on": "2027-12-02"})
    assert r.status_code == 422
    r = await api.post(f"/api/v1/resolutions/{rid}/outcome", headers=c.clerk.headers,
                       json={"outcome": "amended", "decided_on": "2027-12-02"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "amendments"
    # Editing while at the clerk's is refused.
    r = await api.put(url, headers=c.coord, json=draft_body())
    assert r.status_code == 409 and code(r) == "resolution_submitted"


async def test_version_numbers_out_of_range_are_404(api, worker, make_committed_staff):  # type: ignore[no-untyped-def]
    c = await council(api, make_committed_staff)
    for number in ("0", "99999999999", "2147483648"):
        for suffix in (".pdf", ".docx", ".oparl.json", ".report.pdf"):
            r = await api.get(f"{c.base}/resolution/drafts/{number}{suffix}", headers=c.coord)
            assert r.status_code == 404, (number, suffix, r.status_code)
        r = await api.post(f"{c.base}/resolution/drafts/{number}/approval", headers=c.coord)
        assert r.status_code == 404
    r = await api.post(f"{c.base}/resolution/submit", headers=c.coord,
                       json={"version": 99999999999})
    assert r.status_code in (404, 422)


async def test_beschlussphase_cannot_be_closed_while_at_the_clerk(api, worker,  # type: ignore[no-untyped-def]
                                                                  make_committed_staff):
    c = await council(api, make_committed_staff)
    rid = await submitted(api, c)
    r = await api.post(f"{c.base}/advance", headers=c.coord,
                       json={"expected_current": "beschluss", "override_reason": "fertig"})
    assert r.status_code == 409 and code(r) == "resolution_at_clerk"
    r = await api.post(f"{c.base}/phases/beschluss/skip", headers=c.coord,
                       json={"reason": "abgekürzt"})
    assert r.status_code == 409 and code(r) == "resolution_at_clerk"
    assert (await api.get(c.base, headers=c.coord)).json()["status"] == "running"
    # After a rejection the phase is the coordinator's again.
    await api.post(f"/api/v1/resolutions/{rid}/received", headers=c.clerk.headers)
    await api.post(f"/api/v1/resolutions/{rid}/scheduled", headers=c.clerk.headers,
                   json={"body": "SVV", "meeting_date": "2027-12-02"})
    r = await api.post(f"/api/v1/resolutions/{rid}/outcome", headers=c.clerk.headers,
                       json={"outcome": "rejected", "decided_on": "2027-12-02", "note": "nein"})
    assert r.status_code == 200
    r = await api.post(f"{c.base}/advance", headers=c.coord,
                       json={"expected_current": "beschluss", "override_reason": "fertig"})
    assert r.status_code == 200 and r.json()["status"] == "awaiting_approval"


async def test_text_a_document_cannot_hold_is_422_and_long_subjects_compile(  # type: ignore[no-untyped-def]
        api, worker, make_committed_staff):
    """Control characters (XML forbids them: Word refused the document with a 500 at compile)
    are refused by field; a subject of the full 300 characters still compiles (Word's title
    property holds 255)."""
    c = await council(api, make_committed_staff)
    url = f"{c.base}/resolution/draft"
    for bad, field in [({"betreff": "Vorlage \x1b[31m"}, "betreff"),
                       ({"beschlussvorschlag": ["Punkt\x0b eins"]}, "beschlussvorschlag.0"),
                       ({"sachverhalt": [{"key": "leitlinien", "title": "L",
                                          "text": "a\ud800b"}]}, "sachverhalt.0.text"),
                       ({"beratungsfolge": [{"body": "S\x0cVV", "role": "entscheidung"}]},
                        "beratungsfolge.0.body")]:
        # Escaped JSON (a lone surrogate cannot be encoded otherwise), as clients send it.
        r = await api.put(url, headers={**c.coord, "content-type": "application/json"},
                          content=json.dumps(draft_body(**bad)).encode())
        assert r.status_code == 422, (bad, r.text)
        assert any(d["field"] == field for d in r.json()["error"]["details"]), r.text
    r = await api.put(url, headers=c.coord,
                      json=draft_body(betreff="B" * 300, sachverhalt=[
                          {"key": "leitlinien", "title": "L", "text": "Zeile\n\tmit Tab\r\n"}]))
    assert r.status_code == 200, r.text
    r = await api.post(url, headers=c.coord)
    assert r.status_code == 201, r.text
    r = await api.get(f"{c.base}/resolution/drafts/1.docx", headers=c.coord)
    assert r.status_code == 200


def test_amended_wording_with_control_characters_is_refused() -> None:
    from datetime import date

    from contracts.resolution import OutcomeInput, outcome_problems

    problems = outcome_problems(OutcomeInput(outcome="amended", decided_on=date(2027, 12, 2),
                                             amendments="Neu\x1b gefasst"))
    assert [p["field"] for p in problems] == ["amendments"]
