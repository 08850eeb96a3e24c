"""Issue 11's done-when on the embedded stack (`mitwirken dev`), over HTTP as people do it: the
demo process's kick-off is announced (made public, invitations by an event campaign),
registered for through a personal link from the invitation mail and through the public page
(double opt-in link from its mail), checked in at the door by code, closed as held with its
minutes, and the council resolution's participation report shows it. The links come from the
mails the stack's SMTP sink stored."""

from __future__ import annotations

import email
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import httpx
import pytest

from composition.process_demo import DEMO_PROCESS_ID
from tests.e2e.test_devstack import COORDINATOR, Stack
from tests.support.forms import token_in

pytestmark = pytest.mark.e2e

CODE = re.compile(r'class="code">([A-Z2-9]{8})<')


@pytest.fixture
def stack(tmp_path):  # type: ignore[no-untyped-def]
    s = Stack(tmp_path / "data")
    yield s
    if s.proc is not None and s.proc.poll() is None:  # a failed test must not leak the stack
        s.terminate()


def _mails(data_dir: Path) -> list[EmailMessage]:
    out = []
    for path in sorted((data_dir / "mail").glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=default_policy)
        assert isinstance(msg, EmailMessage)
        out.append(msg)
    return out


def _text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def _wait_mail(data_dir: Path, pred: Callable[[EmailMessage], bool],
               timeout: float = 60) -> EmailMessage:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in _mails(data_dir) if pred(m)]
        if found:
            return found[0]
        time.sleep(0.3)
    raise AssertionError("no such mail: " + ", ".join(
        f"{m['To']}: {m['Subject']}" for m in _mails(data_dir)))


def _to(address: str) -> Callable[[EmailMessage], bool]:
    return lambda m: address in str(m["To"])


def test_kickoff_announced_registered_checked_in_summarised_and_reported(stack):  # type: ignore[no-untyped-def]
    stack.start()
    stack.wait_ready()
    staff = httpx.Client(base_url=stack.url, timeout=20)
    token = staff.post("/api/v1/auth/token", json=COORDINATOR)
    assert token.status_code == 200, token.text
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    csrf = token_in(staff.get("/login").text)
    login = staff.post("/login", data={**COORDINATOR, "next": "/app", "csrf_token": csrf})
    assert login.status_code == 303, login.text

    # The demo process's kick-off, created from the template when the process started.
    events = staff.get(f"/api/v1/processes/{DEMO_PROCESS_ID}/events", headers=bearer)
    assert events.status_code == 200, events.text
    [kickoff] = [e for e in events.json() if e["phase"] == "kick-off"]
    eid = kickoff["id"]
    starts = datetime.fromisoformat(kickoff["starts_at"])

    # Announced: public, with places, and an invitation campaign to one group.
    r = staff.patch(f"/api/v1/events/{eid}", headers=bearer,
                    json={"public": True, "capacity": 40, "location": "Bürgerhaus Riedbahn"})
    assert r.status_code == 200, r.text
    r = staff.post(f"/api/v1/processes/{DEMO_PROCESS_ID}/campaigns", headers=bearer, json={
        "kind": "event", "target_id": eid, "title": "Einladung zur Kick-off-Veranstaltung",
        "audience": {"groups": ["engagierte-buergerinnen"]},
        "deadline": (starts - timedelta(days=2)).isoformat()})
    assert r.status_code == 201, r.text

    # A personal link from the invitation mail: the page, then the registration by form.
    invitation = _wait_mail(stack.data_dir, _to("aylin.demir@"))
    link = re.search(r"/t/([A-Za-z0-9_-]{20,})", _text(invitation))
    assert link, _text(invitation)
    person = httpx.Client(base_url=stack.url, timeout=20)
    page = person.get(f"/t/{link.group(1)}")
    assert page.status_code == 200 and "Kick-off" in page.text, page.text
    r = person.post(f"/t/{link.group(1)}", data={
        "attending": "yes", "companions": "0", "sd_age_band": "18_26",
        "sd_gender": "weiblich", "sd_group": "buergerin"})
    assert r.status_code == 303, r.text
    page = person.get(r.headers["location"])
    assert "Sie sind angemeldet." in page.text
    code_a = CODE.search(page.text)
    assert code_a, page.text

    # The public page: name and address, confirmed by the link in the mail.
    public = httpx.Client(base_url=stack.url, timeout=20)
    form = public.get(f"/veranstaltungen/{eid}/anmeldung")
    assert form.status_code == 200 and 'name="email"' in form.text
    r = public.post(f"/veranstaltungen/{eid}/anmeldung", data={
        "name": "Petra Nachbarin", "email": "petra.nachbarin@example.org", "companions": "1"})
    assert r.status_code == 303, r.text
    optin = _wait_mail(stack.data_dir, _to("petra.nachbarin@"))
    confirm = re.search(r"/anmeldung/([A-Za-z0-9_.-]+)/bestaetigen", _text(optin))
    assert confirm, _text(optin)
    ptoken = confirm.group(1)
    assert public.get(f"/anmeldung/{ptoken}/bestaetigen").status_code == 200
    r = public.post(f"/anmeldung/{ptoken}/bestaetigen")
    assert r.status_code == 303, r.text
    page = public.get(f"/anmeldung/{ptoken}")
    assert "Sie sind angemeldet." in page.text
    code_p = CODE.search(page.text)
    assert code_p, page.text

    # Both confirmations arrive with their calendar invitation and check-in code.
    for address, code in (("aylin.demir@", code_a.group(1)),
                          ("petra.nachbarin@", code_p.group(1))):
        mail = _wait_mail(stack.data_dir, lambda m, a=address, c=code: a in str(m["To"])
                          and c in _text(m))
        assert any(p.get_content_type() == "text/calendar" for p in mail.walk())

    # Checked in at the door by code (the staff's phone page).
    url = f"/app/events/{eid}/checkin"
    for code in (code_a.group(1), code_p.group(1)):
        r = staff.post(url, data={"csrf_token": token_in(staff.get(url).text), "code": code})
        assert r.status_code == 303 and "ok=checked" in r.headers["location"], r.text
    # Here: Aylin, Petra and her companion.
    assert "Anwesend: <strong>3</strong> von 3 erwarteten Personen" in staff.get(url).text

    # Summarised: held, with minutes.
    url = f"/app/events/{eid}"
    r = staff.post(url, data={"csrf_token": token_in(staff.get(url).text),
                              "aktion": "stattgefunden",
                              "minutes": "Vorstellung des Projekts, Fragen aus der Stadt."})
    assert r.status_code == 303, r.text
    held = staff.get(f"/api/v1/events/{eid}", headers=bearer).json()
    assert held["status"] == "held" and held["minutes"].startswith("Vorstellung")

    # The resolution's participation report shows it.
    report = staff.get(f"/api/v1/processes/{DEMO_PROCESS_ID}/resolution/preview",
                       headers=bearer)
    assert report.status_code == 200, report.text
    assert "Kick-off-Veranstaltung" in report.text
    assert "2 Anmeldungen mit 3 Personen" in report.text
    assert "3 Personen (davon ohne Anmeldung: 0; Begleitpersonen: 1)" in report.text
    assert "stattgefunden" in report.text

    assert stack.terminate() == 0
    assert stack.leftovers() == []
