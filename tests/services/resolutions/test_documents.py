"""The documents of a version, parsed back: PDF (pypdf) and DOCX (python-docx) carry the title,
every section, the participation figures (suppressed below 5 as on the results page), the
radar chart with its text alternative, and injected markup as visible text; the PDF declares
PDF/UA-1, is tagged (structure tree) and has its language."""

from __future__ import annotations

import io
import re

import pytest
from docx import Document
from pypdf import PdfReader

from services.identity.repository import IdentityRepository
from services.processes.service import create_process
from services.resolutions import service
from services.resolutions.repository import ResolutionRepository
from services.surveys.repository import SurveyRepository
from services.surveys.service import submit
from tests.support.resolutions import draft_body
from tests.support.surveys import make_campaign, make_invites, make_survey

INJECTED = '<script>alert("x")</script><b>fett</b>'
SECTIONS = ["Betreff", "Beschlussvorschlag", "Sachverhalt / Begründung",
            "Finanzielle Auswirkungen", "Beratungsfolge", "Federführung", "Anlagen",
            "Beteiligungsbericht", "Phasen", "Checklisten",
            "Eingeladen und beteiligt nach Gruppe und Erreichbarkeit", "Umfragen",
            "Freigaben der Steuerungsgruppe"]


@pytest.fixture
async def version(session, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff()
    org = await IdentityRepository.from_session(session).org_by_id(staff.org_id)
    assert org is not None
    process, _ = await create_process(session, org, template_key="weiterstadt-vielfaltsstrategie",
                                      title="Weiterstadt WIRkt!", starts_on=_date(),
                                      actor=staff.email)
    survey = await make_survey(session, process, from_template="weltoffene-kommune-selbstcheck",
                               phase="kick-off")
    questions = await SurveyRepository.from_session(session).questions(survey.id)
    likert = [q.key for q in questions if q.kind == "likert"]
    campaign = await make_campaign(session, survey)
    # Seven citizens answer (shown); two of the administration answer (fewer than 5:
    # suppressed, and the complement that would give them back too); four young people none.
    for group, n, tier in (("engagierte-buergerinnen", 7, 1), ("verwaltung", 2, 2)):
        for i, inv in enumerate(await make_invites(session, campaign, n, group=group,
                                                   tier=tier)):
            await submit(session, inv.token, {k: (i % 5) + 1 for k in likert})
    await make_invites(session, campaign, 4, group="politik", tier=3)
    sections = service.parse_sections(draft_body(
        betreff=f"Strategie {INJECTED}",
        sachverhalt=[{"key": "leitlinien", "title": "Leitlinien – konzeptioneller Rahmen",
                      "text": f"Text mit {INJECTED}"}]))
    await service.update_draft(session, process, sections, staff.email)
    v = await service.compile_version(session, process, staff.email)
    return process, v


def _date():  # type: ignore[no-untyped-def]
    from datetime import date

    return date(2027, 2, 1)


async def _file(session, v, kind: str) -> bytes:  # type: ignore[no-untyped-def]
    f = await ResolutionRepository.from_session(session).file(v.id, kind)
    assert f is not None
    return f.data  # type: ignore[no-any-return]


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


async def test_pdf_is_pdf_ua_with_all_content(session, version):  # type: ignore[no-untyped-def]
    process, v = version
    data = await _file(session, v, "pdf")
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "de"
    assert "/StructTreeRoot" in root and bool(root["/MarkInfo"]["/Marked"])
    xmp = reader.xmp_metadata.stream.get_data().decode()  # type: ignore[union-attr]
    assert 'pdfuaid:part="1"' in xmp
    title = reader.metadata.title  # type: ignore[union-attr]
    assert title.startswith("Beschlussvorlage BV ") and "Strategie" in title
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    text = _flat(" ".join(p.extract_text() for p in reader.pages))
    for heading in SECTIONS:
        assert heading in text, heading
    outline = [o["/Title"] for o in _walk(reader.outline)]
    assert {"Betreff", "Beschlussvorschlag", "Beteiligungsbericht"} <= set(outline)
    # Injected markup is text, not markup.
    assert '<script>alert("x")</script><b>fett</b>' in text
    # Participation figures: 7 of 7 citizens; the administration's 2 suppressed.
    assert "7 von 7 (100 %)" in text
    assert "unterdrückt" in text
    assert "Die Strategie wird beschlossen." in text and "Sozialausschuss" in text
    # The radar chart is a tagged figure with its text alternative.
    alts = _alts(root["/StructTreeRoot"])
    assert any(a.startswith("Netzdiagramm der Punktzahl je Handlungsfeld") for a in alts), alts
    assert any("Kommunikation und Konfliktmanagement" in a for a in alts)


def _walk(items):  # type: ignore[no-untyped-def]
    for o in items:
        if isinstance(o, list):
            yield from _walk(o)
        else:
            yield o


def _alts(node, seen=None):  # type: ignore[no-untyped-def]
    seen = seen if seen is not None else set()
    out = []
    obj = node.get_object() if hasattr(node, "get_object") else node
    if id(obj) in seen:
        return out
    seen.add(id(obj))
    if isinstance(obj, dict):
        if "/Alt" in obj:
            out.append(str(obj["/Alt"]))
        kids = obj.get("/K")
        if kids is not None:
            for k in kids if isinstance(kids, list) else [kids]:
                if hasattr(k, "get_object") or isinstance(k, dict | list):
                    out.extend(_alts(k, seen))
    elif isinstance(obj, list):
        for k in obj:
            out.extend(_alts(k, seen))
    return out


async def test_docx_has_headings_and_the_same_content(session, version):  # type: ignore[no-untyped-def]
    process, v = version
    doc = Document(io.BytesIO(await _file(session, v, "docx")))
    assert doc.core_properties.title.startswith("Beschlussvorlage BV ")
    assert doc.core_properties.language == "de-DE"
    headings = {p.text: p.style.name for p in doc.paragraphs
                if p.style.name.startswith("Heading") or p.style.name == "Title"}
    for heading in SECTIONS:
        assert heading in headings, heading
        assert headings[heading] in ("Heading 1", "Heading 2"), (heading, headings[heading])
    body = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    assert f"Strategie {INJECTED}" in body and f"Text mit {INJECTED}" in body
    assert "7 von 7 (100 %)" in cells and "unterdrückt" in cells
    assert "Sozialausschuss" in cells and "Entscheidung" in cells
    pictures = doc.inline_shapes
    assert len(pictures) == 1
    descr = pictures[0]._inline.docPr.get("descr")
    assert descr.startswith("Netzdiagramm der Punktzahl je Handlungsfeld")


async def test_html_escapes_and_matches(session, version):  # type: ignore[no-untyped-def]
    process, v = version
    from services.resolutions.render import document_html

    html = document_html(v.content, v.content_hash)
    assert INJECTED not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;fett&lt;/b&gt;" in html
    assert '<html lang="de">' in html
    # The version is immutable: its hash is the content's.
    assert service.content_hash(v.content) == v.content_hash
    preview = await service.preview_html(session, process)
    assert "&lt;script&gt;" in preview and "<script>alert" not in preview


async def test_stored_text_a_document_cannot_hold_is_dropped_not_a_500(session, make_staff):  # type: ignore[no-untyped-def]
    """A steering comment is stored as given (only NUL is refused at the edge); when it goes
    into the report, what XML cannot carry is left out instead of failing the compile."""
    import uuid
    from datetime import UTC, datetime, timedelta

    from contracts.process import ApprovalInput, OpenApprovalInput, RecordVoteInput, Vote
    from services.processes import service as processes

    staff = await make_staff()
    org = await IdentityRepository.from_session(session).org_by_id(staff.org_id)
    assert org is not None
    process, _ = await create_process(session, org, template_key="weiterstadt-vielfaltsstrategie",
                                      title="Weiterstadt WIRkt!", starts_on=_date(),
                                      actor=staff.email)
    approval = ApprovalInput(approval_id=uuid.uuid4(), process_id=process.id,
                             organisation_id=org.id, process_workflow_id="p", phase_key="planung",
                             title="Freigabe", rule="any")
    deadline = datetime.now(UTC) + timedelta(days=14)
    await processes.open_approval(session, OpenApprovalInput(approval=approval,
                                                             deadline=deadline))
    await processes.record_vote(session, RecordVoteInput(
        approval_id=approval.approval_id, process_id=process.id, organisation_id=org.id,
        phase_key="planung", vote=Vote(user_id=staff.user_id, email=staff.email,
                                       decision="reject", comment="Farbe\x1b[31m rot\x0b!")))
    await service.update_draft(session, process, service.parse_sections(draft_body()),
                               staff.email)
    v = await service.compile_version(session, process, staff.email)
    doc = Document(io.BytesIO(await _file(session, v, "docx")))
    cells = "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    assert "Farbe[31m rot!" in cells
    text = " ".join(p.extract_text() for p in PdfReader(
        io.BytesIO(await _file(session, v, "pdf"))).pages)
    assert "Farbe[31m rot!" in _flat(text)
