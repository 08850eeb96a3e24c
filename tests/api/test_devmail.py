"""The mail viewer of the embedded stack: off unless enabled, staff only, HTML kept harmless."""

from __future__ import annotations

import re
from email.message import EmailMessage

import aiosmtplib
import pytest
from httpx import ASGITransport, AsyncClient

from api.app import create_app
from infra.mail import ORGANISATION_HEADER
from infra.mailsink import MailSink


@pytest.fixture
def mail_dir(tmp_path):
    return tmp_path / "data" / "mail"


@pytest.fixture
async def viewer(settings, rollback_maker, tmp_path):
    enabled = settings.model_copy(update={"dev_mail_viewer": True,
                                          "data_dir": tmp_path / "data"})
    app = create_app(enabled, sessionmaker=rollback_maker)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


async def _send_through_sink(mail_dir, subject: str, org_id=None) -> None:  # type: ignore[no-untyped-def]
    sink = MailSink(directory=mail_dir, keep_in_memory=False).start()
    try:
        msg = EmailMessage()
        if org_id is not None:
            msg[ORGANISATION_HEADER] = str(org_id)
        msg["From"] = "beteiligung@localhost"
        msg["To"] = "buerger@example.org"
        msg["Subject"] = subject
        msg.set_content("Ihr persönlicher Link: http://localhost/t/abc")
        msg.add_alternative('<p onclick="x()">Hallo <script>alert("x")</script></p>',
                            subtype="html")
        msg.add_attachment(b"BEGIN:VCALENDAR", maintype="text", subtype="calendar",
                           filename="termin.ics")
        await aiosmtplib.send(msg, hostname=sink.host, port=sink.port)
    finally:
        sink.stop()


async def test_viewer_is_off_by_default(client, make_staff):
    staff = await make_staff()
    r = await client.get("/dev/mail", headers=staff.headers)
    assert r.status_code == 404


async def test_viewer_requires_a_login(viewer):
    r = await viewer.get("/dev/mail")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/dev/mail"


async def test_viewer_lists_and_shows_mails_safely(viewer, make_staff, mail_dir):
    staff = await make_staff()
    await _send_through_sink(mail_dir, "Einladung <Umfrage> Vielfalt", staff.org_id)
    listing = await viewer.get("/dev/mail", headers=staff.headers)
    assert listing.status_code == 200
    assert "Einladung &lt;Umfrage&gt; Vielfalt" in listing.text
    ids = re.findall(r'href="/dev/mail/([0-9-]+)"', listing.text)
    assert len(ids) == 1
    detail = await viewer.get(f"/dev/mail/{ids[0]}", headers=staff.headers)
    assert detail.status_code == 200
    assert "Ihr persönlicher Link: http://localhost/t/abc" in detail.text
    assert "termin.ics" in detail.text
    # The HTML part only inside a sandboxed iframe, escaped into srcdoc: never live markup.
    assert "<script>" not in detail.text
    assert 'sandbox=""' in detail.text and "&lt;script&gt;" in detail.text
    assert "script-src 'none'" in detail.headers["content-security-policy"]


async def test_unknown_or_crafted_mail_ids_are_404(viewer, make_staff, mail_dir):
    staff = await make_staff()
    mail_dir.mkdir(parents=True)
    (mail_dir.parent / "secret.eml").write_text("Subject: geheim\n\nnicht zeigen")
    for mail_id in ("1-1", "..%2Fsecret", "../secret", "abc"):
        r = await viewer.get(f"/dev/mail/{mail_id}", headers=staff.headers)
        assert r.status_code == 404, mail_id
        assert "nicht zeigen" not in r.text


async def test_staff_see_only_their_organisations_mails(viewer, make_staff, mail_dir):
    # Found in review: any staff user saw every organisation's invitations, links included.
    a = await make_staff()
    b = await make_staff()
    admin = await make_staff(platform_admin=True)
    await _send_through_sink(mail_dir, "Post fuer A", a.org_id)
    await _send_through_sink(mail_dir, "Post fuer B", b.org_id)
    await _send_through_sink(mail_dir, "Post ohne Absender")
    listing = await viewer.get("/dev/mail", headers=a.headers)
    assert "Post fuer A" in listing.text
    assert "Post fuer B" not in listing.text and "Post ohne Absender" not in listing.text
    everything = await viewer.get("/dev/mail", headers=admin.headers)
    ids = re.findall(r'href="/dev/mail/([0-9-]+)"', everything.text)
    assert len(ids) == 3
    shown = {i: (await viewer.get(f"/dev/mail/{i}", headers=a.headers)).status_code
             for i in ids}
    assert sorted(shown.values()) == [200, 404, 404]
    # The same 404 as for a mail that does not exist.
    foreign = next(i for i, status in shown.items() if status == 404)
    r = await viewer.get(f"/dev/mail/{foreign}", headers=a.headers)
    assert r.json()["error"]["code"] == "mail_not_found"
    assert "persönlicher Link" not in r.text


def test_both_senders_name_the_organisation():
    import uuid
    from datetime import UTC, date, datetime

    from contracts.process import NotifyInput
    from services.campaigns.mails import MailContext, MailRenderer, parse
    from services.processes import mails as notices

    org_id = uuid.uuid4()
    renderer = MailRenderer(MailContext(
        org_name="Stadt", mail_from="beteiligung@stadt.example", public_url="http://x",
        secret_key="k" * 32, campaign_kind="survey", title="Umfrage",
        deadline=datetime(2030, 1, 1, tzinfo=UTC), organisation_id=org_id), "invitation")
    invitation = parse(renderer.render(uuid.uuid4(), "Anna", "anna@example.org", "de").data)
    assert invitation[ORGANISATION_HEADER] == str(org_id)
    notice = notices.render(NotifyInput(
        process_id=uuid.uuid4(), organisation_id=org_id, idempotency_key="k",
        kind="reminder", phase_key="p", phase_title="Phase", planned_end=date(2030, 1, 1),
        scheduled_for=datetime(2030, 1, 1, tzinfo=UTC)),
        to="k@example.org", process_title="P", mail_from="b@stadt.example", org_name="Stadt",
        public_url="http://x")
    assert notice[ORGANISATION_HEADER] == str(org_id)


async def test_only_admins_and_coordinators_of_the_organisation(  # type: ignore[no-untyped-def]
        viewer, make_staff, mail_dir):
    """Issue 13: the viewer shows participants' links, so it is for the organisation's admins
    and coordinators only, and never shows another organisation's mails."""
    from services.models.organisation import Role

    coordinator = await make_staff(role=Role.coordinator)
    admin = await make_staff(role=Role.admin, org_slug=coordinator.org_slug)
    steering = await make_staff(role=Role.steering, org_slug=coordinator.org_slug)
    clerk = await make_staff(role=Role.clerk, org_slug=coordinator.org_slug)
    other = await make_staff(role=Role.admin)
    await _send_through_sink(mail_dir, "Einladung Stadt A", coordinator.org_id)
    await _send_through_sink(mail_dir, "Einladung Stadt B", other.org_id)
    for staff in (coordinator, admin):
        listing = await viewer.get("/dev/mail", headers=staff.headers)
        assert listing.status_code == 200
        assert "Einladung Stadt A" in listing.text and "Einladung Stadt B" not in listing.text
        assert 'aria-label="Brotkrumen"' in listing.text
    ids = re.findall(r'href="/dev/mail/([0-9-]+)"', listing.text)
    for staff in (steering, clerk):
        r = await viewer.get("/dev/mail", headers=staff.headers)
        assert r.status_code == 403 and "Einladung Stadt A" not in r.text
        r = await viewer.get(f"/dev/mail/{ids[0]}", headers=staff.headers)
        assert r.status_code == 403 and "persönlicher Link" not in r.text
    r = await viewer.get(f"/dev/mail/{ids[0]}", headers=other.headers)
    assert r.status_code == 404 and "persönlicher Link" not in r.text
