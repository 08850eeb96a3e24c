"""The stakeholder registry: create, import, search, DSGVO export and erasure."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import Conflict, NotFound, ValidationFailed
from services.events.service import record_event
from services.models.organisation import Organisation
from services.models.stakeholder import Stakeholder
from services.stakeholders import importer
from services.stakeholders.repository import StakeholderRepository
from services.stakeholders.rules import (
    LegalBasisMissing,
    decide_legal_basis,
    normalise_group,
    unknown_group_message,
)
from services.stakeholders.schemas import (
    GroupIn,
    GroupOut,
    ImportResult,
    StakeholderExport,
    StakeholderIn,
    StakeholderOut,
    StakeholderPage,
)

MAX_PER_PAGE = 200


# --- the organisation's groups ------------------------------------------------------------


async def list_groups(session: AsyncSession, organisation_id: uuid.UUID) -> list[GroupOut]:
    rows = await StakeholderRepository.from_session(session).groups(organisation_id)
    return [GroupOut.model_validate(g) for g in rows]


async def add_group(session: AsyncSession, organisation_id: uuid.UUID, data: GroupIn, *,
                    actor: str | None = None) -> GroupOut:
    repo = StakeholderRepository.from_session(session)
    key = data.key or normalise_group(data.label)
    if not await repo.add_groups(organisation_id, [(key, data.label)], "manual"):
        raise Conflict(f"Die Gruppe '{key}' gibt es schon.", code="group_exists",
                       details=[{"field": "key", "message": "bereits vorhanden"}])
    await record_event(session, organisation_id=organisation_id, type="group.added",
                       data={"key": key, "source": "manual"}, actor=actor)
    return next(g for g in await list_groups(session, organisation_id) if g.key == key)


async def seed_template_groups(session: AsyncSession, organisation_id: uuid.UUID,
                               groups: list[tuple[str, str]]) -> list[str]:
    """A process started from a template makes its groups known (flushes only)."""
    return await StakeholderRepository.from_session(session).add_groups(
        organisation_id, groups, "template")


async def _public_task_declared(session: AsyncSession, organisation_id: uuid.UUID) -> bool:
    org = await session.get(Organisation, organisation_id)
    return bool(org is not None and org.public_task_basis)


async def _checked(session: AsyncSession, repo: StakeholderRepository,
                   organisation_id: uuid.UUID, data: StakeholderIn,
                   current: Stakeholder | None = None) -> str:
    """The rules a new or changed person keeps (known group, legal basis, one address per
    person, a contact person's organisation); returns the legal basis."""
    known = await repo.group_keys(organisation_id)
    if data.group not in known:
        raise ValidationFailed(unknown_group_message(data.group, known), code="unknown_group",
                               details=[{"field": "group",
                                         "message": unknown_group_message(data.group, known),
                                         "known": sorted(known)}])
    try:
        legal_basis = decide_legal_basis(data.legal_basis, data.consent_at is not None,
                                         await _public_task_declared(session, organisation_id))
    except LegalBasisMissing as exc:
        raise ValidationFailed(exc.message, code="legal_basis_missing",
                               details=[{"field": exc.field, "message": exc.message}]) from exc
    holder = await repo.by_email(organisation_id, data.email)
    if holder is not None and (current is None or holder.id != current.id):
        raise Conflict("Diese E-Mail-Adresse ist bereits erfasst.", code="email_taken",
                       details=[{"field": "email", "message": "bereits vorhanden"}])
    if data.parent_id is not None:
        parent = await repo.get(organisation_id, data.parent_id)
        if parent is None or parent.kind != "organisation" or parent.erased_at is not None \
                or (current is not None and parent.id == current.id):
            raise ValidationFailed(
                "Ansprechpersonen gehören zu einer Organisation dieser Kommune.",
                code="invalid_parent",
                details=[{"field": "parent_id", "message": "keine Organisation"}],
            )
    return legal_basis


async def create_stakeholder(session: AsyncSession, organisation_id: uuid.UUID,
                             data: StakeholderIn, *, actor: str | None = None) -> Stakeholder:
    repo = StakeholderRepository.from_session(session)
    legal_basis = await _checked(session, repo, organisation_id, data)
    payload = data.model_dump(exclude={"group", "legal_basis"})
    stakeholder = Stakeholder(organisation_id=organisation_id, group_key=data.group,
                              legal_basis=legal_basis, **payload)
    repo.add(stakeholder)
    await session.flush()
    await session.refresh(stakeholder)
    await record_event(session, organisation_id=organisation_id, type="stakeholder.created",
                       data={"stakeholder_id": str(stakeholder.id), "group": data.group,
                             "reach_tier": data.reach_tier}, actor=actor)
    return stakeholder


async def update_stakeholder(session: AsyncSession, organisation_id: uuid.UUID,
                             stakeholder_id: uuid.UUID, data: StakeholderIn, *,
                             actor: str | None = None) -> Stakeholder:
    """The whole record replaced by `data`, under the rules of the create."""
    repo = StakeholderRepository.from_session(session)
    stakeholder = await repo.get(organisation_id, stakeholder_id, for_update=True)
    if stakeholder is None or stakeholder.erased_at is not None:
        raise NotFound("Beteiligte*r nicht gefunden.", code="stakeholder_not_found")
    legal_basis = await _checked(session, repo, organisation_id, data, stakeholder)
    for key, value in data.model_dump(exclude={"group", "legal_basis"}).items():
        setattr(stakeholder, key, value)
    stakeholder.group_key = data.group
    stakeholder.legal_basis = legal_basis
    await session.flush()
    await session.refresh(stakeholder)
    await record_event(session, organisation_id=organisation_id, type="stakeholder.updated",
                       data={"stakeholder_id": str(stakeholder.id), "group": data.group,
                             "reach_tier": data.reach_tier}, actor=actor)
    return stakeholder


async def import_stakeholders(session: AsyncSession, organisation_id: uuid.UUID, *,
                              filename: str | None, content_type: str | None, data: bytes,
                              create_groups: bool = False,
                              actor: str | None = None) -> ImportResult:
    """One file, one transaction (the caller's unit of work): all good rows or none.

    A group the organisation does not know rejects its row (the message lists the known
    ones) unless `create_groups` asks to add them; a row without a legal basis is rejected.
    """
    repo = StakeholderRepository.from_session(session)
    parsed = await importer.parse_bounded(
        filename, content_type, data,
        None if create_groups else await repo.group_keys(organisation_id),
        public_task_declared=await _public_task_declared(session, organisation_id))
    new_groups: list[str] = []
    if create_groups:
        labels = {r["group_key"]: r["group_label"] or r["group_key"] for r in parsed.rows}
        new_groups = await repo.add_groups(organisation_id, sorted(labels.items()), "import")
    created, updated = await repo.bulk_upsert(organisation_id, parsed.rows)
    await record_event(session, organisation_id=organisation_id, type="stakeholders.imported",
                       data={"created": created, "updated": updated,
                             "rejected": len(parsed.rejected), "groups_created": new_groups},
                       actor=actor)
    return ImportResult(created=created, updated=updated, rejected=parsed.rejected)


async def list_stakeholders(session: AsyncSession, organisation_id: uuid.UUID, *,
                            group: str | None = None, tier: int | None = None,
                            tag: str | None = None, q: str | None = None, page: int = 1,
                            per_page: int = 50, language: str | None = None,
                            legal_basis: str | None = None) -> StakeholderPage:
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    if group:
        from services.stakeholders.rules import normalise_group

        try:
            group = normalise_group(group)
        except ValueError as exc:  # only punctuation/control characters: no group key at all
            raise ValidationFailed(str(exc), code="invalid_group",
                                   details=[{"field": "query.group", "message": str(exc)}]) from exc
    rows, total = await StakeholderRepository.from_session(session).search(
        organisation_id, group=group, tier=tier, tag=tag.strip().lower() if tag else None,
        q=q.strip() if q else None, offset=(page - 1) * per_page, limit=per_page,
        language=language or None, legal_basis=legal_basis or None)
    return StakeholderPage(items=[StakeholderOut.model_validate(r) for r in rows], total=total,
                           page=page, per_page=per_page)


async def all_stakeholders(session: AsyncSession, organisation_id: uuid.UUID,
                           **filters: Any) -> list[StakeholderOut]:
    """Every match of the list's filters (for the export), read a page at a time."""
    out: list[StakeholderOut] = []
    page = 1
    while True:
        chunk = await list_stakeholders(session, organisation_id, page=page,
                                        per_page=MAX_PER_PAGE, **filters)
        out += chunk.items
        if len(out) >= chunk.total or not chunk.items:
            return out
        page += 1


async def get_stakeholder(session: AsyncSession, organisation_id: uuid.UUID,
                          stakeholder_id: uuid.UUID) -> Stakeholder:
    stakeholder = await StakeholderRepository.from_session(session).get(
        organisation_id, stakeholder_id)
    if stakeholder is None:
        raise NotFound("Beteiligte*r nicht gefunden.", code="stakeholder_not_found")
    return stakeholder


async def export_stakeholder(session: AsyncSession, organisation_id: uuid.UUID,
                             stakeholder_id: uuid.UUID, *,
                             actor: str | None = None) -> StakeholderExport:
    """Everything held on one person (DSGVO Art. 15), recorded as an event without content."""
    repo = StakeholderRepository.from_session(session)
    stakeholder = await get_stakeholder(session, organisation_id, stakeholder_id)
    invitations = await repo.invitations_of(stakeholder.id)
    mails = await repo.mails_of([i.id for i in invitations])
    await record_event(session, organisation_id=organisation_id, type="stakeholder.exported",
                       data={"stakeholder_id": str(stakeholder.id)}, actor=actor)
    return StakeholderExport(
        stakeholder=StakeholderOut.model_validate(stakeholder),
        contact_persons=await repo.contact_person_ids(stakeholder.id),
        invitations=[{
            "id": str(i.id), "campaign_id": str(i.campaign_id), "status": i.status,
            "group": i.group_key, "reach_tier": i.reach_tier, "language": i.language,
            "sent_at": i.sent_at, "responded_on": i.responded_at, "declined_at": i.declined_at,
            "reminders_sent": i.reminders_sent, "last_reminded_at": i.last_reminded_at,
        } for i in invitations],
        mails=[{
            "kind": m.kind, "reminder_no": m.reminder_no, "recipient": m.recipient,
            "status": m.status, "attempts": m.attempts, "error": m.error, "sent_at": m.sent_at,
        } for m in mails],
        event_registrations=[{
            "event_id": str(r.meeting_id), "status": r.status, "name": r.name,
            "email": r.email, "companions": r.companions, "needs": r.needs,
            "checkin_code": r.checkin_code, "registered_at": r.registered_at,
            "checked_in_at": r.checked_in_at, "cancelled_at": r.cancelled_at,
        } for r in await repo.registrations_of(stakeholder.id)],
        consent={"given_at": stakeholder.consent_at, "method": stakeholder.consent_method,
                 "legal_basis": stakeholder.legal_basis,
                 "unsubscribed_at": stakeholder.unsubscribed_at},
        exported_at=datetime.now(UTC),
    )


async def erase_stakeholder(session: AsyncSession, organisation_id: uuid.UUID,
                            stakeholder_id: uuid.UUID, *, actor: str | None = None) -> None:
    """DSGVO Art. 17: personal data gone; invitations keep group and tier for aggregates."""
    repo = StakeholderRepository.from_session(session)
    stakeholder = await repo.get(organisation_id, stakeholder_id, for_update=True)
    if stakeholder is None:
        raise NotFound("Beteiligte*r nicht gefunden.", code="stakeholder_not_found")
    if stakeholder.erased_at is not None:
        return  # erasing twice is harmless and answers the same
    await repo.erase(stakeholder)
    # The event names only the pseudonymous id: the log must not keep what was erased.
    await record_event(session, organisation_id=organisation_id, type="stakeholder.erased",
                       data={"stakeholder_id": str(stakeholder_id)}, actor=actor)
