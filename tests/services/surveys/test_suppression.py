"""No suppressed count of the reach table can be worked out from what is shown (issue 8).

The oracle here is independent of `suppress_reach`'s flow-network reasoning: it takes only what a
reader sees (the shown cells and totals, the invited counts, the number of responses) and
searches, by plain enumeration, for another table that shows the same; a small count is
protected iff such a table gives it another value.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.models.organisation import Role
from services.surveys.results import Rate
from services.surveys.suppression import MIN_GROUP, shown_count, suppress_reach
from tests.support.surveys import make_campaign, make_invites, make_process, make_survey

Cell = tuple[str, int]


@dataclass
class Shown:
    """A reach table as a reader sees it (None: not shown)."""

    groups: list[str]
    tiers: list[int]
    invited: dict[Cell, int | None]
    answered: dict[Cell, int | None]
    rows: dict[str, int | None]
    cols: dict[int, int | None]
    total: int | None  # the number of responses: public where shown
    invited_total: int


def shown_from_api(r: dict) -> Shown:
    cells = r["reach_matrix"]["cells"]
    return Shown(
        groups=r["reach_matrix"]["groups"], tiers=r["reach_matrix"]["tiers"],
        invited={(c["group"], c["tier"]): c["invited"] for c in cells},
        answered={(c["group"], c["tier"]): c["answered"] for c in cells},
        rows={g["group"]: g["answered"] for g in r["by_group"]},
        cols={t["tier"]: t["answered"] for t in r["by_tier"]},
        total=r["responses"], invited_total=r["response_rate"]["invited"])


def shown_from_rates(answered: dict[Cell, int], invited: dict[Cell, int]) -> Shown:
    """What the results render for a table (the same Rate.as_dict the API uses)."""
    hide = suppress_reach(answered, invited)
    groups = sorted({g for g, _ in answered})
    tiers = sorted({t for _, t in answered})

    def shown(cells: list[Cell], suppressed: bool) -> dict:
        return Rate(sum(invited[c] for c in cells), sum(answered[c] for c in cells),
                    suppressed=suppressed, invited_suppressed=hide.invited).as_dict()

    cells = {c: shown([c], hide.cell(*c)) for c in answered}
    return Shown(
        groups=groups, tiers=tiers,
        invited={c: d["invited"] for c, d in cells.items()},
        answered={c: d["answered"] for c, d in cells.items()},
        rows={g: shown([(g, t) for t in tiers], hide.group(g))["answered"] for g in groups},
        cols={t: shown([(g, t) for g in groups], hide.tier(t))["answered"] for t in tiers},
        total=shown_count(sum(answered.values())), invited_total=sum(invited.values()))


def another_value_exists(s: Shown, target: tuple[str, object], true_value: int,
                         budget: int = 3_000_000) -> bool:
    """Is there a table consistent with everything shown in which `target` ("cell", (g, t)),
    ("group", g) or ("tier", t) has another value than `true_value`?"""
    unknown = [c for c in s.answered if s.answered[c] is None]
    kind, key = target

    def members(c: Cell) -> bool:
        return (kind == "cell" and c == key) or (kind == "group" and c[0] == key) \
            or (kind == "tier" and c[1] == key)

    unknown.sort(key=lambda c: not members(c))  # the target's cells first: checked early
    known = {c: v for c, v in s.answered.items() if v is not None}
    bound = {c: (s.invited[c] if s.invited[c] is not None else s.invited_total)
             for c in unknown}
    row_left = {g: len([c for c in unknown if c[0] == g]) for g in s.groups}
    col_left = {t: len([c for c in unknown if c[1] == t]) for t in s.tiers}
    rows = {g: sum(v for c, v in known.items() if c[0] == g) for g in s.groups}
    cols = {t: sum(v for c, v in known.items() if c[1] == t) for t in s.tiers}
    n_target = len([c for c in unknown if members(c)])
    target_known = sum(v for c, v in known.items() if members(c))
    steps = [0]

    def fits(g: str, t: int) -> bool:
        for total, shown, left in ((rows[g], s.rows[g], row_left[g]),
                                   (cols[t], s.cols[t], col_left[t])):
            if shown is not None and (total > shown or (left == 0 and total != shown)):
                return False
        return True

    def search(i: int, total: int, target_sum: int) -> bool:
        steps[0] += 1
        assert steps[0] < budget, "oracle search too large"
        if i == n_target and target_sum + target_known == true_value:
            return False  # the target's value is fixed now and is the true one
        if i == len(unknown):
            return s.total is None or total == s.total
        g, t = unknown[i]
        room = sum(bound[c] for c in unknown[i + 1:])
        row_left[g] -= 1
        col_left[t] -= 1
        try:
            for v in range(bound[(g, t)] + 1):
                if s.total is not None and (total + v > s.total or total + v + room < s.total):
                    continue
                rows[g] += v
                cols[t] += v
                ok = fits(g, t) and search(i + 1, total + v,
                                           target_sum + (v if i < n_target else 0))
                rows[g] -= v
                cols[t] -= v
                if ok:
                    return True
            return False
        finally:
            row_left[g] += 1
            col_left[t] += 1

    return search(0, sum(known.values()), 0)


def assert_protected(s: Shown, answered: dict[Cell, int]) -> None:
    """Every small count is hidden, and none of them can be worked out from what is shown."""
    truths: list[tuple[tuple[str, object], int, int | None]] = []
    truths += [(("cell", c), v, s.answered[c]) for c, v in answered.items()]
    truths += [(("group", g), sum(v for c, v in answered.items() if c[0] == g), s.rows[g])
               for g in s.groups]
    truths += [(("tier", t), sum(v for c, v in answered.items() if c[1] == t), s.cols[t])
               for t in s.tiers]
    for target, value, shown in truths:
        if 0 < value < MIN_GROUP:
            assert shown is None, (target, value)
            assert another_value_exists(s, target, value), (target, value, s)
        else:
            assert shown in (None, value), (target, value, shown)


tables = st.integers(1, 3).flatmap(lambda n_groups: st.integers(1, 3).flatmap(
    lambda n_tiers: st.lists(
        st.integers(0, 6).flatmap(lambda inv: st.tuples(st.just(inv), st.integers(0, inv))),
        min_size=n_groups * n_tiers, max_size=n_groups * n_tiers).map(
        lambda values: {(f"g{i // n_tiers}", 1 + i % n_tiers): v
                        for i, v in enumerate(values)})))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables)
def test_no_suppressed_count_can_be_derived(table):
    invited = {c: inv for c, (inv, _) in table.items()}
    answered = {c: ans for c, (_, ans) in table.items()}
    assert_protected(shown_from_rates(answered, invited), answered)


def test_six_of_six_is_not_shown_next_to_its_hidden_cells():
    # Group a: 2 of 2 and 4 of 4 answered; its total "6 von 6" gave both hidden cells back.
    invited = {("a", 1): 2, ("a", 2): 4, ("a", 3): 0,
               ("b", 1): 20, ("b", 2): 10, ("b", 3): 8}
    answered = {("a", 1): 2, ("a", 2): 4, ("a", 3): 0,
                ("b", 1): 10, ("b", 2): 8, ("b", 3): 0}
    hide = suppress_reach(answered, invited)
    assert hide.cell("a", 1) and hide.cell("a", 2) and hide.group("a")
    assert not hide.total and not hide.invited
    assert_protected(shown_from_rates(answered, invited), answered)


async def test_results_api_hides_what_subtraction_would_reveal(client, session, make_staff):
    """The same "6 von 6" through the database and the API (and the page and the exports,
    which render the same results)."""
    staff = await make_staff(role=Role.coordinator)
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, from_template="vielfaltsmanager-feedback")
    campaign = await make_campaign(session, survey)
    for group, tier, invited, answered in (("a", 1, 2, 2), ("a", 2, 4, 4), ("b", 1, 20, 10),
                                           ("b", 2, 10, 8), ("b", 3, 8, 0)):
        await make_invites(session, campaign, answered, group=group, tier=tier,
                           status="responded")
        await make_invites(session, campaign, invited - answered, group=group, tier=tier)
    r = (await client.get(f"/api/v1/surveys/{survey.id}/results",
                          headers=staff.headers)).json()
    groups = {g["group"]: g for g in r["by_group"]}
    assert groups["a"]["answered"] is None and groups["a"]["suppressed"] is True
    r["responses"] = r["response_rate"]["answered"]  # no survey_responses rows in this setup
    answered = {("a", 1): 2, ("a", 2): 4, ("a", 3): 0,
                ("b", 1): 10, ("b", 2): 8, ("b", 3): 0}
    assert_protected(shown_from_api(r), answered)

    csv_text = (await client.get(f"/api/v1/surveys/{survey.id}/results.csv?tabelle="
                                 "erreichbarkeit", headers=staff.headers)
                ).content.decode("utf-8-sig")
    assert "a;1;2;;;ja" in csv_text and "a;2;4;;;ja" in csv_text
    assert csv_text.startswith("gruppe;stufe") and "gesamt" in csv_text
    page = await client.get(f"/app/surveys/{survey.id}/results", headers=staff.headers)
    assert page.status_code == 200 and "Gruppen × Erreichbarkeit" in page.text
    assert "6 von 6" not in page.text and "unterdrückt" in page.text
    assert "nicht erreicht" in page.text  # b, tier 3: 0 of 8 protects nothing, so it stays
