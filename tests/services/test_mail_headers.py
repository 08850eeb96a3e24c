"""Hostile names and addresses in campaign and process mails (issue 8): every header is built
by the email package, a name stays on one line, an IDN domain goes out as punycode, and an
address that cannot be sent fails that one mail for good instead of the whole batch.

The stakeholders go in through the repository, not the API: rows stored before the address
rule existed are exactly what the sender must survive."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from email.header import decode_header, make_header

from sqlalchemy import select, text

from contracts.process import NotifyInput
from infra.mail import MailTransport
from services.campaigns import service as campaigns
from services.models.campaign import Invitation
from services.processes.mails import render as render_process_mail
from tests.support.campaigns import (
    add_stakeholders,
    mail_setup,
    make_campaign,
    make_org,
    send_round,
)

INJECTION = "Mallory\r\nBcc: victim@evil.example"
PHISHING = "Eva\r\n\r\n<html><a href='https://evil.example/login'>Hier anmelden</a></html>"
EMOJIS = "😀" * 200


async def _send(maker, sink, org_id):  # type: ignore[no-untyped-def]
    campaign = await make_campaign(maker, org_id, deadline=datetime.now(UTC) + timedelta(days=5))
    async with maker() as s:
        await campaigns.select_audience(s, campaign.id, secret_key="k" * 40, batch_size=50,
                                        started_at=datetime.now(UTC))
        await s.commit()
    setup = mail_setup(maker, sink.host, sink.port)
    outcome = await send_round(setup, campaign.id)
    return campaign, outcome


def _header_lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


def _raw_header(raw: bytes, name: bytes) -> str:
    """One header's value as on the wire, unfolded."""
    head = raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ").split(b"\r\n")
    return next(line for line in head if line.startswith(name + b": "))[len(name) + 2:].decode()


async def test_hostile_names_and_addresses_in_one_batch(committed_maker, smtp_sink):
    maker = committed_maker
    org_id = await make_org(maker)
    tag = org_id.hex[:8]
    good = {
        "mallory": (INJECTION, f"mallory@{tag}.example"),
        "eva": (PHISHING, f"eva@{tag}.example"),
        "emoji": (EMOJIS, f"emoji@{tag}.example"),
        "idn": ("Jörg Bücher", f"joerg@bücher-{tag}.example"),
    }
    bad = {  # stored before the rule: each must fail alone, with its reason
        "umlaut": ("Jörg", f"jörg@{tag}.example"),
        "fullwidth": ("Voll", f"ｖｏｌｌ@{tag}.example"),
        "rtl": ("Rtl", f"r\u200ftl@{tag}.example"),
    }
    await add_stakeholders(maker, org_id, [{"name": n, "email": e, "group_key": "g"}
                                           for n, e in (*good.values(), *bad.values())])
    campaign, outcome = await _send(maker, smtp_sink, org_id)

    # The batch completes: four sent, three failed for good, nothing left to retry.
    assert (outcome.sent, outcome.failed, outcome.queued) == (4, 3, 0)
    mails = {m.envelope_to[0]: m for m in smtp_sink.messages}
    assert len(smtp_sink.messages) == 4

    # The Bcc name: one recipient, no Bcc header, the name on one line in To:.
    mallory = mails[good["mallory"][1]]
    assert mallory.envelope_to == [good["mallory"][1]]
    assert "Bcc" not in mallory.message
    assert not any(line.lower().startswith(b"bcc:") for line in _header_lines(mallory.raw))
    assert mallory.message["To"].addresses[0].display_name == "Mallory Bcc: victim@evil.example"

    # The blank line and HTML in a name: the mail keeps its own structure, the HTML escaped.
    eva = mails[good["eva"][1]].message
    assert eva.get_content_type() == "multipart/alternative"
    html_part = eva.get_body(("html",))
    assert html_part is not None
    assert "<a href='https://evil.example" not in html_part.get_content()
    assert "&lt;a href=" in html_part.get_content()

    # 200 emoji: delivered, the To header folded into short lines.
    emoji = mails[good["emoji"][1]]
    # decode_header joins adjacent encoded words as RFC 2047 says (the modern parser puts a
    # space between them in a phrase, a CPython quirk, not a property of the mail).
    assert str(make_header(decode_header(_raw_header(emoji.raw, b"To")))) == (
        f"{EMOJIS} <{good['emoji'][1]}>")
    lines = _header_lines(emoji.raw)
    to_at = next(i for i, line in enumerate(lines) if line.startswith(b"To: "))
    to_lines = [lines[to_at], *(line for line in lines[to_at + 1:to_at + 50]
                                if line.startswith(b" "))]
    assert len(to_lines) > 5 and max(len(line) for line in to_lines) <= 78
    assert max(len(line) for line in emoji.raw.split(b"\r\n")) <= 998

    # The IDN domain goes out as punycode, envelope and header alike.
    idn = next(m for m in smtp_sink.messages if m.envelope_to[0].startswith("joerg@"))
    punycode = f"bücher-{tag}".encode("punycode").decode()  # stdlib RFC 3492, not idna
    assert idn.envelope_to == [f"joerg@xn--{punycode}.example"]
    assert idn.message["To"].addresses[0].addr_spec == idn.envelope_to[0]
    assert idn.message["To"].addresses[0].display_name == "Jörg Bücher"

    async with maker() as s:
        ledger = {r[0]: (r[1], r[2]) for r in (await s.execute(text(
            "SELECT recipient, status, error FROM outbound_mails WHERE campaign_id = :c"),
            {"c": campaign.id})).all()}
        invitations = (await s.scalars(select(Invitation).where(
            Invitation.campaign_id == campaign.id))).all()
    for _, address in bad.values():
        status, error = ledger[address]
        assert status == "failed" and error.startswith("Adresse nicht zustellbar"), error
    assert sum(i.status == "sent" for i in invitations) == 4
    assert sum(i.status == "failed" for i in invitations) == 3

    # Running the batch again (a Temporal retry) sends nothing twice and fails nothing anew.
    again = await campaigns.send_batch(
        mail_setup(maker, smtp_sink.host, smtp_sink.port),
        campaign.id, kind="invitation", reminder_no=0, batch_no=0,
        planned_at=datetime.now(UTC), rate=0)
    assert (again.sent, again.failed, again.queued) == (4, 3, 0)
    assert len(smtp_sink.messages) == 4


def test_process_mail_headers_are_single_line_and_punycode():
    notice = NotifyInput(process_id=uuid.uuid4(), organisation_id=uuid.uuid4(),
                         idempotency_key="k", kind="reminder", phase_key="p",
                         phase_title="Phase\r\nBcc: victim@evil.example " + "ü" * 80,
                         planned_end=date(2026, 5, 1), scheduled_for=datetime.now(UTC))
    msg = render_process_mail(notice, to="koordination@bücher.example", process_title="T",
                              mail_from="beteiligung@localhost", org_name="Stadt\nBcc: x@y.de",
                              public_url="http://testserver")
    raw = msg.as_bytes()
    lines = _header_lines(raw)
    assert not any(line.lower().startswith(b"bcc:") for line in lines)
    assert max(len(line) for line in lines) <= 78
    assert msg["To"] == "koordination@xn--bcher-kva.example"


async def test_process_notice_to_an_unsendable_address_fails_alone(committed_maker,
                                                                   make_committed_staff,
                                                                   smtp_sink):
    from activities.process import notify_process
    from infra import mail as infra_mail
    from services.identity.repository import IdentityRepository
    from services.processes.repository import ProcessRepository
    from services.processes.service import create_process

    good = await make_committed_staff()
    tag = uuid.uuid4().hex[:8]
    bad = await make_committed_staff(org_slug=good.org_slug, email=f"jörg-{tag}@example.org")
    async with committed_maker() as s:
        org = await IdentityRepository.from_session(s).org_by_id(good.org_id)
        assert org is not None
        process, _ = await create_process(s, org, template_key="bergkamen-for-all",
                                          title="Bergkamen", starts_on=date(2027, 2, 1),
                                          actor=good.email)
        await s.commit()
    infra_mail.configure(MailTransport(smtp_sink.host, smtp_sink.port))
    notice = NotifyInput(process_id=process.id, organisation_id=good.org_id,
                         idempotency_key=f"reminder:{tag}", kind="reminder", phase_key="p",
                         phase_title="Phase", planned_end=date(2027, 2, 28),
                         scheduled_for=datetime.now(UTC),
                         recipients=[bad.user_id, good.user_id])
    assert await notify_process(notice) == 1
    assert [m.envelope_to for m in smtp_sink.messages] == [[good.email]]
    # A retry of the activity sends nothing again and does not fail either.
    assert await notify_process(notice) == 0
    async with committed_maker() as s:
        rows = {n.recipient: n.status
                for n in await ProcessRepository.from_session(s).notifications(process.id)}
    assert rows == {good.email: "sent", bad.email: "failed"}
