"""Gate approvals: read one, the ones waiting for me, and decide (steering members, once)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from api import process_control as control
from api.deps import CurrentUser, SessionDep, TemporalDep
from contracts.process import DecideInput
from services.processes import service
from services.processes.schemas import ApprovalOut, DecisionRequest

router = APIRouter(prefix="/api/v1/approvals", tags=["approvals"])


@router.get("", response_model=list[ApprovalOut])
async def waiting_for_me(session: SessionDep, principal: CurrentUser) -> list[ApprovalOut]:
    return await service.approvals_waiting_for(session, principal)


@router.get("/{approval_id}", response_model=ApprovalOut)
async def read_approval(approval_id: uuid.UUID, session: SessionDep,
                        principal: CurrentUser) -> ApprovalOut:
    _, out = await service.approval_for(session, principal, approval_id)
    return out


@router.post("/{approval_id}/decision", response_model=ApprovalOut)
async def decide(approval_id: uuid.UUID, body: DecisionRequest, session: SessionDep,
                 principal: CurrentUser, client: TemporalDep) -> ApprovalOut:
    approval, _ = await service.approval_for(session, principal, approval_id)
    service.require_voter(principal, approval)
    await control.decide(client, approval_id, DecideInput(
        user_id=principal.user_id, email=principal.email, decision=body.decision,
        comment=body.comment))
    session.expire_all()
    _, out = await service.approval_for(session, principal, approval_id)
    return out
