"""Which counts of the reach table (answers per group x tier, with its totals) may be shown.

One pure function, `suppress_reach`, used for the API, the results page and the CSV/XLSX
exports alike (they all render `compute_results`).

The table: a cell per (group, tier) with `invited` and `answered`; a total per group (row),
per tier (column) and the grand total. A count of 1 to MIN_GROUP-1 answers could point at
people, so it is hidden ("primary"). Hiding it is not enough: a shown total minus the shown
cells gives it back ("6 von 6" next to two hidden cells of 2 and 4 invitees), and so does a
shown total that equals its invited count (everyone answered, so each hidden cell is its
invited count). So further counts are hidden ("complementary") until every primary count has
more than one value consistent with everything shown.

What a reader knows: every invited count, every shown answer count, and the grand total (the
number of responses is shown on its own, and each question's answer count comes close to it),
so the grand total is never hidden as a complement. Below MIN_GROUP answers in all, the whole
table is hidden, and so are the number of responses and the questions' answer counts.

"Consistent" is decided exactly: the table is a flow network (source -> group -> tier -> sink,
the grand total closing the circulation), each cell's flow bounded by 0..invited; shown counts
are fixed arcs. A hidden count can change iff an alternating cycle of hidden arcs with room to
move passes through it (the residual graph). For an exposed count, the cheapest such cycle
through shown counts is found (small counts first, totals later, "0 von N" last) and its shown
counts are hidden as complements. Where no cycle exists at all (no room anywhere: everyone
invited answered), the invited counts of the breakdown are hidden as well, and only the grand
total stays.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import cast

MIN_GROUP = 5

Cell = tuple[str, int]
# ("cell", (group, tier)) | ("group", group) | ("tier", tier) | ("total", None)
Entry = tuple[str, object]
TOTAL: Entry = ("total", None)


@dataclass(frozen=True)
class Suppression:
    answered: frozenset[Entry]  # entries whose answer count (and rate) is not shown
    invited: bool = False  # the invited counts of cells and group/tier totals are hidden too

    def cell(self, group: str, tier: int) -> bool:
        return ("cell", (group, tier)) in self.answered

    def group(self, group: str) -> bool:
        return ("group", group) in self.answered

    def tier(self, tier: int) -> bool:
        return ("tier", tier) in self.answered

    @property
    def total(self) -> bool:
        return TOTAL in self.answered


def sensitive(answered: int, min_group: int = MIN_GROUP) -> bool:
    # 0 answers reveal nobody's answer (and are the point of the reach matrix); 1..4 could.
    return 0 < answered < min_group


def shown_count(n: int, min_group: int = MIN_GROUP) -> int | None:
    """A count as it may be shown on its own (number of responses, a question's answers)."""
    return None if sensitive(n, min_group) else n


class _Table:
    """Values, bounds and the flow network of one reach table."""

    def __init__(self, answered: Mapping[Cell, int], invited: Mapping[Cell, int]) -> None:
        cells = sorted(set(answered) | set(invited))
        self.value: dict[Entry, int] = {}
        self.bound: dict[Entry, int] = {}
        # Entry -> arc (from, to) of the circulation source -> group -> tier -> sink -> source.
        self.arc: dict[Entry, tuple[object, object]] = {}
        for g, t in cells:
            a, n = answered.get((g, t), 0), invited.get((g, t), 0)
            for entry, arc in ((("cell", (g, t)), (("g", g), ("t", t))),
                               (("group", g), ("s", ("g", g))),
                               (("tier", t), (("t", t), "z")),
                               (TOTAL, ("z", "s"))):
                self.value[entry] = self.value.get(entry, 0) + a
                self.bound[entry] = self.bound.get(entry, 0) + n
                self.arc[entry] = arc

    def cheapest_cover(self, entry: Entry, hidden: set[Entry]) -> set[Entry] | None:
        """The shown entries whose hiding lets `entry` move: the cheapest alternating cycle
        through it (Dijkstra over the residual graph of all entries but the grand total; a hidden
        entry costs nothing, a shown one `_cost`). None when no cycle exists at all."""
        graph: dict[object, list[tuple[object, int, Entry]]] = {}
        for e in self.value:
            if e in (entry, TOTAL):
                continue
            u, v = self.arc[e]
            cost = 0 if e in hidden else _cost(e, self.value[e])
            if self.value[e] < self.bound[e]:
                graph.setdefault(u, []).append((v, cost, e))
            if self.value[e] > 0:
                graph.setdefault(v, []).append((u, cost, e))
        u, v = self.arc[entry]
        best: tuple[int, list[Entry]] | None = None
        # Up: a path back from its head to its tail; down: a path along it.
        for start, goal, room in ((v, u, self.value[entry] < self.bound[entry]),
                                  (u, v, self.value[entry] > 0)):
            if room:
                found = _cheapest_path(graph, start, goal)
                if found is not None and (best is None or found[0] < best[0]):
                    best = found
        return None if best is None else {e for e in best[1] if e not in hidden}

    def determined(self, entry: Entry, hidden: Iterable[Entry]) -> bool:
        """True when everything shown (and the bounds) leaves `entry` only its own value."""
        residual: dict[object, set[object]] = {}
        for e in hidden:
            if e == entry or e == TOTAL:
                continue
            u, v = self.arc[e]
            if self.value[e] < self.bound[e]:
                residual.setdefault(u, set()).add(v)
            if self.value[e] > 0:
                residual.setdefault(v, set()).add(u)
        u, v = self.arc[entry]
        up = self.value[entry] < self.bound[entry] and _reaches(residual, v, u)
        down = self.value[entry] > 0 and _reaches(residual, u, v)
        return not (up or down)


def _coordinates(entry: Entry) -> tuple[str | None, int | None]:
    """(group, tier) of an entry; None where it is a total over that dimension."""
    kind, key = entry
    if kind == "cell":
        cell = cast(Cell, key)
        return cell[0], cell[1]
    if kind == "group":
        return cast(str, key), None
    if kind == "tier":
        return None, cast(int, key)
    return None, None


def _reaches(graph: Mapping[object, set[object]], start: object, goal: object) -> bool:
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        for nxt in graph.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def _cost(entry: Entry, value: int) -> int:
    """What hiding a shown count costs the reader: the smaller the count the cheaper; a cell
    less than a total; a "0 von N" (nobody reached, the point of the reach matrix) the most."""
    return 1 + value + (0 if entry[0] == "cell" else 50) + (1000 if value == 0 else 0)


def _cheapest_path(graph: Mapping[object, list[tuple[object, int, Entry]]], start: object,
                   goal: object) -> tuple[int, list[Entry]] | None:
    queue: list[tuple[int, int, object, list[Entry]]] = [(0, 0, start, [])]
    done: set[object] = set()
    tie = 0
    while queue:
        cost, _, node, path = heapq.heappop(queue)
        if node == goal:
            return cost, path
        if node in done:
            continue
        done.add(node)
        for nxt, step, e in graph.get(node, ()):
            if nxt not in done:
                tie += 1  # nodes of mixed types are never compared
                heapq.heappush(queue, (cost + step, tie, nxt, [*path, e]))
    return None


def _order(entry: Entry) -> tuple[int, str]:
    return (0 if entry[0] == "cell" else 1, repr(entry[1]))


def suppress_reach(answered: Mapping[Cell, int], invited: Mapping[Cell, int], *,
                   min_group: int = MIN_GROUP) -> Suppression:
    """The counts to hide in a reach table given as answered and invited per (group, tier)."""
    table = _Table(answered, invited)
    primary = sorted((e for e, v in table.value.items() if sensitive(v, min_group)), key=_order)
    hidden = set(primary)
    if TOTAL in hidden:
        # Fewer than MIN_GROUP answers in all: nothing of the table is shown (nor the number of
        # responses, see SurveyResults), so no part of it can be played against another.
        return Suppression(frozenset(table.value))
    for entry in primary:
        if entry == TOTAL or not table.determined(entry, hidden):
            continue  # the grand total is public anyway; others may be covered already
        cover = table.cheapest_cover(entry, hidden)
        if cover is None:
            break
        hidden |= cover
    else:
        return Suppression(frozenset(hidden))
    # Nothing left to hide and still exposed: no room anywhere (everyone invited answered), so
    # the invited counts would give the cells back. Only the grand total stays.
    return Suppression(frozenset(e for e in table.value if e != TOTAL), invited=True)
