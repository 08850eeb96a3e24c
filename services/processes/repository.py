"""SQL for processes, phases, checklist items, approvals, votes, transitions, notifications.

Writes from activities are upserts or inserts on natural unique keys, so a retried activity
changes nothing the second time.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from services.models.process import (
    Approval,
    ApprovalVote,
    ChecklistItem,
    Process,
    ProcessNotification,
    ProcessPhase,
    Transition,
)
from services.repository import Repository


def _upsert(model: type, keys: list[str], keep: tuple[str, ...]) -> Any:
    stmt = insert(model)
    return stmt.on_conflict_do_update(index_elements=keys,
                                      set_={k: getattr(stmt.excluded, k) for k in keep})


_PHASE_UPSERT = _upsert(ProcessPhase, ["process_id", "key"], (
    "status", "planned_start", "planned_end", "actual_start", "actual_end", "gate",
    "skip_reason", "override_reason", "title", "position", "kind"))
_CHECKLIST_UPSERT = _upsert(ChecklistItem, ["process_id", "phase_key", "key"],
                            ("done", "done_at", "done_by"))


class ProcessRepository(Repository):
    # --- processes ---

    def add(self, obj: object) -> None:
        self.session.add(obj)

    async def flush(self) -> None:
        await self.session.flush()

    async def get(self, process_id: uuid.UUID) -> Process | None:
        return await self.session.get(Process, process_id)

    async def exists(self, process_id: uuid.UUID) -> bool:
        return await self.session.scalar(
            select(Process.id).where(Process.id == process_id)) is not None

    async def list_for_orgs(self, org_ids: list[uuid.UUID], limit: int = 200) -> list[Process]:
        if not org_ids:
            return []
        stmt = (select(Process).where(Process.organisation_id.in_(org_ids))
                .order_by(Process.created_at.desc()).limit(limit))
        return list((await self.session.scalars(stmt)).all())

    async def phases(self, process_id: uuid.UUID) -> list[ProcessPhase]:
        stmt = (select(ProcessPhase).where(ProcessPhase.process_id == process_id)
                .order_by(ProcessPhase.position))
        return list((await self.session.scalars(stmt)).all())

    async def checklist(self, process_id: uuid.UUID) -> list[ChecklistItem]:
        stmt = (select(ChecklistItem).where(ChecklistItem.process_id == process_id)
                .order_by(ChecklistItem.phase_key, ChecklistItem.position))
        return list((await self.session.scalars(stmt)).all())

    async def claim_snapshot(self, process_id: uuid.UUID, seq: int, values: dict[str, Any]) -> bool:
        """Move the process row to snapshot `seq` unless a newer one was written already."""
        stmt = (update(Process)
                .where(Process.id == process_id, Process.state_seq < seq)
                .values(state_seq=seq, **values)
                .returning(Process.id))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def upsert_phases(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        # Without .values(rows) the statement compiles once and is cached; the rows go as an
        # executemany (this runs on every transition).
        await self.session.execute(_PHASE_UPSERT, rows)

    async def upsert_checklist(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        await self.session.execute(_CHECKLIST_UPSERT, rows)

    # --- transitions ---

    async def insert_transition(self, values: dict[str, Any]) -> bool:
        stmt = (insert(Transition).values(**values)
                .on_conflict_do_nothing(index_elements=["process_id", "key"])
                .returning(Transition.seq))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def transitions(self, process_id: uuid.UUID) -> list[Transition]:
        stmt = (select(Transition).where(Transition.process_id == process_id)
                .order_by(Transition.occurred_at, Transition.seq))
        return list((await self.session.scalars(stmt)).all())

    # --- approvals ---

    async def approval(self, approval_id: uuid.UUID) -> Approval | None:
        return await self.session.get(Approval, approval_id)

    async def insert_approval(self, values: dict[str, Any]) -> None:
        stmt = insert(Approval).values(**values).on_conflict_do_nothing(index_elements=["id"])
        await self.session.execute(stmt)

    async def approvals_of_process(self, process_id: uuid.UUID) -> list[Approval]:
        stmt = (select(Approval).where(Approval.process_id == process_id)
                .order_by(Approval.created_at))
        return list((await self.session.scalars(stmt)).all())

    async def pending_approvals_for(self, user_id: uuid.UUID,
                                    org_ids: list[uuid.UUID]) -> list[Approval]:
        if not org_ids:
            return []
        stmt = (select(Approval)
                .where(Approval.organisation_id.in_(org_ids), Approval.status == "pending",
                       Approval.voters.contains([str(user_id)]))
                .order_by(Approval.created_at))
        return list((await self.session.scalars(stmt)).all())

    async def votes(self, approval_id: uuid.UUID) -> list[ApprovalVote]:
        stmt = (select(ApprovalVote).where(ApprovalVote.approval_id == approval_id)
                .order_by(ApprovalVote.decided_at))
        return list((await self.session.scalars(stmt)).all())

    async def insert_vote(self, values: dict[str, Any]) -> bool:
        stmt = (insert(ApprovalVote).values(**values)
                .on_conflict_do_nothing(index_elements=["approval_id", "user_id"])
                .returning(ApprovalVote.id))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def close_approval(self, approval_id: uuid.UUID, values: dict[str, Any]) -> bool:
        stmt = (update(Approval).where(Approval.id == approval_id, Approval.status == "pending")
                .values(**values).returning(Approval.id))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    # --- notification ledger ---

    async def claim_notification(self, values: dict[str, Any]) -> ProcessNotification:
        stmt = (insert(ProcessNotification).values(**values)
                .on_conflict_do_nothing(index_elements=["idempotency_key"]))
        await self.session.execute(stmt)
        row = await self.session.scalar(select(ProcessNotification).where(
            ProcessNotification.idempotency_key == values["idempotency_key"]))
        assert row is not None
        return row

    async def mark_sent(self, idempotency_key: str, at: datetime) -> None:
        await self.session.execute(
            update(ProcessNotification)
            .where(ProcessNotification.idempotency_key == idempotency_key)
            .values(status="sent", sent_at=at))

    async def mark_failed(self, idempotency_key: str) -> None:
        await self.session.execute(
            update(ProcessNotification)
            .where(ProcessNotification.idempotency_key == idempotency_key)
            .values(status="failed"))

    async def notifications(self, process_id: uuid.UUID) -> list[ProcessNotification]:
        stmt = (select(ProcessNotification).where(ProcessNotification.process_id == process_id)
                .order_by(ProcessNotification.scheduled_for, ProcessNotification.recipient))
        return list((await self.session.scalars(stmt)).all())
