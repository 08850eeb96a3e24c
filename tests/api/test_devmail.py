"""The mail viewer of the embedded stack: off unless enabled, staff only, HTML kept harmless."""

from __future__ import annotations

import re
from email.message import EmailMessage

import aiosmtplib
import pytest
from httpx import ASGITransport, AsyncClient

from api.app import create_app
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


async def _send_through_sink(mail_dir, subject: str) -> None:
    sink = MailSink(directory=mail_dir, keep_in_memory=False).start()
    try:
        msg = EmailMessage()
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
    await _send_through_sink(mail_dir, "Einladung <Umfrage> Vielfalt")
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
