"""Multiplier links to an event (issue 12) through the app: the API (create, list, close,
poster; another organisation's event a 404), the staff page's part (create and close by form,
counts by channel), the participant's `/m/{secret}` with the public form and its refusals,
and the partner's count suppressed below 5."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import pypdf
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select

from api.deps import SESSION_COOKIE
from services.meetings.links import public_token
from services.models.meeting import MeetingRegistration
from services.models.organisation import Role
from services.surveys import multiplier
from tests.api.meetings.test_meetings_api import _event
from tests.support.forms import token_in
from tests.support.multiplier import make_partner
from tests.support.surveys import make_process


def _web(app, staff) -> AsyncClient:  # type: ignore[no-untyped-def]
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver",
                       cookies={SESSION_COOKIE: staff.token})


async def _setup(client, session, make_staff, **event):  # type: ignore[no-untyped-def]
    staff = await make_staff(role=Role.coordinator)
    process = await make_process(session, staff.org_id)
    created = (await _event(client, staff, process.id, **{"capacity": 20, **event})).json()
    partner = await make_partner(session, staff.org_id, group="jugend", tier=2)
    return staff, created, partner


async def _register(client, session, settings, secret, email):  # type: ignore[no-untyped-def]
    """Ask through the link's page and confirm as the mailed link does."""
    form = await client.get(f"/m/{secret}")
    assert form.status_code == 200, form.text
    r = await client.post(f"/m/{secret}", data={"name": "Ada Muster", "email": email,
                                                "companions": "0", "csrf_token": token_in(
                                                    form.text)})
    assert r.status_code == 303, r.text
    found = await multiplier.event_link(session, secret)
    assert found is not None
    reg = (await session.scalars(select(MeetingRegistration).where(
        MeetingRegistration.email == email,
        MeetingRegistration.meeting_id == found[1].id))).one()
    token = public_token(settings.resolved_secret_key(), reg.id)
    confirm = await client.get(f"/anmeldung/{token}/bestaetigen")
    return await client.post(f"/anmeldung/{token}/bestaetigen",
                             data={"csrf_token": token_in(confirm.text)})


async def test_api_create_list_close_poster_and_other_org_404(  # type: ignore[no-untyped-def]
        client, session, make_staff, settings):
    staff, event, partner = await _setup(client, session, make_staff)
    other = await make_staff(role=Role.coordinator)
    base = f"/api/v1/events/{event['id']}/multiplier-links"
    r = await client.post(base, headers=staff.headers, json={
        "partner_id": str(partner.id), "cap": 30,
        "closes_at": (datetime.now(UTC) + timedelta(days=10)).isoformat()})
    assert r.status_code == 201, r.text
    link = r.json()
    assert (link["event_id"], link["survey_id"], link["group"], link["tier"], link["cap"],
            link["answers"], link["status"]) == (event["id"], None, "jugend", 2, 30, 0, "open")
    secret = link["link"].rsplit("/m/", 1)[1]
    assert len(secret) == 16
    listed = await client.get(base, headers=staff.headers)
    assert [x["id"] for x in listed.json()] == [link["id"]]
    # A partner of another organisation, a person: 422 naming the field.
    person = await make_partner(session, staff.org_id, kind="person")
    bad = await client.post(base, headers=staff.headers, json={"partner_id": str(person.id)})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "partner_id"

    # Another organisation: the event does not exist for it.
    for method, path in (("GET", base), ("POST", base), ("GET", f"{base}/{link['id']}"),
                         ("POST", f"{base}/{link['id']}/close")):
        r = await client.request(method, path, headers=other.headers,
                                 json={"partner_id": str(partner.id)})
        assert r.status_code == 404, (method, path, r.text)
    # Nor is a survey's route a way to the event's link.
    r = await client.get(f"/api/v1/surveys/{event['id']}/multiplier-links/{link['id']}",
                         headers=staff.headers)
    assert r.status_code == 404

    pdf = await client.get(f"{base}/{link['id']}/poster.pdf?size=a6", headers=staff.headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Kick-off" in text and secret in text.replace("\n", "")
    assert "Veranstaltung" in text and "Umfrage" not in text

    closed = await client.post(f"{base}/{link['id']}/close", headers=staff.headers)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = await client.post(f"{base}/{link['id']}/close", headers=staff.headers)
    assert again.status_code == 409
    # The closed link refuses with a German page.
    page = await client.get(f"/m/{secret}")
    assert page.status_code == 410 and "keine Anmeldungen mehr" in page.text
    assert '<html lang="de"' in page.text


async def test_link_page_registers_a_non_public_event(client, session, make_staff, settings):  # type: ignore[no-untyped-def]
    staff, event, partner = await _setup(client, session, make_staff, capacity=1)
    assert event["public"] is False
    assert (await client.get(f"/veranstaltungen/{event['id']}/anmeldung")).status_code == 404
    r = await client.post(f"/api/v1/events/{event['id']}/multiplier-links",
                          headers=staff.headers, json={"partner_id": str(partner.id)})
    secret = r.json()["link"].rsplit("/m/", 1)[1]
    form = await client.get(f"/m/{secret}")
    assert form.status_code == 200 and 'name="email"' in form.text
    assert f'action="/m/{secret}?lang=de"' in form.text and "<script" not in form.text
    bad = await client.post(f"/m/{secret}", data={"name": "", "email": "keine-adresse",
                                                  "csrf_token": token_in(form.text)})
    assert bad.status_code == 422 and "error-summary" in bad.text

    r = await _register(client, session, settings, secret, "ada@example.org")
    assert r.status_code == 303
    status = await client.get(r.headers["location"])
    assert "Sie sind angemeldet." in status.text
    # The second one through the link waits: capacity and waitlist as for everyone.
    r = await _register(client, session, settings, secret, "bea@example.org")
    assert "Warteliste" in (await client.get(r.headers["location"])).text
    regs = {x.email: x for x in await session.scalars(select(MeetingRegistration).where(
        MeetingRegistration.meeting_id == uuid.UUID(event["id"])))}
    assert {(x.status, x.channel, x.group_key, x.reach_tier) for x in regs.values()} == {
        ("registered", "multiplier", "jugend", 2), ("waitlisted", "multiplier", "jugend", 2)}
    assert (await client.get(f"/m/{'x' * 16}")).status_code == 404


async def test_staff_page_creates_and_closes_a_link_and_counts_by_channel(  # type: ignore[no-untyped-def]
         app, client, session, make_staff, settings):
    staff, event, partner = await _setup(client, session, make_staff)
    event_url = f"/app/events/{event['id']}"
    async with _web(app, staff) as web:
        page = await web.get(event_url)
        assert page.status_code == 200
        assert 'id="multiplikatoren"' in page.text and "Noch keine Links." in page.text
        csrf = token_in(page.text)
        bad = await web.post(f"{event_url}/multiplikatoren",
                             data={"csrf_token": csrf, "partner": str(partner.id),
                                   "obergrenze": "null"})
        assert bad.status_code == 422 and "Höchstzahl an Anmeldungen" in bad.text
        r = await web.post(f"{event_url}/multiplikatoren",
                           data={"csrf_token": csrf, "partner": str(partner.id),
                                 "obergrenze": "25", "bezeichnung": "Jugendtreff Süd"})
        assert r.status_code == 303, r.text
        page = await web.get(event_url)
        assert "Jugendtreff Süd" in page.text and "0 von höchstens 25" in page.text
        secret = page.text.split("/m/", 1)[1][:16]

    for i in range(2):
        await _register(client, session, settings, secret, f"k{i}@example.org")
    public_form = await client.get(f"/m/{secret}")  # a pending one: asked, not confirmed
    await client.post(f"/m/{secret}", data={"name": "Cem", "email": "cem@example.org",
                                            "csrf_token": token_in(public_form.text)})
    async with _web(app, staff) as web:
        page = await web.get(event_url)
        assert "2 von höchstens 25" in page.text
        assert "Anmeldungen nach Weg" in page.text
        row = page.text.split("Multiplikatoren-Link: Jugendtreff Süd</th>", 1)[1].split(
            "</tr>", 1)[0]
        # registered, people, waitlisted, pending, cancelled
        assert [c.split("</td>")[0] for c in row.split("<td>")[1:]] == ["2", "2", "0", "1",
                                                                         "0"]
        assert "Selbstauskünfte nach Weg:\nweniger als 5" in page.text
        link_id = page.text.split(f"{event_url}/multiplikatoren/", 1)[1][:36]
        for doc in ("plakat.pdf", "flyer.pdf"):
            pdf = await web.get(f"{event_url}/multiplikatoren/{link_id}/{doc}")
            assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        r = await web.post(f"{event_url}/multiplikatoren/{link_id}/schliessen",
                           data={"csrf_token": token_in(page.text)})
        assert r.status_code == 303
        links_page = await web.get(r.headers["location"])
        assert "Der Link ist geschlossen." in links_page.text
        assert "Zurück zur Veranstaltung" in links_page.text
    refused = await client.post(f"/m/{secret}", data={"name": "Dora",
                                                      "email": "dora@example.org"})
    assert refused.status_code == 410 and "keine Anmeldungen mehr" in refused.text


async def test_partner_page_counts_confirmed_registrations_suppressed_below_five(  # type: ignore[no-untyped-def]
         client, session, make_staff, settings):
    staff, event, partner = await _setup(client, session, make_staff)
    r = await client.post(f"/api/v1/events/{event['id']}/multiplier-links",
                          headers=staff.headers, json={"partner_id": str(partner.id)})
    secret = r.json()["link"].rsplit("/m/", 1)[1]
    results = r.json()["results_link"].split("/m/", 1)[1].removesuffix("/ergebnis")
    page = await client.get(f"/m/{results}/ergebnis")
    assert page.status_code == 200 and "<strong>weniger als 5</strong>" in page.text
    assert "Veranstaltung: <strong>Kick-off</strong>" in page.text
    for n in range(1, 6):
        await _register(client, session, settings, secret, f"p{n}@example.org")
        page = await client.get(f"/m/{results}/ergebnis")
        if n < 5:
            assert "<strong>weniger als 5</strong>" in page.text, n
        else:
            assert "<strong>5</strong>" in page.text and "weniger als 5</strong>" not in \
                page.text
            assert "bestätigte Anmeldungen" in page.text
    assert (await client.get(f"/m/{secret}/ergebnis")).status_code == 404
