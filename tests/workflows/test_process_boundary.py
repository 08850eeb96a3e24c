"""Issue 8, section 4: the process and approval workflows never take a state PostgreSQL cannot
store. Their validators refuse control characters and dates outside 2000-2100; a write the
database refuses as data fails once (not forever) and the workflow forgets the change."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from activities.process import PROCESS_ACTIVITIES, persist_process_state, record_vote
from contracts.process import (
    INVALID_DATA,
    AdvanceInput,
    ChecklistInput,
    PersistProcessInput,
    RecordVoteInput,
    RescheduleInput,
    SkipInput,
    TransitionRecord,
)
from services.models.process import ChecklistItem
from tests.support.process_harness import (
    make_org,
    phase,
    process_worker,
    start,
    today,
    transitions,
    vote,
    wait_state,
)
from tests.workflows.test_process_workflow import expect_error
from workflows.approval import ApprovalWorkflow
from workflows.process import ProcessWorkflow


async def refused(update, code: str) -> None:  # type: ignore[no-untyped-def]
    # Before the fix these never answered: the workflow retried its write (or its task) forever.
    await asyncio.wait_for(expect_error(update, code), timeout=15)


async def test_validators_refuse_control_characters_and_far_dates(
        time_skipping_env, committed_maker, make_committed_staff, smtp_sink):  # type: ignore[no-untyped-def]
    env = time_skipping_env
    org = await make_org(make_committed_staff, steering=1)
    async with process_worker(env.client, smtp_sink.port) as q:
        pid, h = await start(committed_maker, env.client, org, "bergkamen-for-all",
                             await today(env), q)
        before = await wait_state(h, lambda s: s.seq >= 1)
        await refused(h.execute_update(ProcessWorkflow.advance, AdvanceInput(
            expected_current="steuerungsgruppe", override_reason="nul\x00reason")),
            "invalid_text")
        await refused(h.execute_update(ProcessWorkflow.skip, SkipInput(
            phase_key="interviews", reason="a\x07b")), "invalid_text")
        for start_day, end_day in ((date(2027, 1, 1), date(9999, 12, 31)),
                                   (date(1, 1, 1), date(2027, 1, 1))):
            # Before the fix: the timer arithmetic overflowed and the workflow task failed
            # for good (the API waited 20 s and answered 503).
            await refused(h.execute_update(ProcessWorkflow.reschedule, RescheduleInput(
                phase_key="interviews", planned_start=start_day, planned_end=end_day)),
                "date_out_of_range")
        assert await h.query(ProcessWorkflow.state) == before

        # The gate opens normally; a vote with a NUL in its comment is refused, not counted.
        await h.execute_update(ProcessWorkflow.advance, AdvanceInput(
            expected_current="steuerungsgruppe", override_reason="weiter"))
        await h.execute_update(ProcessWorkflow.advance, AdvanceInput(
            expected_current="interviews", override_reason="weiter"))
        result = await h.execute_update(ProcessWorkflow.advance, AdvanceInput(
            expected_current="erreichbarkeit", override_reason="weiter"))
        assert result.status == "awaiting_approval" and result.approval_id is not None
        await refused(vote(env.client, result.approval_id, org.steering[0], "approve",
                           "gut\x00"), "invalid_text")
        decided = await vote(env.client, result.approval_id, org.steering[0], "approve", "gut")
        assert decided.status == "approved"


@activity.defn(name="persist_process_state")
async def persist_refusing(data: PersistProcessInput) -> bool:
    """The real write, except that PostgreSQL "refuses" one reason (as for a NUL it does)."""
    if data.transition.reason == "verweigert":
        raise ApplicationError("refused", type=INVALID_DATA, non_retryable=True)
    return await persist_process_state(data)


@asynccontextmanager
async def _started(env, maker, org, persist_stand_in):  # type: ignore[no-untyped-def]
    """A worker whose persist_process_state is `persist_stand_in`, and a Bergkamen process
    started on it: yields (process id, workflow handle)."""
    others = [a for a in PROCESS_ACTIVITIES if a is not persist_process_state]
    queue = f"proc-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=queue,
                      workflows=[ProcessWorkflow, ApprovalWorkflow],
                      activities=[persist_stand_in, *others]):
        yield await start(maker, env.client, org, "bergkamen-for-all", await today(env), queue)


async def test_a_refused_write_fails_the_update_and_the_state_stays_what_is_stored(
        time_skipping_env, committed_maker, make_committed_staff):  # type: ignore[no-untyped-def]
    env = time_skipping_env
    org = await make_org(make_committed_staff, steering=1)
    async with _started(env, committed_maker, org, persist_refusing) as (pid, h):
        before = await wait_state(h, lambda s: s.seq >= 1)
        # The gated phase, where a lost write left the workflow waiting for an approval the
        # database never had.
        for current in ("steuerungsgruppe", "interviews"):
            await h.execute_update(ProcessWorkflow.advance, AdvanceInput(
                expected_current=current, override_reason="weiter"))
        stored = await h.query(ProcessWorkflow.state)
        await asyncio.wait_for(expect_error(h.execute_update(ProcessWorkflow.advance, AdvanceInput(
            expected_current="erreichbarkeit", override_reason="verweigert")), INVALID_DATA),
            timeout=20)
        state = await h.query(ProcessWorkflow.state)
        assert state.model_dump() == stored.model_dump(), (state.model_dump(), stored.model_dump())
        assert state != before
        gate = phase(state, "erreichbarkeit")
        assert gate.status == "active" and gate.approval_id is None
        assert gate.override_reason is None
        assert [t.kind for t in await transitions(committed_maker, pid)][-1] == "advanced"

        # Nothing is wedged: the same advance with a storable reason opens the gate.
        result = await h.execute_update(ProcessWorkflow.advance, AdvanceInput(
            expected_current="erreichbarkeit", override_reason="Matrix steht"))
        assert result.status == "awaiting_approval"
        assert (await transitions(committed_maker, pid))[-1].kind == "approval_requested"


async def test_persist_fails_non_retryably_on_a_data_error(  # type: ignore[no-untyped-def]
        time_skipping_env, committed_maker, make_committed_staff, smtp_sink):
    env = time_skipping_env
    org = await make_org(make_committed_staff, steering=1)
    async with process_worker(env.client, smtp_sink.port) as q:
        pid, h = await start(committed_maker, env.client, org, "bergkamen-for-all",
                             await today(env), q)
        state = await wait_state(h, lambda s: s.seq >= 1)
    # What the workflow carried before the validators refused it: a NUL in a reason.
    data = PersistProcessInput(state=state, transition=TransitionRecord(
        key=f"t:{state.seq + 1}", kind="advanced", phase_key="steuerungsgruppe",
        reason="nul\x00reason", occurred_at=datetime.now(UTC)))
    with pytest.raises(ApplicationError) as info:
        await ActivityEnvironment().run(persist_process_state, data)
    assert info.value.type == INVALID_DATA and info.value.non_retryable


@asynccontextmanager
async def _at_the_gate(env, maker, org, record_vote_stand_in):  # type: ignore[no-untyped-def]
    """A worker whose record_vote is `record_vote_stand_in`, and a Bergkamen process advanced
    to its first gate (rule `any`): yields the advance's result with the approval id."""
    others = [a for a in PROCESS_ACTIVITIES if a is not record_vote]
    queue = f"proc-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=queue,
                      workflows=[ProcessWorkflow, ApprovalWorkflow],
                      activities=[record_vote_stand_in, *others]):
        _, h = await start(maker, env.client, org, "bergkamen-for-all", await today(env), queue)
        await wait_state(h, lambda s: s.seq >= 1)
        for current in ("steuerungsgruppe", "interviews", "erreichbarkeit"):
            result = await h.execute_update(ProcessWorkflow.advance, AdvanceInput(
                expected_current=current, override_reason="weiter"))
        assert result.status == "awaiting_approval" and result.approval_id is not None
        yield result


@activity.defn(name="record_vote")
async def record_vote_refusing(data: RecordVoteInput) -> None:
    """The real write, except that PostgreSQL "refuses" one comment (as for a NUL it does)."""
    if data.vote.comment == "verweigert":
        raise ApplicationError("refused", type=INVALID_DATA, non_retryable=True)
    await record_vote(data)


async def test_a_refused_vote_is_not_counted_and_the_member_may_vote_again(
        time_skipping_env, committed_maker, make_committed_staff):  # type: ignore[no-untyped-def]
    """Before the fix the workflow counted a vote the database never stored: the approval
    said approved, the database pending, and the member could not vote again."""
    env = time_skipping_env
    org = await make_org(make_committed_staff, steering=1)
    async with _at_the_gate(env, committed_maker, org, record_vote_refusing) as result:
        member = org.steering[0]
        await asyncio.wait_for(expect_error(
            vote(env.client, result.approval_id, member, "approve", "verweigert"),
            INVALID_DATA), timeout=20)
        approval = env.client.get_workflow_handle(f"approval-{result.approval_id}")
        state = await approval.query(ApprovalWorkflow.state)
        assert state.votes == [] and state.status == "pending"
        decided = await vote(env.client, result.approval_id, member, "approve", "gut")
        assert decided.status == "approved" and decided.votes == 1
        state = await approval.query(ApprovalWorkflow.state)
        assert [v.comment for v in state.votes] == ["gut"]


SLOW_WRITE_STARTED = asyncio.Event()


@activity.defn(name="persist_process_state")
async def persist_slow_or_refusing(data: PersistProcessInput) -> bool:
    """The real write, except: the actor "langsam" takes a moment (holding the workflow task,
    as a local activity does), the actor "verweigert" is refused."""
    if data.transition.actor == "langsam@example.org":
        SLOW_WRITE_STARTED.set()
        await asyncio.sleep(0.5)  # the slowness under test (the test waits on the event)
    if data.transition.actor == "verweigert@example.org":
        raise ApplicationError("refused", type=INVALID_DATA, non_retryable=True)
    return await persist_process_state(data)


async def test_a_second_update_waits_for_the_first_and_a_refused_change_stays_out(
        time_skipping_env, committed_maker, make_committed_staff):  # type: ignore[no-untyped-def]
    """workflows/process.py's concurrency rule: a handler that changes the state holds the
    workflow's lock until its write is answered. While a first change is being stored, a
    change whose write is refused and another one arrive, so both reach the workflow in one
    activation. Without the lock the other one's snapshot carried the refused change into
    PostgreSQL (and into the workflow's state) although its update failed."""
    env = time_skipping_env
    org = await make_org(make_committed_staff, steering=1)
    SLOW_WRITE_STARTED.clear()
    async with _started(env, committed_maker, org, persist_slow_or_refusing) as (pid, h):
        await wait_state(h, lambda s: s.seq >= 1)

        def check(item: str, actor: str):  # type: ignore[no-untyped-def]
            return h.execute_update(ProcessWorkflow.set_checklist_item, ChecklistInput(
                phase_key="steuerungsgruppe", item_key=item, actor=actor))
        slow = asyncio.ensure_future(check("interviewpartner", "langsam@example.org"))
        await asyncio.wait_for(SLOW_WRITE_STARTED.wait(), timeout=20)
        first, second = await asyncio.wait_for(asyncio.gather(
            check("akteure-auflisten", "verweigert@example.org"),
            check("perspektiven", "ok@example.org"), return_exceptions=True), timeout=20)
        await slow
        assert isinstance(first, Exception) and not isinstance(second, Exception), (first, second)
        state = await h.query(ProcessWorkflow.state)
        items = {i.key: i.done for i in phase(state, "steuerungsgruppe").checklist}
        assert items == {"akteure-auflisten": False, "perspektiven": True,
                         "interviewpartner": True}
        async with committed_maker() as s:
            stored = {row.key: row.done for row in (await s.execute(
                select(ChecklistItem).where(ChecklistItem.process_id == pid))).scalars()}
        assert stored["akteure-auflisten"] is False and stored["perspektiven"] is True


SLOW_VOTE_STARTED = asyncio.Event()


@activity.defn(name="record_vote")
async def record_vote_slow_or_refusing(data: RecordVoteInput) -> None:
    """The real write, except: the comment "langsam" takes a moment (and holds the approval's
    workflow task, as a local activity does), "verweigert" is refused."""
    if data.vote.comment == "langsam":
        SLOW_VOTE_STARTED.set()
        await asyncio.sleep(0.5)  # the slowness under test (the test waits on the event)
    if data.vote.comment == "verweigert":
        raise ApplicationError("refused", type=INVALID_DATA, non_retryable=True)
    await record_vote(data)


async def test_a_vote_is_evaluated_only_with_stored_votes(
        time_skipping_env, committed_maker, make_committed_staff):  # type: ignore[no-untyped-def]
    """ApprovalWorkflow's concurrency rule. Gate rule `any` of three. While a first rejection
    is being stored, an approval (whose write is refused) and a second rejection arrive, so
    both reach the workflow in one activation. Without the lock the second rejection was
    evaluated with the unstored approval, and the gate said approved with no approval stored."""
    env = time_skipping_env
    org = await make_org(make_committed_staff, steering=3)
    SLOW_VOTE_STARTED.clear()
    async with _at_the_gate(env, committed_maker, org, record_vote_slow_or_refusing) as result:
        a, s = env.client, result.approval_id
        slow = asyncio.ensure_future(vote(a, s, org.steering[0], "reject", "langsam"))
        await asyncio.wait_for(SLOW_VOTE_STARTED.wait(), timeout=20)
        refused, second = await asyncio.wait_for(asyncio.gather(
            vote(a, s, org.steering[1], "approve", "verweigert"),
            vote(a, s, org.steering[2], "reject", "nein"),
            return_exceptions=True), timeout=20)
        await slow
        assert isinstance(refused, Exception) and not isinstance(second, Exception), (
            refused, second)
        approval = env.client.get_workflow_handle(f"approval-{result.approval_id}")
        state = await approval.query(ApprovalWorkflow.state)
        assert [v.decision for v in state.votes] == ["reject", "reject"]
        assert state.status == "pending" and second.status == "pending"
