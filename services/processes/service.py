"""Rules of processes and gate approvals (no HTTP, no Temporal).

The API calls the read functions and `create_process`; the activities call the `apply_*`,
`open_approval`, `record_vote`, `close_approval` and notification functions, which write what
the workflows decided, idempotently.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.ids import process_workflow_id
from contracts.process import (
    CloseApprovalInput,
    OpenApprovalInput,
    PersistProcessInput,
    PhaseState,
    ProcessState,
    ProcessWorkflowInput,
    RecordVoteInput,
)
from services.errors import Conflict, NotFound, ValidationFailed
from services.events.service import record_event
from services.identity.repository import IdentityRepository
from services.identity.service import Principal
from services.meetings.service import create_from_template as create_template_meetings
from services.models.organisation import Organisation, Role, User
from services.models.process import Approval, Process, ProcessPhase
from services.processes.repository import ProcessRepository
from services.processes.schemas import (
    ApprovalOut,
    ChecklistItemOut,
    PhaseOut,
    ProcessOut,
    ProcessSummary,
    TransitionOut,
    VoteOut,
)
from services.processes.templates import build_phases
from services.stakeholders.service import seed_template_groups
from services.template_store.service import resolve_process_template

# --- starting and reading processes ----------------------------------------------------


async def create_process(
    session: AsyncSession, org: Organisation, *, template_key: str, title: str,
    starts_on: date, actor: str | None, process_id: uuid.UUID | None = None,
) -> tuple[Process, ProcessWorkflowInput]:
    """Create the process rows (phases and checklist from the template snapshot) and the input
    of its workflow. The caller commits and then starts the workflow."""
    try:
        # The organisation's own newest version, a platform-shared one, or the shipped one;
        # the process keeps a copy (template_snapshot), so a later version never changes it.
        template = await resolve_process_template(session, org.id, template_key)
    except NotFound as exc:
        raise ValidationFailed("Unbekannte Prozessvorlage.", code="unknown_template",
                               details=[{"field": "template", "message": exc.message}]) from exc
    if not title.strip():
        raise ValidationFailed("Bitte einen Titel angeben.",
                               details=[{"field": "title", "message": "Pflichtfeld"}])
    phases = build_phases(template, starts_on)
    process = Process(
        id=process_id or uuid.uuid4(), organisation_id=org.id, template_key=template.key,
        template_version=template.version, title=title.strip(), starts_on=starts_on,
        status="running", current_phase=phases[0].key,
        template_snapshot=template.model_dump(mode="json"), created_by=actor, state_seq=0,
    )
    process.workflow_id = process_workflow_id(process.id)
    repo = ProcessRepository.from_session(session)
    repo.add(process)
    await repo.flush()
    await repo.upsert_phases([_phase_row(process.id, i, p) for i, p in enumerate(phases)])
    await repo.upsert_checklist(_checklist_rows(process.id, phases))
    # The events the template names (`events:`), planned on their phase's first day.
    await create_template_meetings(
        session, process, org.time_zone or "Europe/Berlin",
        [(e.key, e.title, e.phase, e.description) for e in template.events],
        {p.key: p.planned_start for p in phases})
    # The template's groups become the organisation's known groups: imports and campaign
    # audiences are checked against them.
    await seed_template_groups(session, org.id,
                               [(g.key, g.title) for g in template.stakeholder_groups])
    await record_event(session, organisation_id=org.id, type="process.created",
                       process_id=process.id, actor=actor,
                       data={"template": template.key, "version": template.version,
                             "title": process.title, "starts_on": starts_on.isoformat()})
    state = ProcessState(process_id=process.id, organisation_id=org.id, title=process.title,
                         time_zone=org.time_zone or "Europe/Berlin", phases=phases)
    return process, ProcessWorkflowInput(state=state)


async def discard_unstarted(session: AsyncSession, process: Process) -> None:
    """Remove a process whose workflow could not be started (nothing else refers to it)."""
    await session.delete(process)
    await session.flush()


async def process_for(session: AsyncSession, principal: Principal, process_id: uuid.UUID,
                      *roles: Role) -> Process:
    """The process if the principal's organisation owns it (404 otherwise, no leak)."""
    process = await ProcessRepository.from_session(session).get(process_id)
    if process is None:
        raise NotFound("Prozess nicht gefunden.", code="process_not_found")
    try:
        principal.require(process.organisation_id, *roles)
    except NotFound as exc:
        raise NotFound("Prozess nicht gefunden.", code="process_not_found") from exc
    return process


async def list_processes(session: AsyncSession, org_ids: list[uuid.UUID]) -> list[ProcessSummary]:
    rows = await ProcessRepository.from_session(session).list_for_orgs(org_ids)
    return [ProcessSummary(id=p.id, title=p.title, template=p.template_key, status=p.status,
                           current_phase=p.current_phase, starts_on=p.starts_on) for p in rows]


async def process_out(session: AsyncSession, process: Process) -> ProcessOut:
    repo = ProcessRepository.from_session(session)
    phases = await repo.phases(process.id)
    items = await repo.checklist(process.id)
    by_phase: dict[str, list[ChecklistItemOut]] = {}
    for i in items:
        by_phase.setdefault(i.phase_key, []).append(ChecklistItemOut(
            key=i.key, title=i.title, done=i.done, done_at=i.done_at, done_by=i.done_by))
    return ProcessOut(
        id=process.id, organisation_id=process.organisation_id, template=process.template_key,
        template_version=process.template_version, title=process.title,
        starts_on=process.starts_on, status=process.status, current_phase=process.current_phase,
        created_at=process.created_at, completed_at=process.completed_at,
        phases=[PhaseOut(key=p.key, title=p.title, kind=p.kind, status=p.status,
                         planned_start=p.planned_start, planned_end=p.planned_end,
                         actual_start=p.actual_start, actual_end=p.actual_end, gate=p.gate,
                         skip_reason=p.skip_reason, override_reason=p.override_reason,
                         checklist=by_phase.get(p.key, [])) for p in phases],
    )


async def timeline(session: AsyncSession, process: Process) -> list[TransitionOut]:
    rows = await ProcessRepository.from_session(session).transitions(process.id)
    return [TransitionOut(seq=t.seq, kind=t.kind, phase_key=t.phase_key, from_phase=t.from_phase,
                          to_phase=t.to_phase, actor=t.actor, reason=t.reason, data=t.data,
                          occurred_at=t.occurred_at) for t in rows]


# --- written by activities -------------------------------------------------------------


def _phase_row(process_id: uuid.UUID, position: int, p: PhaseState) -> dict[str, Any]:
    gate = None
    if p.gate is not None:
        gate = p.gate.model_dump(mode="json") | {
            "approval_id": str(p.approval_id) if p.approval_id else None,
            "approval_status": p.approval_status,
            "approval_reasons": p.approval_reasons,
        }
    return {
        "id": uuid.uuid4(), "process_id": process_id, "key": p.key, "position": position,
        "title": p.title, "kind": p.kind, "status": p.status,
        "planned_start": p.planned_start, "planned_end": p.planned_end,
        "actual_start": p.actual_start, "actual_end": p.actual_end, "gate": gate,
        "skip_reason": p.skip_reason, "override_reason": p.override_reason,
    }


def _checklist_rows(process_id: uuid.UUID, phases: list[PhaseState]) -> list[dict[str, Any]]:
    return [
        {"id": uuid.uuid4(), "process_id": process_id, "phase_key": p.key, "key": i.key,
         "position": n, "title": i.title, "done": i.done, "done_at": i.done_at,
         "done_by": i.done_by}
        for p in phases for n, i in enumerate(p.checklist)
    ]


class ProcessRowMissing(RuntimeError):
    """The process row is not committed yet (the starter commits before it starts the
    workflow, but a seed may start first): a retry will find it."""


async def apply_snapshot(session: AsyncSession, data: PersistProcessInput) -> bool:
    """Write one transition and, unless a newer one is already stored, the state it led to.
    Returns whether the transition was new."""
    s, t = data.state, data.transition
    repo = ProcessRepository.from_session(session)
    values: dict[str, Any] = {"status": s.status, "current_phase": s.current_phase}
    if s.status == "completed":
        values["completed_at"] = t.occurred_at
    claimed = await repo.claim_snapshot(s.process_id, s.seq, values)
    if not claimed and not await repo.exists(s.process_id):
        raise ProcessRowMissing(str(s.process_id))
    if claimed:
        touched = set(data.touched) if data.touched is not None else {p.key for p in s.phases}
        changed = [(i, p) for i, p in enumerate(s.phases) if p.key in touched]
        await repo.upsert_phases([_phase_row(s.process_id, i, p) for i, p in changed])
        await repo.upsert_checklist(_checklist_rows(s.process_id, [p for _, p in changed]))
    new = await repo.insert_transition({
        "process_id": s.process_id, "key": t.key, "kind": t.kind, "phase_key": t.phase_key,
        "from_phase": t.from_phase, "to_phase": t.to_phase, "actor": t.actor, "reason": t.reason,
        "data": t.data, "occurred_at": t.occurred_at,
    })
    await record_event(
        session, organisation_id=s.organisation_id, type=f"process.{t.kind}",
        process_id=s.process_id, actor=t.actor,
        data={"phase": t.phase_key, "from": t.from_phase, "to": t.to_phase, "reason": t.reason,
              **t.data},
        dedupe_key=f"process:{s.process_id}:{t.key}",
    )
    return new


async def open_approval(session: AsyncSession, data: OpenApprovalInput) -> list[uuid.UUID]:
    """Create the approval row with the steering members of this moment as its voters.
    A retry returns the voters stored the first time."""
    a = data.approval
    repo = ProcessRepository.from_session(session)
    existing = await repo.approval(a.approval_id)
    if existing is None:
        members = await IdentityRepository.from_session(session).members_with_role(
            a.organisation_id, Role.steering.value)
        await repo.insert_approval({
            "id": a.approval_id, "process_id": a.process_id, "organisation_id": a.organisation_id,
            "phase_key": a.phase_key, "title": a.title, "rule": a.rule, "quorum": a.quorum,
            "voters": [str(m.id) for m in members], "deadline": data.deadline,
            "status": "pending", "reasons": [],
        })
        await record_event(
            session, organisation_id=a.organisation_id, type="approval.requested",
            process_id=a.process_id, actor=a.requested_by,
            data={"approval_id": str(a.approval_id), "phase": a.phase_key, "rule": a.rule,
                  "voters": len(members)},
            dedupe_key=f"approval:{a.approval_id}:requested")
        existing = await repo.approval(a.approval_id)
    assert existing is not None
    return [uuid.UUID(v) for v in existing.voters]


async def record_vote(session: AsyncSession, data: RecordVoteInput) -> None:
    repo = ProcessRepository.from_session(session)
    v = data.vote
    decided_at = v.decided_at or datetime.now().astimezone()
    await repo.insert_vote({"id": uuid.uuid4(), "approval_id": data.approval_id,
                            "user_id": v.user_id, "email": v.email, "decision": v.decision,
                            "comment": v.comment, "decided_at": decided_at})
    key = f"approval:{data.approval_id}:vote:{v.user_id}"
    await repo.insert_transition({
        "process_id": data.process_id, "key": key, "kind": "vote", "phase_key": data.phase_key,
        "actor": v.email, "reason": v.comment or None,
        "data": {"approval_id": str(data.approval_id), "decision": v.decision},
        "occurred_at": decided_at,
    })
    await record_event(session, organisation_id=data.organisation_id, type="approval.vote",
                       process_id=data.process_id, actor=v.email,
                       data={"approval_id": str(data.approval_id), "decision": v.decision,
                             "comment": v.comment}, dedupe_key=key)


async def close_approval(session: AsyncSession, data: CloseApprovalInput) -> None:
    await ProcessRepository.from_session(session).close_approval(data.approval_id, {
        "status": data.status, "reasons": data.reasons, "decided_at": data.decided_at,
        "escalated_at": data.escalated_at})
    await record_event(session, organisation_id=data.organisation_id,
                       type=f"approval.{data.status}", process_id=data.process_id,
                       data={"approval_id": str(data.approval_id), "phase": data.phase_key,
                             "reasons": data.reasons},
                       dedupe_key=f"approval:{data.approval_id}:closed")


async def recipients(session: AsyncSession, org_id: uuid.UUID,
                     user_ids: list[uuid.UUID] | None, role: str = "coordinator") -> list[User]:
    identity = IdentityRepository.from_session(session)
    if user_ids is None:
        return await identity.members_with_role(org_id, Role(role).value)
    users = [await identity.user_by_id(u) for u in user_ids]
    return [u for u in users if u is not None and u.is_active]


# --- approvals for people --------------------------------------------------------------


async def _approval_out(session: AsyncSession, approval: Approval, process: Process,
                        principal: Principal | None) -> ApprovalOut:
    repo = ProcessRepository.from_session(session)
    votes = await repo.votes(approval.id)
    voters = [uuid.UUID(v) for v in approval.voters]
    can_vote = (principal is not None and approval.status == "pending"
                and principal.user_id in voters
                and all(v.user_id != principal.user_id for v in votes))
    return ApprovalOut(
        id=approval.id, process_id=approval.process_id, process_title=process.title,
        phase_key=approval.phase_key, title=approval.title, rule=approval.rule,
        quorum=approval.quorum, status=approval.status, deadline=approval.deadline,
        voters=voters,
        votes=[VoteOut(email=v.email, decision=v.decision, comment=v.comment,
                       decided_at=v.decided_at) for v in votes],
        reasons=list(approval.reasons or []), escalated_at=approval.escalated_at,
        decided_at=approval.decided_at, can_vote=can_vote)


async def approval_for(session: AsyncSession, principal: Principal,
                       approval_id: uuid.UUID) -> tuple[Approval, ApprovalOut]:
    repo = ProcessRepository.from_session(session)
    approval = await repo.approval(approval_id)
    if approval is None or approval.organisation_id not in principal.orgs:
        raise NotFound("Freigabe nicht gefunden.", code="approval_not_found")
    process = await repo.get(approval.process_id)
    assert process is not None
    return approval, await _approval_out(session, approval, process, principal)


@dataclass(frozen=True)
class ApprovalContext:
    """What a steering member decides on: the phase (its checklist as it stands), who asked
    and why, and the organisation's time zone for the deadline."""

    phase: PhaseOut | None
    requested_by: str | None
    reason: str | None
    time_zone: str


async def approval_context(session: AsyncSession, approval: Approval) -> ApprovalContext:
    repo = ProcessRepository.from_session(session)
    process = await repo.get(approval.process_id)
    assert process is not None
    out = await process_out(session, process)
    phase = next((p for p in out.phases if p.key == approval.phase_key), None)
    # The coordinator's request is the transition that opened this very approval.
    request = next((t for t in reversed(await timeline(session, process))
                    if t.kind == "approval_requested"
                    and t.data.get("approval_id") == str(approval.id)), None)
    org = await IdentityRepository.from_session(session).org_by_id(approval.organisation_id)
    return ApprovalContext(
        phase=phase, requested_by=request.actor if request else None,
        reason=(request.reason if request else None) or (phase.override_reason if phase
                                                         else None),
        time_zone=(org.time_zone if org else None) or "Europe/Berlin")


def require_voter(principal: Principal, approval: Approval) -> None:
    """Only the steering members asked when the gate opened decide (an admin or a member who
    joined later is not on the list): checked here too, before the workflow is asked, with the
    workflow's answer for it (409 not_a_voter, services/processes/errors.py)."""
    principal.require(approval.organisation_id, Role.steering)
    if str(principal.user_id) not in approval.voters:
        raise Conflict("Sie sind für diese Freigabe nicht stimmberechtigt.", code="not_a_voter")


async def approvals_waiting_for(session: AsyncSession, principal: Principal) -> list[ApprovalOut]:
    repo = ProcessRepository.from_session(session)
    out = []
    for a in await repo.pending_approvals_for(principal.user_id, principal.organisation_ids):
        process = await repo.get(a.process_id)
        assert process is not None
        item = await _approval_out(session, a, process, principal)
        if item.can_vote:
            out.append(item)
    return out


async def approvals_of_process(session: AsyncSession, process: Process,
                               principal: Principal) -> list[ApprovalOut]:
    repo = ProcessRepository.from_session(session)
    return [await _approval_out(session, a, process, principal)
            for a in await repo.approvals_of_process(process.id)]


def due_date(phase: ProcessPhase) -> date:
    return phase.planned_end + timedelta(days=1)
