"""ProcessWorkflow and ApprovalWorkflow on Temporal's time-skipping server (months in seconds),
with the real activities writing to PostgreSQL and mailing a real SMTP sink."""

from __future__ import annotations

import asyncio
from datetime import time, timedelta

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from contracts.process import AdvanceInput, ChecklistInput, RescheduleInput, SkipInput
from services.models.process import Approval, ApprovalVote, Process, ProcessPhase
from services.processes.templates import builtin_templates
from tests.support.process_harness import (
    BERLIN,
    days,
    eventually,
    local_day,
    make_org,
    notifications,
    phase,
    process_worker,
    start,
    today,
    transitions,
    vote,
    wait_state,
)
from workflows.approval import evaluate, required_approvals
from workflows.process import ProcessWorkflow


async def expect_error(coro, code: str) -> ApplicationError:  # type: ignore[no-untyped-def]
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await coro
    cause = info.value.cause
    assert isinstance(cause, ApplicationError), cause
    assert cause.type == code, (cause.type, cause.message)
    return cause


@pytest.mark.parametrize(
    ("rule", "quorum", "voters", "approvals", "rejections", "expected"),
    [
        ("any", None, 3, 1, 0, "approved"),
        ("any", None, 3, 0, 2, "pending"),
        ("any", None, 3, 0, 3, "rejected"),
        ("all", None, 3, 2, 0, "pending"),
        ("all", None, 3, 3, 0, "approved"),
        ("all", None, 3, 2, 1, "rejected"),
        ("majority", None, 3, 2, 0, "approved"),
        ("majority", None, 3, 1, 1, "pending"),
        ("majority", None, 3, 1, 2, "rejected"),
        ("majority", None, 4, 2, 2, "rejected"),
        ("majority", None, 4, 2, 1, "pending"),
        ("quorum", 2, 3, 2, 1, "approved"),
        ("quorum", 2, 3, 1, 1, "pending"),
        ("quorum", 2, 3, 0, 2, "rejected"),
        ("quorum", 3, 2, 2, 0, "pending"),  # too few voters: only the deadline escalates
        ("all", None, 0, 0, 0, "pending"),
    ],
)
def test_rules(rule, quorum, voters, approvals, rejections, expected):  # type: ignore[no-untyped-def]
    assert evaluate(rule, quorum, voters, approvals, rejections) == expected


def test_required_approvals():
    assert [required_approvals("majority", None, n) for n in (1, 2, 3, 4, 5)] == [1, 2, 2, 3, 3]


async def test_weiterstadt_walkthrough(time_skipping_env, committed_maker, make_committed_staff,
                                       smtp_sink):
    """The reference process from February to the council's resolution: checklist, gates
    rejected and approved (majority, all), racing advances, reminders on their days,
    auto-advance, reschedule and skip."""
    env = time_skipping_env
    org = await make_org(make_committed_staff)
    s1, s2, s3 = org.steering
    coord = org.coordinator
    async with process_worker(env.client, smtp_sink.port) as q:
        start_day = await today(env)
        pid, h = await start(committed_maker, env.client, org, "weiterstadt-vielfaltsstrategie",
                             start_day, q)
        st = await wait_state(h, lambda s: s.seq >= 1)
        assert [p.key for p in st.phases] == ["planung", "kick-off", "beteiligung-1", "bergfest",
                                              "beteiligung-2", "abschluss", "beschluss"]
        assert st.current_phase == "planung"

        # Planung: the open checklist needs a reason; the wrong phase is refused.
        await expect_error(h.execute_update(ProcessWorkflow.advance,
                                            AdvanceInput(expected_current="planung")),
                           "checklist_open")
        await expect_error(h.execute_update(ProcessWorkflow.advance,
                                            AdvanceInput(expected_current="kick-off")),
                           "phase_mismatch")
        for item in ("ausschreibung", "prozessablauf", "steuerungsgruppe", "beteiligungsformate"):
            await h.execute_update(ProcessWorkflow.set_checklist_item,
                                   ChecklistInput(phase_key="planung", item_key=item,
                                                  actor=coord.email))
        await expect_error(h.execute_update(ProcessWorkflow.set_checklist_item,
                                            ChecklistInput(phase_key="planung", item_key="nope")),
                           "unknown_item")
        res = await h.execute_update(ProcessWorkflow.advance,
                                     AdvanceInput(expected_current="planung", actor=coord.email))
        assert res.status == "awaiting_approval" and res.approval_id
        first_approval = res.approval_id
        await expect_error(h.execute_update(ProcessWorkflow.advance,
                                            AdvanceInput(expected_current="planung")),
                           "gate_not_approved")
        await expect_error(h.execute_update(ProcessWorkflow.skip,
                                            SkipInput(phase_key="planung", reason="x")),
                           "approval_pending")

        # Majority of three: one approval and two rejections reject; the phase stays open.
        await vote(env.client, first_approval, s1, "approve")
        await expect_error(vote(env.client, first_approval, s1, "reject", "doch nicht"),
                           "already_decided")
        # A rejection without a reason is refused by the decide validator itself (the rule of
        # contracts.process_rules, not only the API's check).
        await expect_error(vote(env.client, first_approval, s2, "reject"), "comment_required")
        await expect_error(vote(env.client, first_approval, coord, "approve"), "not_a_voter")
        await vote(env.client, first_approval, s2, "reject", "Formate noch unklar")
        await vote(env.client, first_approval, s3, "reject", "Steuerungsgruppe unvollständig")
        st = await wait_state(h, lambda s: phase(s, "planung").approval_status == "rejected")
        assert st.current_phase == "planung" and phase(st, "planung").status == "active"
        assert any("Formate noch unklar" in r for r in phase(st, "planung").approval_reasons)

        # Second round: two approvals approve, and the phase advances by itself.
        res = await h.execute_update(ProcessWorkflow.advance,
                                     AdvanceInput(expected_current="planung"))
        assert res.status == "awaiting_approval" and res.approval_id != first_approval
        await vote(env.client, res.approval_id, s2, "approve", "jetzt passt es")
        await vote(env.client, res.approval_id, s3, "approve")
        st = await wait_state(h, lambda s: s.current_phase == "kick-off")
        assert phase(st, "planung").status == "completed"

        # Two coordinators click "advance" at once: exactly one wins.
        racing = await asyncio.gather(
            *(h.execute_update(ProcessWorkflow.advance,
                               AdvanceInput(expected_current="kick-off", override_reason="Termin"))
              for _ in range(2)),
            return_exceptions=True)
        wins = [r for r in racing if not isinstance(r, BaseException)]
        losses = [r for r in racing if isinstance(r, WorkflowUpdateFailedError)]
        assert len(wins) == 1 and len(losses) == 1, racing
        assert isinstance(losses[0].cause, ApplicationError)
        assert losses[0].cause.type == "phase_mismatch"
        assert wins[0].current_phase == "beteiligung-1"

        # Beteiligungsphase I advances automatically at its planned end; its reminder goes out
        # 14 days before, at 09:00 local time.
        st = await h.query(ProcessWorkflow.state)
        b1 = phase(st, "beteiligung-1")
        assert b1.planned_end == _end(start_day, 5)
        now = await env.get_current_time()
        auto_at = _local(b1.planned_end + days(1), time(0))
        await env.sleep(auto_at - now + timedelta(hours=1))
        st = await wait_state(h, lambda s: s.current_phase == "bergfest")
        assert phase(st, "beteiligung-1").status == "completed"
        assert phase(st, "beteiligung-1").override_reason  # the open checklist item
        notes = await notifications(committed_maker, pid)
        reminder = [n for n in notes if n.kind == "reminder"]
        assert [local_day(n.scheduled_for) for n in reminder] == [b1.planned_end - days(14)]
        assert reminder[0].scheduled_for.astimezone(BERLIN).hour == 9
        assert reminder[0].status == "sent" and reminder[0].recipient == coord.email
        assert any("Beteiligungsphase I" in m.message["Subject"] for m in smtp_sink.to(coord.email))

        # Reschedule the Bergfest: the reminder (7 days before) and the overdue notice (1 day
        # after) follow the new end.
        now = await env.get_current_time()
        new_end = local_day(now) + days(10)
        await expect_error(h.execute_update(ProcessWorkflow.reschedule, RescheduleInput(
            phase_key="bergfest", planned_start=new_end, planned_end=new_end - days(1))),
            "invalid_window")
        await h.execute_update(ProcessWorkflow.reschedule, RescheduleInput(
            phase_key="bergfest", planned_start=local_day(now), planned_end=new_end,
            actor=coord.email))
        await env.sleep(timedelta(days=12))

        def bergfest_days(notes: list) -> list:
            return sorted((n.kind, local_day(n.scheduled_for)) for n in notes
                          if "Bergfest" in n.subject)
        notes = await eventually(lambda: notifications(committed_maker, pid),
                                 lambda notes: len(bergfest_days(notes)) >= 2)
        assert bergfest_days(notes) == [("overdue", new_end + days(1)),
                                        ("reminder", new_end - days(7))]

        # Skip the final event ahead of time; pass the Bergfest gate.
        await expect_error(h.execute_update(ProcessWorkflow.skip,
                                            SkipInput(phase_key="abschluss", reason="  ")),
                           "reason_required")
        await h.execute_update(ProcessWorkflow.skip, SkipInput(
            phase_key="abschluss", reason="Zusammengelegt mit der Beschlussphase",
            actor=coord.email))
        res = await h.execute_update(ProcessWorkflow.advance, AdvanceInput(
            expected_current="bergfest", override_reason="Anpassung im Workshop besprochen"))
        await vote(env.client, res.approval_id, s1, "approve")
        await vote(env.client, res.approval_id, s3, "approve")
        st = await wait_state(h, lambda s: s.current_phase == "beteiligung-2")
        await expect_error(h.execute_update(ProcessWorkflow.set_checklist_item, ChecklistInput(
            phase_key="bergfest", item_key="auswertung")), "phase_closed")

        # Beteiligungsphase II runs to its end (November) and hands over to the Beschlussphase,
        # passing the skipped Abschlussveranstaltung.
        b2 = phase(st, "beteiligung-2")
        now = await env.get_current_time()
        await env.sleep(_local(b2.planned_end + days(1), time(0)) - now + timedelta(hours=1))
        st = await wait_state(h, lambda s: s.current_phase == "beschluss")
        assert phase(st, "abschluss").status == "skipped"

        # Beschlussphase: rule "all" – one rejection rejects, then all three approve.
        for item in ("auswerten", "fertigstellen", "vorlage-gremien", "beschluss-svv"):
            await h.execute_update(ProcessWorkflow.set_checklist_item,
                                   ChecklistInput(phase_key="beschluss", item_key=item))
        res = await h.execute_update(ProcessWorkflow.advance,
                                     AdvanceInput(expected_current="beschluss"))
        await vote(env.client, res.approval_id, s1, "approve")
        await vote(env.client, res.approval_id, s2, "reject", "Abschnitt Vielfaltsmanagement fehlt")
        st = await wait_state(h, lambda s: phase(s, "beschluss").approval_status == "rejected")
        res = await h.execute_update(ProcessWorkflow.advance,
                                     AdvanceInput(expected_current="beschluss"))
        for member in (s1, s2, s3):
            await vote(env.client, res.approval_id, member, "approve")
        final = await h.result()
        assert final.status == "completed" and final.current_phase is None

    # Everything is in PostgreSQL: process, phases, approvals, votes, the timeline.
    async with committed_maker() as s:
        process = await s.get(Process, pid)
        assert process.status == "completed" and process.completed_at is not None
        statuses = {p.key: p.status for p in (await s.scalars(
            select(ProcessPhase).where(ProcessPhase.process_id == pid))).all()}
        assert statuses == {"planung": "completed", "kick-off": "completed",
                            "beteiligung-1": "completed", "bergfest": "completed",
                            "beteiligung-2": "completed", "abschluss": "skipped",
                            "beschluss": "completed"}
        approvals = (await s.scalars(select(Approval).where(Approval.process_id == pid)
                                     .order_by(Approval.created_at))).all()
        assert [a.status for a in approvals] == ["rejected", "approved", "approved", "rejected",
                                                 "approved"]
        assert approvals[0].reasons and "Formate noch unklar" in " ".join(approvals[0].reasons)
        votes = (await s.scalars(select(ApprovalVote).where(
            ApprovalVote.approval_id == approvals[0].id))).all()
        assert sorted(v.decision for v in votes) == ["approve", "reject", "reject"]
    kinds = [t.kind for t in await transitions(committed_maker, pid)]
    for kind in ("started", "checklist", "approval_requested", "vote", "approval_decided",
                 "advanced", "rescheduled", "skipped", "reminder", "overdue", "completed"):
        assert kind in kinds, kind
    assert kinds[0] == "started" and kinds[-1] == "completed"


def _end(start_day, months):  # type: ignore[no-untyped-def]
    from services.processes.templates import Offset

    return Offset(months, 0).add_to(start_day) - days(1)


def _local(day, at):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.combine(day, at, tzinfo=BERLIN)


OTHER_TEMPLATES = ["weltoffene-kommune-selbstcheck", "bergkamen-for-all",
                   "vielfaltsmanager-ausbildung", "vielfaltsbuendnis"]
# How many rejections reject a gate, and approvals approve it, with three voters.
REJECT_AT = {"any": 3, "all": 1, "majority": 2, "quorum": 2}
APPROVE_AT = {"any": 1, "all": 3, "majority": 2, "quorum": 2}


@pytest.mark.parametrize("key", OTHER_TEMPLATES)
async def test_template_runs_to_completion(key, time_skipping_env, committed_maker,
                                           make_committed_staff, smtp_sink):
    """Each shipped template from its first phase to completion: the first gate rejected
    under its rule and then approved, auto-advancing phases left to the calendar."""
    env = time_skipping_env
    template = builtin_templates()[key]
    org = await make_org(make_committed_staff)
    async with process_worker(env.client, smtp_sink.port) as q:
        pid, h = await start(committed_maker, env.client, org, key, await today(env), q)
        await wait_state(h, lambda s: s.seq >= 1)
        rejected_once = False
        auto_advanced = 0
        for tp in template.phases:
            st = await wait_state(h, lambda s, k=tp.key: s.current_phase == k)
            cur = phase(st, tp.key)
            if tp.auto_advance:
                now = await env.get_current_time()
                await env.sleep(_local(cur.planned_end + days(1), time(0)) - now
                                + timedelta(hours=1))
                st = await wait_state(h, lambda s, k=tp.key: phase(s, k).status == "completed")
                auto_advanced += 1
                continue
            res = await h.execute_update(ProcessWorkflow.advance, AdvanceInput(
                expected_current=tp.key, override_reason="Test"))
            if tp.gate is None:
                assert res.status in ("advanced", "completed")
                continue
            assert res.status == "awaiting_approval"
            if not rejected_once:
                for member in org.steering[:REJECT_AT[tp.gate.rule]]:
                    await vote(env.client, res.approval_id, member, "reject", "Nachbessern")
                await wait_state(h, lambda s, k=tp.key: phase(s, k).approval_status == "rejected")
                rejected_once = True
                res = await h.execute_update(ProcessWorkflow.advance,
                                             AdvanceInput(expected_current=tp.key))
            for member in org.steering[:APPROVE_AT[tp.gate.rule]]:
                await vote(env.client, res.approval_id, member, "approve")
            await wait_state(h, lambda s, k=tp.key: phase(s, k).status == "completed")
        final = await h.result()
    assert final.status == "completed"
    assert rejected_once and auto_advanced >= 1
    kinds = [t.kind for t in await transitions(committed_maker, pid)]
    assert kinds.count("advanced") == len(template.phases)
    assert kinds[-1] == "completed"


async def test_approval_deadline_escalates(time_skipping_env, committed_maker,
                                           make_committed_staff, smtp_sink):
    env = time_skipping_env
    org = await make_org(make_committed_staff, steering=2)
    async with process_worker(env.client, smtp_sink.port) as q:
        pid, h = await start(committed_maker, env.client, org, "vielfaltsbuendnis",
                             await today(env), q)
        res = await h.execute_update(ProcessWorkflow.advance, AdvanceInput(
            expected_current="steuerungsgruppe", override_reason="Test"))
        await env.sleep(timedelta(days=8))  # deadline_days: 7
        notes = await eventually(lambda: notifications(committed_maker, pid),
                                 lambda notes: any(n.kind == "escalation" for n in notes))
        assert [n.recipient for n in notes if n.kind == "escalation"] == [org.coordinator.email]
        assert {n.recipient for n in notes if n.kind == "approval_request"} == {
            m.email for m in org.steering}
        # The gate is still open after the deadline and can be decided.
        for member in org.steering:
            await vote(env.client, res.approval_id, member, "approve")
        await wait_state(h, lambda s: s.current_phase == "partnergewinnung")
    async with committed_maker() as s:
        approval = await s.get(Approval, res.approval_id)
        assert approval.status == "approved" and approval.escalated_at is not None


async def test_continue_as_new_keeps_state(time_skipping_env, committed_maker,
                                           make_committed_staff, smtp_sink):
    env = time_skipping_env
    org = await make_org(make_committed_staff)
    async with process_worker(env.client, smtp_sink.port) as q:
        pid, h = await start(committed_maker, env.client, org, "bergkamen-for-all",
                             await today(env), q, continue_as_new_after=40)
        first_run = (await h.describe()).run_id
        for item in ("akteure-auflisten", "perspektiven", "interviewpartner"):
            for done in (True, False, True):
                await h.execute_update(ProcessWorkflow.set_checklist_item, ChecklistInput(
                    phase_key="steuerungsgruppe", item_key=item, done=done))
        await h.execute_update(ProcessWorkflow.advance,
                               AdvanceInput(expected_current="steuerungsgruppe"))
        st = await wait_state(h, lambda s: s.current_phase == "interviews")
        assert (await env.client.get_workflow_handle(h.id).describe()).run_id != first_run
        assert all(i.done for i in phase(st, "steuerungsgruppe").checklist)
        seq = st.seq
    kinds = [t.kind for t in await transitions(committed_maker, pid)]
    assert len(kinds) == seq and kinds.count("started") == 1

