"""The demo process: started once by the seed, found (not duplicated) by a second seed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from composition.process_demo import DEMO_PROCESS_ID, next_february, seed_demo_process
from contracts.queues import TASK_QUEUE
from services.identity.repository import IdentityRepository
from services.models.process import Process
from tests.support.process_harness import make_org, process_worker, wait_state
from workflows.process import ProcessWorkflow


def test_next_february():
    assert next_february(date(2026, 11, 22)) == date(2027, 2, 1)
    assert next_february(date(2027, 1, 10)) == date(2027, 2, 1)
    assert next_february(date(2027, 2, 1)) == date(2027, 2, 1)


async def test_seed_demo_process_is_idempotent(time_skipping_env, committed_maker,
                                               make_committed_staff, smtp_sink):
    org_info = await make_org(make_committed_staff, steering=1)
    client = time_skipping_env.client
    async with process_worker(client, smtp_sink.port, task_queue=TASK_QUEUE):
        for _ in range(2):
            async with committed_maker() as s:
                org = await IdentityRepository.from_session(s).org_by_id(org_info.org_id)
                assert await seed_demo_process(s, org, client=client) == DEMO_PROCESS_ID
                await s.commit()
        handle = client.get_workflow_handle_for(ProcessWorkflow.run,
                                                f"process-{DEMO_PROCESS_ID}")
        state = await wait_state(handle, lambda st: st.seq >= 1)
        assert state.current_phase == "planung" and len(state.phases) == 7
    async with committed_maker() as s:
        assert await s.scalar(select(func.count()).select_from(Process).where(
            Process.id == DEMO_PROCESS_ID)) == 1
        process = await s.get(Process, DEMO_PROCESS_ID)
        assert process.starts_on.month == 2 and process.starts_on.day == 1
        assert process.state_seq >= 1  # the worker wrote the "started" transition
        # Leave no fixed-id demo behind for other tests of this session.
        await s.delete(process)
        await s.commit()
    await handle.terminate("test done")


async def test_seed_without_temporal_seeds_no_process(session, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff()
    org = await IdentityRepository.from_session(session).org_by_id(staff.org_id)
    assert await seed_demo_process(session, org, connect_timeout=0) is None
    assert await session.get(Process, DEMO_PROCESS_ID) is None
