"""The participation report's events (issues 10 and 11): per event of the process its time in
the organisation's zone, place, status, places, waitlist and who was checked in (walk-ins and
companions as at the door), and who came by self-description exactly as the coordinator sees
it (services/meetings/diversity: nothing below 5, complementary suppression); a cancelled
event is listed as cancelled; a process without events says so. Parsed back from the PDF,
the DOCX and the report PDF (the OParl auxiliary file)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

from docx import Document
from pypdf import PdfReader
from sqlalchemy import delete

from services.campaigns.tokens import hash_token, new_token
from services.identity.repository import IdentityRepository
from services.meetings import service as meetings
from services.meetings.schemas import (
    MeetingCreate,
    MeetingUpdate,
    RegistrationIn,
    SelfDescription,
)
from services.models.campaign import Campaign, Invitation
from services.models.meeting import Meeting
from services.models.stakeholder import Stakeholder
from services.processes.service import create_process
from services.resolutions import service
from tests.services.resolutions.test_documents import _date, _file, _flat
from tests.support.resolutions import draft_body

# 17:00 UTC on 4 March 2027 is 18:00 in Europe/Berlin (the organisation's zone, CET).
STARTS = datetime(2027, 3, 4, 17, 0, tzinfo=UTC)


async def _event(session, process, title: str, *, capacity: int):  # type: ignore[no-untyped-def]
    return await meetings.create_meeting(session, process, MeetingCreate(
        phase="kick-off", title=title, starts_at=STARTS, ends_at=STARTS + timedelta(hours=2),
        location="Bürgerhaus, Saal 1", capacity=capacity), actor="koordination@example.org")


async def _links(session, process, meeting, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    campaign = Campaign(
        organisation_id=process.organisation_id, process_id=process.id, kind="event",
        target_id=meeting.id, title=meeting.title, audience={}, reminders=[],
        deadline=STARTS - timedelta(days=1), status="running")
    session.add(campaign)
    await session.flush()
    tokens = []
    for i in range(n):
        token = new_token()
        person = Stakeholder(
            organisation_id=process.organisation_id, kind="person", name=f"Person {i:02d}",
            email=f"p{i:02d}-{uuid.uuid4().hex[:6]}@example.org",
            group_key="engagierte-buergerinnen", reach_tier=1, language="de",
            legal_basis="consent", consent_at=datetime(2026, 11, 1, tzinfo=UTC))
        session.add(person)
        await session.flush()
        session.add(Invitation(
            campaign_id=campaign.id, organisation_id=process.organisation_id,
            stakeholder_id=person.id, token_hash=hash_token(token), status="sent",
            group_key="engagierte-buergerinnen", reach_tier=1, language="de", batch_no=0,
            sent_at=datetime.now(UTC)))
        tokens.append(token)
    await session.flush()
    return tokens


async def _process(session, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff()
    org = await IdentityRepository.from_session(session).org_by_id(staff.org_id)
    assert org is not None
    process, _ = await create_process(session, org, template_key="weiterstadt-vielfaltsstrategie",
                                      title="Weiterstadt WIRkt!", starts_on=_date(),
                                      actor=staff.email)
    # The template's own events (planned, nobody registered) are not what these tests read.
    await session.execute(delete(Meeting).where(Meeting.process_id == process.id))
    return staff, process


async def _texts(session, v):  # type: ignore[no-untyped-def]
    pdf = _flat(" ".join(p.extract_text() for p in PdfReader(
        io.BytesIO(await _file(session, v, "pdf"))).pages))
    report = _flat(" ".join(p.extract_text() for p in PdfReader(
        io.BytesIO(await _file(session, v, "report"))).pages))
    doc = Document(io.BytesIO(await _file(session, v, "docx")))
    docx = "\n".join([p.text for p in doc.paragraphs]
                     + [c.text for t in doc.tables for r in t.rows for c in r.cells])
    return pdf, report, docx


async def test_report_shows_events_attendance_and_who_came(session, make_staff):  # type: ignore[no-untyped-def]
    staff, process = await _process(session, make_staff)
    kickoff = await _event(session, process, "Auftakt mit Anmeldung", capacity=6)
    tokens = await _links(session, process, kickoff, 6)
    # Places: 2 + 1 + 1 + 1 = 5 of 6 registered; the fifth asks for 2 places and waits, the
    # sixth waits behind (nobody jumps the line). Six self-descriptions: every age 27–44
    # (shown: 6); five women and one diverse person (the 1 is hidden, and the 5 too, or
    # 6 - 5 would give it back).
    companions = [1, 0, 0, 0, 1, 0]
    genders = ["weiblich"] * 5 + ["divers"]
    out = []
    for token, comp, gender in zip(tokens, companions, genders, strict=True):
        out.append(await meetings.register_by_token(session, token, RegistrationIn(
            attending=True, companions=comp, self_description=SelfDescription(
                age_band="27_44", gender=gender))))
    assert [o.status for o in out] == ["registered"] * 4 + ["waitlisted"] * 2
    # At the door: the first (with companion) by code, the second from the list, a walk-in.
    await meetings.check_in_code(session, kickoff.id, out[0].checkin_code or "", actor=staff.email)
    await meetings.check_in_registration(session, kickoff.id, out[1].id, actor=staff.email)
    await meetings.add_walk_in(session, kickoff.id, name="Gast Ohne Anmeldung",
                               actor=staff.email)

    # A second event with two self-descriptions only: nothing of them is shown.
    small = await _event(session, process, "Werkstatt klein", capacity=0)
    for token in await _links(session, process, small, 2):
        await meetings.register_by_token(session, token, RegistrationIn(
            attending=True, self_description=SelfDescription(age_band="65_plus",
                                                             gender="maennlich")))
    # A cancelled one.
    gone = await _event(session, process, "Bergfest abgesagt", capacity=0)
    await meetings.update_meeting(session, gone.id, MeetingUpdate(status="cancelled"),
                                  actor=staff.email)

    await service.update_draft(session, process, service.parse_sections(draft_body()),
                               staff.email)
    v = await service.compile_version(session, process, staff.email)
    events = {e["title"]: e for e in v.content["report"]["events"]}
    assert set(events) == {"Auftakt mit Anmeldung", "Werkstatt klein", "Bergfest abgesagt"}
    k = events["Auftakt mit Anmeldung"]
    assert (k["capacity"], k["registrations"], k["places_taken"], k["waitlisted"]) == (6, 5, 6, 2)
    assert (k["attended"], k["attended_walk_ins"], k["attended_companions"]) == (4, 1, 1)
    # The coordinator's own figures, not a second computation.
    seen = await meetings.diversity(session, meeting_id=kickoff.id)
    assert k["diversity"]["total"] == seen.total == 6
    assert [[(c["value"], c["count"]) for c in d["counts"]]
            for d in k["diversity"]["dimensions"]] == [
        [(c.value, c.count) for c in d.counts] for d in seen.dimensions]
    dims = {d["dimension"]: {c["value"]: c["count"] for c in d["counts"]}
            for d in k["diversity"]["dimensions"]}
    assert dims["age_band"] == {"27_44": 6}
    assert dims["gender"] == {"divers": None, "weiblich": None}

    pdf, report, docx = await _texts(session, v)
    for text in (pdf, report, _flat(docx)):
        assert "Auftakt mit Anmeldung" in text
        assert "4. März 2027, 18:00 – 20:00 Uhr" in text
        assert "Bürgerhaus, Saal 1" in text
        assert "Status ausgebucht" in text or "Status\nausgebucht" in text
        assert "5 Anmeldungen mit 6 Personen (einschließlich Begleitpersonen)" in text
        assert "2 Anmeldungen" in text
        assert "4 Personen (davon ohne Anmeldung: 1; Begleitpersonen: 1)" in text
        assert "6 Selbstauskünfte" in text
        assert "27–44 6" in text or "27–44\n6" in text
        assert "weiblich unterdrückt" in text and "divers unterdrückt" in text
        assert "weniger als 5 Selbstauskünfte, keine Auswertung" in text
        assert "65 und älter" not in text  # the small event's answers are not listed
        assert "Bergfest abgesagt" in text and "abgesagt" in text
        assert "Dieser Prozess hat keine Veranstaltungen." not in text
    # Events in time order (then by title); the cancelled one carries no figures.
    gone_at = pdf.index("Bergfest abgesagt")
    assert pdf.index("Auftakt mit Anmeldung") < gone_at < pdf.index("Werkstatt klein")
    cancelled = pdf[gone_at:pdf.index("Werkstatt klein")]
    assert "Status abgesagt" in cancelled
    assert "Plätze" not in cancelled and "Selbstauskunft" not in cancelled
    w = events["Werkstatt klein"]
    assert (w["registrations"], w["places_taken"], w["waitlisted"], w["attended"]) == (2, 2, 0, 0)
    assert w["diversity"]["total"] is None


async def test_report_without_events_says_so(session, make_staff):  # type: ignore[no-untyped-def]
    staff, process = await _process(session, make_staff)
    await service.update_draft(session, process, service.parse_sections(draft_body()),
                               staff.email)
    v = await service.compile_version(session, process, staff.email)
    assert v.content["report"]["events"] == []
    for text in await _texts(session, v):
        assert "Dieser Prozess hat keine Veranstaltungen." in _flat(text)
