"""The participation report: generated from the process's own rows, never typed by hand.

Phases with planned and actual dates and who closed them, the checklists, who was invited and
who took part by group and reach tier (the reach matrix, suppressed below MIN_GROUP exactly as
on the results page: services/surveys/results.reach_table), each survey's results (the same
`compute_results` as the results page, without free texts: they are the participants' words,
not the administration's), the events with their places, waitlist and attendance and who came
by self-description (services/meetings/summary.process_events: the coordinator's figures and
suppression, never recomputed here) and the approvals with their decisions and comments. The
result is plain JSON, frozen into the version it belongs to.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.repository import IdentityRepository
from services.meetings.diversity import DIMENSION_LABELS, VALUE_LABELS
from services.meetings.summary import EventSummary, process_events
from services.models.process import Process
from services.processes.repository import ProcessRepository
from services.stakeholders.repository import StakeholderRepository
from services.surveys.radar import radar_description
from services.surveys.repository import SurveyRepository
from services.surveys.results import ResultsRepository, compute_results, reach_table
from services.surveys.suppression import MIN_GROUP

TIER_LABELS = {1: "Stufe 1 (gut erreichbar)", 2: "Stufe 2", 3: "Stufe 3 (kaum erreicht)"}
DECISIONS = {"approve": "Zustimmung", "reject": "Ablehnung"}
APPROVAL_STATUS = {"pending": "offen", "approved": "freigegeben", "rejected": "abgelehnt"}
PHASE_STATUS = {"pending": "geplant", "active": "laufend", "awaiting_approval": "in Freigabe",
                "completed": "abgeschlossen", "skipped": "übersprungen"}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def _group_labels(session: AsyncSession, process: Process) -> dict[str, str]:
    labels = {g["key"]: g["title"]
              for g in process.template_snapshot.get("stakeholder_groups", [])}
    for g in await StakeholderRepository.from_session(session).groups(process.organisation_id):
        labels.setdefault(g.key, g.label)
    return labels


class _Names:
    """Staff are named by their display name, never by their address: the report goes to the
    council and is published (OParl)."""

    def __init__(self, session: AsyncSession) -> None:
        self.identity = IdentityRepository.from_session(session)
        self.cache: dict[str, str] = {}

    async def __call__(self, actor: str | None) -> str | None:
        if not actor or "@" not in actor:
            return actor  # "Steuerungsgruppe", "Zeitplan", "Sitzungsdienst", or nobody
        if actor not in self.cache:
            user = await self.identity.user_by_email(actor)
            self.cache[actor] = (user.display_name if user and user.display_name
                                 else "Verwaltung")
        return self.cache[actor]


def _event(e: EventSummary, phases: dict[str, str], groups: dict[str, str]) -> dict[str, Any]:
    """One event as frozen JSON, with its labels resolved now (a group renamed later does not
    change a compiled version)."""
    d = e.diversity
    return {
        "title": e.title, "phase": e.phase_key, "phase_title": phases.get(e.phase_key,
                                                                          e.phase_key),
        "starts_at": _iso(e.starts_at), "ends_at": _iso(e.ends_at), "time_zone": e.time_zone,
        "when": e.when, "location": e.location, "online": e.online, "status": e.status,
        "status_label": e.status_label, "cancelled": e.cancelled, "capacity": e.capacity,
        "registrations": e.registrations, "places_taken": e.places_taken,
        "waitlisted": e.waitlisted, "attended": e.attended,
        "attended_walk_ins": e.attended_walk_ins,
        "attended_companions": e.attended_companions,
        "diversity": {
            "total": d.total, "checklist_met": d.checklist_met,
            "dimensions": [{
                "dimension": dim.dimension,
                "label": DIMENSION_LABELS.get(dim.dimension, dim.dimension),
                "total": dim.total,
                "counts": [{"value": c.value, "count": c.count,
                            "label": VALUE_LABELS.get(c.value) or groups.get(c.value, c.value)}
                           for c in dim.counts],
            } for dim in d.dimensions],
        },
    }


async def participation_report(session: AsyncSession, process: Process) -> dict[str, Any]:
    repo = ProcessRepository.from_session(session)
    who = _Names(session)
    phases = await repo.phases(process.id)
    items = await repo.checklist(process.id)
    closed_by: dict[str, str | None] = {}
    for t in await repo.transitions(process.id):
        if t.kind in ("advanced", "skipped") and (t.from_phase or t.phase_key):
            closed_by[t.from_phase or t.phase_key or ""] = t.actor
    report_phases = []
    for p in phases:
        report_phases.append({
            "key": p.key, "title": p.title, "status": PHASE_STATUS.get(p.status, p.status),
            "planned_start": _iso(p.planned_start), "planned_end": _iso(p.planned_end),
            "actual_start": _iso(p.actual_start), "actual_end": _iso(p.actual_end),
            "closed_by": await who(closed_by.get(p.key))
            if p.status in ("completed", "skipped") else None,
            "skip_reason": p.skip_reason,
            "checklist": [{"title": i.title, "done": i.done, "done_by": await who(i.done_by),
                           "done_at": _iso(i.done_at)}
                          for i in items if i.phase_key == p.key],
        })
    labels = await _group_labels(session, process)
    reach = reach_table(await ResultsRepository.from_session(session).process_reach(process.id))
    surveys = []
    for survey in await SurveyRepository.from_session(session).surveys_of_process(process.id):
        r = (await compute_results(session, survey, text_limit=0)).as_dict()
        for q in r["questions"]:
            q.pop("texts", None)  # participants' own words stay on the results page
        surveys.append({**r, "radar_alt": radar_description(r["blocks"])
                        if len(r["blocks"]) >= 3 else None})
    approvals = []
    for a in await repo.approvals_of_process(process.id):
        votes = await repo.votes(a.id)
        approvals.append({
            "title": a.title, "phase": a.phase_key, "rule": a.rule,
            "status": APPROVAL_STATUS.get(a.status, a.status), "decided_at": _iso(a.decided_at),
            # Members are named by their decision, not their address: the report goes to the
            # council and the public.
            "votes": [{"decision": DECISIONS.get(v.decision, v.decision), "comment": v.comment,
                       "decided_at": _iso(v.decided_at)} for v in votes],
        })
    return {
        "min_group": MIN_GROUP,
        "phases": report_phases,
        "reach": {**reach.as_dict(), "group_labels": labels,
                  "tier_labels": {str(k): v for k, v in TIER_LABELS.items()}},
        "surveys": surveys,
        "approvals": approvals,
        "events": [_event(e, {p.key: p.title for p in phases}, labels)
                   for e in await process_events(session, process.id)],
    }
