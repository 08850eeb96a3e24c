"""Rules of the council resolution (no HTTP, no Temporal).

The coordinator edits the working draft and compiles it into immutable, numbered versions
(sections + participation report + rendered documents, with a content hash); the steering
group approves a version under the resolution phase's gate rule; an approved version that is
still the draft can be submitted. What happens at the clerk's office is decided by the
CouncilResolutionWorkflow and written here by its activities (`apply_step`), idempotently.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.ids import process_workflow_id
from contracts.process import ApprovalInput, OpenApprovalInput
from contracts.resolution import (
    COMPLETES_PROCESS,
    ResolutionStep,
    ResolutionWorkflowInput,
    for_documents,
)
from infra.config import get_settings
from services.errors import Conflict, NotFound, ValidationFailed
from services.events.service import record_event
from services.identity.repository import IdentityRepository
from services.identity.service import Principal
from services.models.organisation import Organisation, Role
from services.models.process import Process
from services.models.resolution import ResolutionDraft, ResolutionFile, ResolutionVersion
from services.processes import service as processes
from services.processes.repository import ProcessRepository
from services.resolutions import render
from services.resolutions.report import participation_report
from services.resolutions.repository import ResolutionRepository
from services.resolutions.schemas import (
    DraftOut,
    DraftSections,
    FileOut,
    ReasonSection,
    ResolutionOut,
    VersionOut,
    completeness,
)

# Versions at the clerk's office that are not decided yet.
IN_FLIGHT = ("submitted", "received", "scheduled", "deferred")
FILE_KINDS = {"pdf": ("pdf", render.PDF_MIME), "docx": ("docx", render.DOCX_MIME),
              "report": ("pdf", render.PDF_MIME)}
STEP_EVENT = {"received": "resolution.received", "scheduled": "resolution.scheduled",
              "submitted": "resolution.submitted", "reminder": "resolution.reminder"}
STEP_LABEL = {"submitted": "Beschlussvorlage an den Sitzungsdienst übergeben",
              "received": "Eingang beim Sitzungsdienst bestätigt",
              "scheduled": "Für eine Sitzung vorgesehen",
              "adopted": "Beschlossen", "amended": "Mit Änderungen beschlossen",
              "rejected": "Abgelehnt", "deferred": "Vertagt",
              "reminder": "Erinnerung an den Sitzungsdienst"}


def _now() -> datetime:
    return datetime.now(UTC)


def content_hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def resolution_phase(process: Process) -> dict[str, Any]:
    """The phase that ends in the decision: the template's last phase of kind resolution
    (else its last phase), with its gate (the rule the steering group approves drafts by)."""
    phases = process.template_snapshot.get("phases", [])
    found = [p for p in phases if p.get("kind") == "resolution"] or phases[-1:]
    return found[-1]


def file_url(process_id: uuid.UUID, number: int, ext: str) -> str:
    base = get_settings().public_url.rstrip("/")
    return f"{base}/api/v1/processes/{process_id}/resolution/drafts/{number}.{ext}"


def _default_sections(process: Process) -> DraftSections:
    template_sections = process.template_snapshot.get("draft_sections", [])
    return DraftSections(
        betreff=process.title[:300],
        sachverhalt=[ReasonSection(key=s["key"], title=s["title"], text="")
                     for s in template_sections],
    )


# --- the draft -------------------------------------------------------------------------


async def draft_of(session: AsyncSession, process: Process) -> ResolutionDraft:
    repo = ResolutionRepository.from_session(session)
    draft = await repo.draft(process.id)
    if draft is None:
        await repo.insert_draft({
            "id": uuid.uuid4(), "process_id": process.id,
            "organisation_id": process.organisation_id,
            "sections": _default_sections(process).model_dump(mode="json"), "revision": 0,
            "status": "drafting", "updated_at": _now(), "created_at": _now()})
        draft = await repo.draft(process.id)
    assert draft is not None
    return draft


def parse_sections(data: Any) -> DraftSections:
    """A draft from user input; 422 naming the fields (a second deciding body is refused
    here already; none at all only blocks compiling)."""
    try:
        sections = DraftSections.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("Die Beschlussvorlage ist ungültig.", details=[
            {"field": ".".join(str(p) for p in e["loc"]) or "sections", "message": e["msg"]}
            for e in exc.errors(include_url=False)]) from exc
    if sum(1 for c in sections.beratungsfolge if c.role == "entscheidung") > 1:
        raise ValidationFailed("Nur ein Gremium kann entscheiden.", details=[
            {"field": "beratungsfolge",
             "message": "Die Beratungsfolge braucht genau ein entscheidendes Gremium."}])
    return sections


async def update_draft(session: AsyncSession, process: Process, sections: DraftSections,
                       actor: str) -> ResolutionDraft:
    _require_running(process)
    repo = ResolutionRepository.from_session(session)
    await draft_of(session, process)
    draft = await repo.draft(process.id, lock=True)
    assert draft is not None
    if draft.status == "submitted":
        raise Conflict("Die Vorlage liegt dem Sitzungsdienst vor; sie kann erst nach dessen "
                       "Entscheidung geändert werden.", code="resolution_submitted")
    new = sections.model_dump(mode="json")
    if new != draft.sections:
        await repo.update_draft(draft.id, {"sections": new, "revision": draft.revision + 1,
                                           "updated_by": actor, "updated_at": _now()})
        await session.refresh(draft)
    return draft


def _require_running(process: Process) -> None:
    if process.status != "running":
        raise Conflict("Der Prozess ist abgeschlossen.", code="process_completed")


# --- versions --------------------------------------------------------------------------


async def _content(session: AsyncSession, process: Process, org: Organisation,
                   sections: dict[str, Any], number: int, kind: str, at: datetime,
                   amendments: str | None = None) -> dict[str, Any]:
    local = at.astimezone()
    content: dict[str, Any] = {
        "meta": {"reference": f"BV {at.year}/{process.id.hex[:6].upper()}-{number}",
                 "number": number, "kind": kind, "date": at.date().isoformat(),
                 "date_de": local.strftime("%d.%m.%Y"), "org_name": org.name,
                 "process_title": process.title, "process_id": str(process.id)},
        "sections": sections,
        "report": await participation_report(session, process),
    }
    if amendments:
        content["amendments"] = amendments
    # The sections are checked on input; names and the report come from stored rows.
    return for_documents(content)  # type: ignore[no-any-return]


async def preview_html(session: AsyncSession, process: Process) -> str:
    """The draft as it would be compiled now (nothing stored)."""
    org = await IdentityRepository.from_session(session).org_by_id(process.organisation_id)
    assert org is not None
    draft = await draft_of(session, process)
    repo = ResolutionRepository.from_session(session)
    content = await _content(session, process, org, draft.sections,
                             await repo.next_number(process.id), "draft", _now())
    return render.document_html(content, "(Vorschau, noch nicht erstellt)")


async def _render_files(content: dict[str, Any], digest: str) -> dict[str, bytes]:
    # CPU-bound: off the event loop, so other requests keep being answered meanwhile.
    def work() -> dict[str, bytes]:
        return {"pdf": render.render_pdf(render.document_html(content, digest)),
                "report": render.render_pdf(render.document_html(content, digest,
                                                                 report_only=True)),
                "docx": render.render_docx(content, digest)}

    return await asyncio.to_thread(work)


async def _store_files(repo: ResolutionRepository, version: ResolutionVersion,
                       files: dict[str, bytes], at: datetime) -> None:
    for kind, data in files.items():
        ext, mime = FILE_KINDS[kind]
        stem = "beteiligungsbericht" if kind == "report" else "beschlussvorlage"
        await repo.insert_file({
            "id": uuid.uuid4(), "version_id": version.id, "kind": kind,
            "file_name": f"{stem}-{version.number}.{ext}", "mime_type": mime,
            "size": len(data), "sha512": hashlib.sha512(data).hexdigest(), "data": data,
            "created_at": at})


async def _timeline(session: AsyncSession, process_id: uuid.UUID, key: str, kind: str,
                    actor: str | None, at: datetime, data: dict[str, Any],
                    reason: str | None = None) -> None:
    phase = None
    process = await ProcessRepository.from_session(session).get(process_id)
    if process is not None:
        phase = resolution_phase(process)["key"]
    await ProcessRepository.from_session(session).insert_transition({
        "process_id": process_id, "key": key, "kind": kind, "phase_key": phase,
        "actor": actor, "reason": reason, "data": data, "occurred_at": at})


async def compile_version(session: AsyncSession, process: Process,
                          actor: str) -> ResolutionVersion:
    """Freeze the draft (and the participation report of this moment) into version n+1."""
    _require_running(process)
    repo = ResolutionRepository.from_session(session)
    await draft_of(session, process)
    draft = await repo.draft(process.id, lock=True)
    assert draft is not None
    if draft.status == "submitted":
        raise Conflict("Eine Fassung liegt dem Sitzungsdienst vor.",
                       code="resolution_submitted")
    problems = completeness(DraftSections.model_validate(draft.sections))
    if problems:
        raise ValidationFailed("Die Beschlussvorlage ist noch nicht vollständig.",
                               code="draft_incomplete", details=problems)
    org = await IdentityRepository.from_session(session).org_by_id(process.organisation_id)
    assert org is not None
    at = _now()
    number = await repo.next_number(process.id)
    content = await _content(session, process, org, draft.sections, number, "draft", at)
    digest = content_hash(content)
    version = ResolutionVersion(
        id=uuid.uuid4(), process_id=process.id, organisation_id=process.organisation_id,
        number=number, kind="draft", draft_revision=draft.revision, content=content,
        content_hash=digest, author=actor, created_at=at, modified_at=at, status="compiled")
    repo.add(version)
    await repo.flush()
    await _store_files(repo, version, await _render_files(content, digest), at)
    data = {"resolution_id": str(version.id), "version": number, "content_hash": digest}
    await _timeline(session, process.id, f"resolution:{version.id}:compiled",
                    "resolution_compiled", actor, at, data)
    await record_event(session, organisation_id=process.organisation_id,
                       type="resolution.compiled", process_id=process.id, actor=actor,
                       data=data, dedupe_key=f"resolution:{version.id}:compiled")
    return version


MAX_VERSION = 1_000_000  # far above any real count; beyond it no query (the column is int4)


async def version_of(session: AsyncSession, process: Process, number: int) -> ResolutionVersion:
    version = None
    if 0 < number <= MAX_VERSION:
        version = await ResolutionRepository.from_session(session).version_by_number(
            process.id, number)
    if version is None:
        raise NotFound("Diese Fassung gibt es nicht.", code="version_not_found")
    return version


async def file_of(session: AsyncSession, version: ResolutionVersion,
                  kind: str) -> ResolutionFile:
    f = await ResolutionRepository.from_session(session).file(version.id, kind)
    if f is None:
        raise NotFound("Diese Datei gibt es nicht.", code="file_not_found")
    return f


async def _approval_status(session: AsyncSession, version: ResolutionVersion) -> str | None:
    if version.approval_id is None:
        return None
    approval = await ProcessRepository.from_session(session).approval(version.approval_id)
    return approval.status if approval else None


async def version_out(session: AsyncSession, version: ResolutionVersion, process: Process,
                      draft: ResolutionDraft | None = None) -> VersionOut:
    repo = ResolutionRepository.from_session(session)
    files = await repo.files([version.id])
    return VersionOut(
        id=version.id, process_id=version.process_id, process_title=process.title,
        number=version.number, kind=version.kind, content_hash=version.content_hash,
        author=version.author, created_at=version.created_at, modified_at=version.modified_at,
        status=version.status, approval_id=version.approval_id,
        approval_status=await _approval_status(session, version),
        draft_changed=draft is not None and draft.revision != version.draft_revision,
        submitted_at=version.submitted_at, received_at=version.received_at, body=version.body,
        meeting_date=version.meeting_date, outcome=version.outcome,
        decided_on=version.decided_on, minutes_ref=version.minutes_ref, note=version.note,
        amendments=version.amendments,
        files=[FileOut(kind=f.kind, file_name=f.file_name, mime_type=f.mime_type, size=f.size,
                       sha512=f.sha512,
                       url=file_url(process.id, version.number,
                                    "report.pdf" if f.kind == "report" else f.kind))
               for f in files])


def draft_out(draft: ResolutionDraft) -> DraftOut:
    sections = DraftSections.model_validate(draft.sections)
    return DraftOut(process_id=draft.process_id, sections=sections, revision=draft.revision,
                    status=draft.status, rejection=draft.rejection, updated_by=draft.updated_by,
                    updated_at=draft.updated_at, problems=completeness(sections))


async def submit_blockers(session: AsyncSession, process: Process,
                          version: ResolutionVersion | None,
                          draft: ResolutionDraft) -> list[str]:
    """Why `version` cannot be submitted now (empty: it can). One home for the rule: the
    submit endpoint, the resolution view and the coordinator's page all ask here."""
    if version is None:
        return ["Es gibt noch keine erstellte Fassung."]
    out = []
    versions = await ResolutionRepository.from_session(session).versions(process.id)
    if process.status != "running":
        out.append("Der Prozess ist abgeschlossen.")
    if any(v.status in IN_FLIGHT for v in versions):
        out.append("Eine Fassung liegt dem Sitzungsdienst bereits vor.")
    if version.kind != "draft" or version.status != "compiled":
        out.append("Diese Fassung wurde bereits übergeben.")
    if version.number != max(v.number for v in versions if v.kind == "draft"):
        out.append("Nur die neueste Fassung kann übergeben werden.")
    if draft.revision != version.draft_revision:
        out.append("Die Vorlage wurde nach dem Erstellen dieser Fassung geändert; bitte eine "
                   "neue Fassung erstellen und freigeben lassen.")
    if await _approval_status(session, version) != "approved":
        out.append("Die Steuerungsgruppe hat diese Fassung nicht freigegeben.")
    phase = resolution_phase(process)
    if process.current_phase != phase["key"]:
        out.append(f"Der Prozess ist nicht in der Phase „{phase['title']}“.")
    return out


async def resolution_out(session: AsyncSession, process: Process) -> ResolutionOut:
    draft = await draft_of(session, process)
    versions = await ResolutionRepository.from_session(session).versions(process.id)
    latest = next((v for v in reversed(versions) if v.kind == "draft"), None)
    blockers = await submit_blockers(session, process, latest, draft)
    return ResolutionOut(
        draft=draft_out(draft),
        versions=[await version_out(session, v, process, draft) for v in versions],
        can_submit=not blockers, submit_blockers=blockers)


async def require_not_at_clerk(session: AsyncSession, process: Process,
                               phase_key: str | None) -> None:
    """While a version is at the clerk's office, the Beschlussphase ends with the council's
    decision only: advancing or skipping it (through its own gate) would complete the process
    under the clerk's feet. The process routes and pages ask here before the workflow."""
    if phase_key is None or phase_key != resolution_phase(process)["key"]:
        return
    versions = await ResolutionRepository.from_session(session).versions(process.id)
    if any(v.status in IN_FLIGHT for v in versions):
        raise Conflict("Die Beschlussvorlage liegt dem Sitzungsdienst vor; die Beschlussphase "
                       "endet mit dem Beschluss des Rates.", code="resolution_at_clerk")


# --- approval and submission -----------------------------------------------------------


async def open_version_approval(session: AsyncSession, process: Process,
                                version: ResolutionVersion, actor: str) -> ApprovalInput:
    """Ask the steering group to approve `version` under the resolution phase's gate rule.
    Opens the approval row (with its voters) now, so it can be decided at once; the caller
    commits and starts the ApprovalWorkflow with the returned input."""
    _require_running(process)
    draft = await draft_of(session, process)
    status = await _approval_status(session, version)
    if status in ("pending", "approved"):
        raise Conflict("Für diese Fassung läuft bereits eine Freigabe oder sie ist freigegeben.",
                       code="approval_exists")
    if version.kind != "draft" or version.status != "compiled":
        raise Conflict("Diese Fassung wurde bereits übergeben.", code="resolution_submitted")
    if draft.revision != version.draft_revision:
        raise Conflict("Die Vorlage wurde nach dem Erstellen dieser Fassung geändert; bitte "
                       "zuerst eine neue Fassung erstellen.", code="draft_changed")
    phase = resolution_phase(process)
    gate = phase.get("gate") or {"rule": "all", "deadline_days": 14}
    approval_id = uuid.uuid4()
    deadline = _now() + timedelta(days=int(gate.get("deadline_days") or 14))
    approval = ApprovalInput(
        approval_id=approval_id, process_id=process.id,
        organisation_id=process.organisation_id,
        process_workflow_id=process_workflow_id(process.id), phase_key=phase["key"],
        title=f"Freigabe der Beschlussvorlage, Fassung {version.number}", rule=gate["rule"],
        quorum=gate.get("quorum"), deadline_days=int(gate.get("deadline_days") or 14),
        requested_by=actor, deadline=deadline)
    approval.voters = await processes.open_approval(
        session, OpenApprovalInput(approval=approval, deadline=deadline))
    repo = ResolutionRepository.from_session(session)
    await repo.update_version(version.id, {"approval_id": approval_id, "modified_at": _now()})
    await _timeline(session, process.id, f"resolution:{version.id}:approval:{approval_id}",
                    "resolution_approval_requested", actor, _now(),
                    {"resolution_id": str(version.id), "version": version.number,
                     "approval_id": str(approval_id)})
    return approval


async def submit(session: AsyncSession, process: Process, number: int | None,
                 actor: str) -> tuple[ResolutionVersion, ResolutionWorkflowInput]:
    """Mark the version submitted; the caller commits and starts its workflow (which records
    the delivery, mails the clerks and waits for them)."""
    repo = ResolutionRepository.from_session(session)
    await draft_of(session, process)
    draft = await repo.draft(process.id, lock=True)
    assert draft is not None
    versions = [v for v in await repo.versions(process.id) if v.kind == "draft"]
    if number is None:
        version = versions[-1] if versions else None
    else:
        version = await version_of(session, process, number)
    blockers = await submit_blockers(session, process, version, draft)
    if blockers:
        raise Conflict(blockers[0], code="cannot_submit", details={"reasons": blockers})
    assert version is not None
    at = _now()
    await repo.update_version(version.id, {"status": "submitted", "submitted_at": at,
                                           "submitted_by": actor, "modified_at": at})
    await repo.update_draft(draft.id, {"status": "submitted", "rejection": None})
    org = await IdentityRepository.from_session(session).org_by_id(process.organisation_id)
    phase = resolution_phase(process)
    return version, ResolutionWorkflowInput(
        resolution_id=version.id, process_id=process.id,
        organisation_id=process.organisation_id,
        process_workflow_id=process_workflow_id(process.id), number=version.number,
        title=process.title, phase_key=phase["key"], phase_title=phase["title"],
        time_zone=(org.time_zone if org else None) or "Europe/Berlin",
        ack_reminder_days=get_settings().resolution_ack_reminder_days, submitted_by=actor)


async def undo_submit(session: AsyncSession, version: ResolutionVersion) -> None:
    """The workflow could not be started: the version is not at the clerk's after all."""
    repo = ResolutionRepository.from_session(session)
    await repo.update_version(version.id, {"status": "compiled", "submitted_at": None,
                                           "submitted_by": None})
    draft = await repo.draft(version.process_id)
    if draft is not None:
        await repo.update_draft(draft.id, {"status": "drafting"})


# --- the clerk's side ------------------------------------------------------------------


async def resolution_for(session: AsyncSession, principal: Principal,
                         resolution_id: uuid.UUID,
                         *roles: Role) -> tuple[ResolutionVersion, Process]:
    """A delivered version of the principal's organisation (404 for any other, no leak)."""
    version = await ResolutionRepository.from_session(session).version(resolution_id)
    if version is None or version.status == "compiled":
        raise NotFound("Beschlussvorlage nicht gefunden.", code="resolution_not_found")
    try:
        principal.require(version.organisation_id, *roles)
    except NotFound as exc:
        raise NotFound("Beschlussvorlage nicht gefunden.", code="resolution_not_found") from exc
    process = await ProcessRepository.from_session(session).get(version.process_id)
    assert process is not None
    return version, process


async def inbox(session: AsyncSession, principal: Principal) -> dict[str, list[VersionOut]]:
    """What is new, what waits for a meeting, what is decided (clerk's organisations)."""
    org_ids = [o for o, e in principal.orgs.items() if e.role in (Role.clerk, Role.admin)]
    out: dict[str, list[VersionOut]] = {"new": [], "waiting": [], "decided": []}
    repo = ResolutionRepository.from_session(session)
    processes_repo = ProcessRepository.from_session(session)
    for v in await repo.delivered(org_ids):
        process = await processes_repo.get(v.process_id)
        assert process is not None
        bucket = ("new" if v.status in ("submitted", "received")
                  else "waiting" if v.status in ("scheduled", "deferred") else "decided")
        out[bucket].append(await version_out(session, v, process))
    return out


def allowed_actions(status: str) -> list[str]:
    """The clerk's steps possible in `status` (pages show these and no others; the workflow's
    validators enforce the same order)."""
    return {"submitted": ["received"], "received": ["scheduled"],
            "scheduled": ["scheduled", "outcome"], "deferred": ["outcome"]}.get(status, [])


async def apply_step(session: AsyncSession, step: ResolutionStep) -> int | None:
    """Write one step the workflow decided: the version's row, the timeline, a domain event.
    Idempotent under `step.key`; an amended outcome also creates the final version (once).
    Returns the final version's number, if any."""
    repo = ResolutionRepository.from_session(session)
    version = await repo.version(step.resolution_id, lock=True)
    if version is None:
        raise NotFound("Beschlussvorlage nicht gefunden.", code="resolution_not_found")
    at = step.occurred_at
    values: dict[str, Any] = {"modified_at": at}
    if step.kind != "reminder":
        values["status"] = step.status
    if step.kind == "received":
        values["received_at"] = at
    if step.kind == "scheduled":
        values.update(body=step.body, meeting_date=step.meeting_date)
    o = step.outcome
    if o is not None:
        values.update(outcome=o.outcome, decided_on=o.decided_on, minutes_ref=o.minutes_ref,
                      note=o.note, amendments=o.amendments or None)
        if o.outcome == "deferred":
            values["meeting_date"] = o.meeting_date
    if step.kind != "reminder" and version.status not in ("adopted", "amended", "rejected"):
        await repo.update_version(version.id, values)
    final_number = None
    if o is not None and o.outcome in ("adopted", "amended", "rejected"):
        draft = await repo.draft(version.process_id, lock=True)
        if draft is not None:
            rejection = ({"version": version.number, "reasons": o.note,
                          "decided_on": o.decided_on.isoformat(), "minutes_ref": o.minutes_ref}
                         if o.outcome == "rejected" else None)
            await repo.update_draft(draft.id, {
                "status": "drafting" if o.outcome == "rejected" else "decided",
                "rejection": rejection})
    if o is not None and o.outcome == "amended":
        final_number = await _final_version(session, version, o.amendments, at)
    kind = o.outcome if o is not None else step.kind
    data: dict[str, Any] = {"resolution_id": str(version.id), "version": version.number,
                            "status": step.status, **step.data}
    if step.body:
        data["body"] = step.body
    meeting = step.meeting_date or (o.meeting_date if o else None)
    if meeting:
        data["meeting_date"] = meeting.isoformat()
    if o is not None:
        data.update(outcome=o.outcome, decided_on=o.decided_on.isoformat(),
                    minutes_ref=o.minutes_ref, completes_process=o.outcome in COMPLETES_PROCESS)
        if final_number:
            data["final_version"] = final_number
    if step.kind == "submitted":
        data.update(title=(await _process(session, version)).title,
                    pdf=file_url(version.process_id, version.number, "pdf"),
                    docx=file_url(version.process_id, version.number, "docx"),
                    oparl=file_url(version.process_id, version.number, "oparl.json"),
                    content_hash=version.content_hash)
    await _timeline(session, version.process_id, step.key, f"resolution_{kind}", step.actor,
                    at, data, reason=(o.note or None) if o else None)
    await record_event(session, organisation_id=version.organisation_id,
                       type=STEP_EVENT.get(kind, f"resolution.{kind}"),
                       process_id=version.process_id, actor=step.actor, data=data,
                       dedupe_key=step.key)
    return final_number


async def _process(session: AsyncSession, version: ResolutionVersion) -> Process:
    process = await ProcessRepository.from_session(session).get(version.process_id)
    assert process is not None
    return process


async def _final_version(session: AsyncSession, version: ResolutionVersion, wording: str,
                         at: datetime) -> int:
    """The adopted wording as a version of its own (kind final), created once."""
    repo = ResolutionRepository.from_session(session)
    existing = await repo.final_of(version.id)
    if existing is not None:
        return existing.number
    process = await _process(session, version)
    org = await IdentityRepository.from_session(session).org_by_id(process.organisation_id)
    assert org is not None
    number = await repo.next_number(process.id)
    content = await _content(session, process, org, version.content["sections"], number,
                             "final", at, amendments=wording)
    digest = content_hash(content)
    final = ResolutionVersion(
        id=uuid.uuid4(), process_id=process.id, organisation_id=process.organisation_id,
        number=number, kind="final", based_on=version.id,
        draft_revision=version.draft_revision, content=content, content_hash=digest,
        author=version.author, created_at=at, modified_at=at, status="amended",
        submitted_at=version.submitted_at, received_at=version.received_at, body=version.body,
        meeting_date=version.meeting_date, outcome="amended", amendments=wording)
    repo.add(final)
    await repo.flush()
    await _store_files(repo, final, await _render_files(content, digest), at)
    return number


async def submission_attachment(session: AsyncSession,
                                resolution_id: uuid.UUID) -> tuple[str, str, bytes] | None:
    f = await ResolutionRepository.from_session(session).file(resolution_id, "pdf")
    return (f.file_name, f.mime_type, f.data) if f else None

