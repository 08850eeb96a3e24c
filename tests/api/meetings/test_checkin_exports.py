"""Check-in by code (typed, any case), by list and walk-ins; attendance uploaded as CSV;
registrations, waitlist and attendance exported as CSV and XLSX with formula-safe cells; the
domain events of it all in the coordinator's feed."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from services.models.organisation import Role
from tests.api.meetings.test_meetings_api import _event, _links
from tests.support.surveys import make_process


async def test_checkin_walk_in_upload_and_exports(client, session, make_staff):
    staff = await make_staff(role=Role.coordinator)
    process = await make_process(session, staff.org_id)
    event = (await _event(client, staff, process.id, capacity=3)).json()
    eid = event["id"]
    a, b, c, d = await _links(session, staff.org_id, process.id, eid, 4)
    codes = []
    for token, note in ((a, "=HYPERLINK(\"http://evil\")"), (b, ""), (c, ""), (d, "")):
        r = await client.post(f"/api/v1/participation/{token}/registration",
                              json={"attending": True, "needs": {"note": note}})
        codes.append(r.json()["checkin_code"])
    assert codes[3] is None  # d waits

    # The code as typed at the door: lower case, with a space.
    typed = codes[0][:4].lower() + " " + codes[0][4:].lower()
    r = await client.post(f"/api/v1/events/{eid}/checkin", json={"code": typed},
                          headers=staff.headers)
    assert r.status_code == 200 and r.json()["already"] is False
    again = await client.post(f"/api/v1/events/{eid}/checkin", json={"code": codes[0]},
                              headers=staff.headers)
    assert again.json()["already"] is True
    unknown = await client.post(f"/api/v1/events/{eid}/checkin", json={"code": "ZZZZZZZZ"},
                                headers=staff.headers)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "checkin_code_unknown"

    rows = (await client.get(f"/api/v1/events/{eid}/registrations",
                             headers=staff.headers)).json()
    second = next(r for r in rows if r["checkin_code"] == codes[1])
    r = await client.post(f"/api/v1/events/{eid}/registrations/{second['id']}/checkin",
                          headers=staff.headers)
    assert r.status_code == 200

    # Full: a walk-in needs a higher capacity first.
    full = await client.post(f"/api/v1/events/{eid}/walk-ins", json={"name": "Gast"},
                             headers=staff.headers)
    assert full.status_code == 409 and full.json()["error"]["code"] == "event_full"
    await client.patch(f"/api/v1/events/{eid}", json={"capacity": 6}, headers=staff.headers)
    walk = await client.post(f"/api/v1/events/{eid}/walk-ins",
                             json={"name": "Gast", "companions": 1}, headers=staff.headers)
    assert walk.status_code == 201 and walk.json()["walk_in"] is True

    # Attendance afterwards from a CSV: c by code, one unknown row.
    csv_data = f"name;code\nC;{codes[2]}\nNiemand;ABCDEFGH\n".encode()
    up = await client.post(f"/api/v1/events/{eid}/attendance", headers=staff.headers,
                           files={"file": ("liste.csv", csv_data, "text/csv")})
    assert up.status_code == 200, up.text
    assert up.json()["recorded"] == 1
    assert up.json()["unknown"] == [{"line": 3, "value": "ABCDEFGH",
                                     "message": "keine bestätigte Anmeldung dazu"}]
    bad = await client.post(f"/api/v1/events/{eid}/attendance", headers=staff.headers,
                            files={"file": ("x.csv", b"\xff\xfe\x00", "text/csv")})
    assert bad.status_code == 422

    exported = await client.get(f"/api/v1/events/{eid}/attendance.csv", headers=staff.headers)
    assert exported.status_code == 200
    text = exported.content.decode("utf-8-sig")
    lines = text.strip().split("\r\n")
    assert lines[0].startswith("name;e_mail;status")
    assert len(lines) == 1 + 4  # a, b, c and the walk-in
    assert "'=HYPERLINK" in text  # never a formula
    wb = load_workbook(io.BytesIO((await client.get(
        f"/api/v1/events/{eid}/registrations.xlsx", headers=staff.headers)).content))
    cells = [c.value for row in wb.active.iter_rows() for c in row]
    assert "'=HYPERLINK(\"http://evil\")" in cells
    assert not any(isinstance(v, str) and v.startswith("=") for v in cells)
    waitlist = await client.get(f"/api/v1/events/{eid}/waitlist.csv", headers=staff.headers)
    # d moved up when the capacity was raised: the waitlist is empty.
    assert len(waitlist.content.decode("utf-8-sig").strip().split("\r\n")) == 1
    assert (await client.get(f"/api/v1/events/{eid}/nothing.csv", headers=staff.headers)
            ).status_code == 404

    feed = (await client.get("/api/v1/events?after=0&limit=1000",
                             headers=staff.headers)).json()["events"]
    attended = [e for e in feed if e["type"] == "attendance.recorded"]
    assert sorted(e["data"]["how"] for e in attended) == ["code", "import", "list", "walk_in"]
    steering = await make_staff(role=Role.steering, org_slug=staff.org_slug)
    seen = (await client.get("/api/v1/events?after=0&limit=1000",
                             headers=steering.headers)).json()["events"]
    assert not any(e["type"].startswith(("registration.", "attendance.", "event."))
                   for e in seen)
