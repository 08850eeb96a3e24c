"""DSGVO: export everything held on a person; erasure leaves no personal data of that person
in any table (every text, varchar, array and JSON column is scanned), anonymous aggregates
(group and tier on the invitation) stay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text, update

from services.campaigns import service as campaigns
from services.models.campaign import Invitation, OutboundMail
from services.models.organisation import Role
from services.models.stakeholder import Stakeholder
from services.stakeholders import service as stakeholders
from services.stakeholders.schemas import StakeholderIn
from tests.support.campaigns import add_groups, mail_setup, make_campaign, make_org, send_round


async def _scan(maker, needles: list[str]) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    hits = []
    async with maker() as s:
        columns = (await s.execute(text("""
            SELECT table_name, column_name FROM information_schema.columns
            WHERE table_schema = 'public'
              AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')
        """))).all()
        for table, column in columns:
            for needle in needles:
                found = await s.scalar(text(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE :p'),
                    {"p": f"%{needle}%"})
                if found:
                    hits.append((table, column, needle))
    return hits


async def test_erasure_leaves_no_personal_data_in_any_table(committed_maker, smtp_sink):
    maker = committed_maker
    org_id = await make_org(maker)
    mark = uuid.uuid4().hex[:10]
    name, email = f"Zora Unverwechselbar {mark}", f"zora-{mark}@example.org"
    tag, note, needs = f"geheim{mark}", f"Notiz {mark}", f"Gebärdensprache {mark}"
    await add_groups(maker, org_id, "zivilgesellschaft")
    async with maker() as s:
        verein = await stakeholders.create_stakeholder(s, org_id, StakeholderIn(
            name=f"Verein {mark}x", email=f"verein-{mark}@example.org", kind="organisation",
            group="Zivilgesellschaftliche Gruppen", consent_at=datetime.now(UTC)))
        person = await stakeholders.create_stakeholder(s, org_id, StakeholderIn(
            name=name, email=email, group="Zivilgesellschaftliche Gruppen", reach_tier=3,
            tags=[tag], notes=note, accessibility_needs=needs, parent_id=verein.id,
            consent_at=datetime.now(UTC), consent_method="Formular beim Kick-off"),
            actor="koordination@example.org")
        await s.commit()

    campaign = await make_campaign(maker, org_id, deadline=datetime.now(UTC) + timedelta(days=9))
    async with maker() as s:
        await campaigns.select_audience(s, campaign.id, secret_key="k" * 40, batch_size=50,
                                        started_at=datetime.now(UTC))
        await s.commit()
    setup = mail_setup(maker, smtp_sink.host, smtp_sink.port, max_attempts=3)
    outcome = await send_round(setup, campaign.id)
    assert outcome.sent == 2
    assert any(m.envelope_to == [email] for m in smtp_sink.messages)
    async with maker() as s:
        # An SMTP server's rejection text often repeats the address: it must go too.
        await s.execute(update(OutboundMail).where(OutboundMail.recipient == email)
                        .values(error=f"450 <{email}>: mailbox busy"))
        await s.commit()

    async with maker() as s:
        export = await stakeholders.export_stakeholder(s, org_id, person.id, actor="k@x")
        await s.commit()
    assert export.stakeholder.email == email and export.stakeholder.name == name
    assert export.consent["method"] == "Formular beim Kick-off"
    assert len(export.invitations) == 1 and export.invitations[0]["status"] == "sent"
    assert export.mails[0]["recipient"] == email

    needles = [name, email, tag, note, needs, "Formular beim Kick-off"]
    assert await _scan(maker, needles), "the scan must see the data before erasure"

    async with maker() as s:
        await stakeholders.erase_stakeholder(s, org_id, person.id, actor="k@x")
        await s.commit()

    assert await _scan(maker, needles) == []
    async with maker() as s:
        tomb = (await s.scalars(select(Stakeholder).where(Stakeholder.id == person.id))).one()
        assert tomb.erased_at is not None and tomb.group_key == "zivilgesellschaft"
        invitation = (await s.scalars(select(Invitation).where(
            Invitation.campaign_id == campaign.id, Invitation.reach_tier == 3))).one()
        assert invitation.stakeholder_id is None and invitation.group_key == tomb.group_key
        events = (await s.execute(text(
            "SELECT type, data::text FROM domain_events WHERE organisation_id = :o"),
            {"o": org_id})).all()
        assert ("stakeholder.erased" in {e[0] for e in events})
        # The aggregate still counts her invitation.
        out = await campaigns.campaign_out(s, await campaigns.get_campaign(s, campaign.id))
        assert out.total == 2 and out.sent == 2


async def test_export_and_erase_through_the_api(client, make_staff):
    staff = await make_staff(role=Role.coordinator)
    r = await client.post(f"/api/v1/orgs/{staff.org_slug}/groups", headers=staff.headers,
                          json={"label": "Politik"})
    assert r.status_code == 201 and r.json()["key"] == "politik", r.text
    base = f"/api/v1/orgs/{staff.org_slug}/stakeholders"
    r = await client.post(base, json={"name": "Max Mustermann", "email": "max@example.org",
                                      "group": "politik", "notes": "ruft lieber an",
                                      "consent_at": "2026-02-03T18:00:00+01:00"},
                          headers=staff.headers)
    sid = r.json()["id"]
    r = await client.get(f"{base}/{sid}/export", headers=staff.headers)
    assert r.status_code == 200 and r.json()["stakeholder"]["notes"] == "ruft lieber an"
    steering = await make_staff(role=Role.steering, org_slug=staff.org_slug)
    r = await client.delete(f"{base}/{sid}", headers=steering.headers)
    assert r.status_code == 403
    r = await client.delete(f"{base}/{sid}", headers=staff.headers)
    assert r.status_code == 204
    r = await client.get(f"{base}/{sid}", headers=staff.headers)
    body = r.json()
    assert body["name"] is None and body["email"] is None and body["notes"] is None
    assert body["erased_at"] is not None and body["group"] == "politik"
    r = await client.get(base, headers=staff.headers)
    assert r.json()["total"] == 0  # erased people are not listed
    r = await client.get(f"{base}/{uuid.uuid4()}/export", headers=staff.headers)
    assert r.status_code == 404
