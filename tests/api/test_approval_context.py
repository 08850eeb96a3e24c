"""What the steering member decides on, and what the coordinator hears back (pages, the
process worker on the time-skipping server, an SMTP sink): the approval page shows the
coordinator's reason, the phase's checklist, the rule in words and the deadline in the
organisation's time zone; while it waits the process page says "wartet auf Entscheidung"
(not "geplant") and the request button is disabled; the rejection mail carries the reasons."""

from __future__ import annotations

import email
import email.policy
import re
import uuid
from zoneinfo import ZoneInfo

from httpx import ASGITransport, AsyncClient
from sqlalchemy import select

from api.deps import SESSION_COOKIE
from services.models.process import Approval
from tests.support.campaigns import wait_for
from tests.support.forms import form_token
from tests.support.process_harness import make_org


def _web(app, staff) -> AsyncClient:  # type: ignore[no-untyped-def]
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver",
                       cookies={SESSION_COOKIE: staff.token})


async def test_the_decision_with_its_context_and_the_rejection_mail(  # type: ignore[no-untyped-def]
        papp, worker, make_committed_staff, committed_maker, smtp_sink):
    org = await make_org(make_committed_staff, steering=3)
    async with _web(papp, org.coordinator) as web:
        csrf = await form_token(web, "/app/processes")
        r = await web.post("/app/processes", data={
            "csrf_token": csrf, "org": org.slug, "template": "vielfaltsbuendnis",
            "title": "Bündnis für Vielfalt", "starts_on": "2027-02-01"})
        assert r.status_code == 303, r.text
        url = r.headers["location"].split("?")[0]
        r = await web.post(f"{url}/phases/steuerungsgruppe/checklist/vielfaltsdimensionen",
                           data={"csrf_token": csrf, "done": "1"})
        assert r.status_code == 303
        r = await web.post(f"{url}/advance", data={
            "csrf_token": csrf, "expected_current": "steuerungsgruppe",
            "override_reason": "Die Leitideen beschließen wir in der ersten Sitzung."})
        assert r.headers["location"].endswith("ok=awaiting_approval"), r.text

        page = await web.get(url)
        approval_id = re.search(r'href="/app/approvals/([0-9a-f-]+)"', page.text).group(1)
        # Pending is pending: not "geplant", and the request cannot be sent again.
        assert "Mehrheit: wartet auf Entscheidung" in page.text
        row = page.text.split(f'href="/app/approvals/{approval_id}"')[1].split("</tr>")[0]
        assert "wartet auf Entscheidung" in row and "geplant" not in row
        assert ('<button type="submit" disabled aria-describedby="freigabe-wartet">'
                in page.text)
        assert ">Freigabe anfragen</button>" not in page.text

    async with committed_maker() as s:
        approval = (await s.scalars(select(Approval).where(
            Approval.id == uuid.UUID(approval_id)))).one()
    local = approval.deadline.astimezone(ZoneInfo("Europe/Berlin"))

    first, second, third = org.steering
    async with _web(papp, first) as web:
        page = await web.get(f"/app/approvals/{approval_id}")
        assert page.status_code == 200
        text = page.text
        assert "Die Leitideen beschließen wir in der ersten Sitzung." in text
        assert org.coordinator.email in text
        assert "Eine Mehrheit von 2 der 3 Mitglieder muss zustimmen." in text
        assert "(1 von 2 erledigt)" in text
        assert "✓ erledigt: Mitglieder aus unterschiedlichen Vielfaltsdimensionen" in text
        assert "○ offen: Leitideen des Bündnisses vereinbart" in text
        assert local.strftime("%d.%m.%Y, %H:%M") + " Uhr" in text
        assert 'aria-label="Brotkrumen"' in text
        listing = await web.get("/app/approvals")
        assert "Eine Mehrheit von 2 der 3 Mitglieder muss zustimmen." in listing.text

    for member, comment in ((first, "Die Leitideen fehlen noch."),
                            (second, "Bitte erst die Sitzung abwarten.")):
        async with _web(papp, member) as web:
            csrf = await form_token(web, f"/app/approvals/{approval_id}")
            r = await web.post(f"/app/approvals/{approval_id}/decision", data={
                "csrf_token": csrf, "decision": "reject", "comment": comment})
            assert r.status_code == 303, r.text

    def result_mails() -> list[email.message.EmailMessage]:
        out = []
        for m in smtp_sink.messages:
            msg = email.message_from_bytes(m.message.as_bytes(), policy=email.policy.default)
            if msg["X-Mitwirken-Notice"] == "approval_result" and \
                    m.envelope_to[0] == org.coordinator.email:
                out.append(msg)
        return out

    async def mailed() -> bool:
        return bool(result_mails())

    await wait_for(mailed)
    body = result_mails()[0].get_content()
    assert "abgelehnt" in body and "Begründungen der Ablehnung:" in body
    assert f"- {first.email}: Die Leitideen fehlen noch." in body
    assert f"- {second.email}: Bitte erst die Sitzung abwarten." in body
    assert third.email not in body


async def test_approval_deadlines_in_each_organisations_zone(client, session, make_staff):  # type: ignore[no-untyped-def]
    """The list of approvals to decide and an approval's page show the deadline as the
    organisation's wall-clock time: 23:59 in Berlin is "23:59 Uhr", never 22:59 (UTC in
    winter); an organisation in another zone gets its own 23:59."""
    from datetime import datetime

    from services.models.organisation import Organisation, Role
    from services.models.process import Approval
    from tests.support.surveys import make_process

    rows = []
    for zone in ("Europe/Berlin", "America/New_York"):
        coordinator = await make_staff(role=Role.coordinator)
        voter = await make_staff(role=Role.steering, org_slug=coordinator.org_slug)
        org = await session.get_one(Organisation, coordinator.org_id)
        org.time_zone = zone
        process = await make_process(session, coordinator.org_id)
        approval = Approval(
            id=uuid.uuid4(), process_id=process.id, organisation_id=coordinator.org_id,
            phase_key="kickoff", title="Freigabe Auftakt", rule="all",
            voters=[str(voter.user_id)],
            deadline=datetime(2027, 1, 15, 23, 59, tzinfo=ZoneInfo(zone)))
        session.add(approval)
        rows.append((voter, approval.id))
    await session.commit()

    for voter, approval_id in rows:
        listing = await client.get("/app/approvals", headers=voter.headers)
        assert listing.status_code == 200
        row = listing.text.split(f'href="/app/approvals/{approval_id}"')[1].split("</tr>")[0]
        assert "15.01.2027, 23:59 Uhr" in row, row
        page = await client.get(f"/app/approvals/{approval_id}", headers=voter.headers)
        assert page.status_code == 200
        assert "15.01.2027, 23:59 Uhr" in page.text.split('id="frist"')[1].split("</dd>")[0]
