"""Survey results from SQL aggregates, with small groups suppressed.

PostgreSQL does the counting: one GROUP BY over the survey's answer rows gives, per question,
(choice, number) -> count and respondents; Python only turns those few aggregate rows into
shares, means, distributions and Borda scores. No query loads individual answers except the
listing of free texts (capped). Response rates and the reach matrix come from the invitations
(GROUP BY group and tier). Anything based on fewer than `MIN_GROUP` answers is suppressed; in the
reach table also whatever would give such a count back by subtraction (`suppress_reach`).
"""

from __future__ import annotations

import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.repository import HAS_LEGAL_BASIS
from services.errors import Conflict
from services.models.survey import Survey
from services.repository import Repository
from services.surveys.repository import SurveyRepository
from services.surveys.schemas import DONT_KNOW, DONT_KNOW_LABELS, QuestionDef, pick
from services.surveys.service import questions_from_rows
from services.surveys.suppression import MIN_GROUP, sensitive, shown_count, suppress_reach

TEXT_LIMIT = 200
INVITED_STATUSES = ("sent", "declined", "responded")


class ResultsRepository(Repository):
    """The aggregate queries (all SQL of the results lives here)."""

    async def answer_groups(self, survey_id: uuid.UUID) -> list[tuple[str, str | None,
                                                                       float | None, int, int]]:
        rows = await self.session.execute(text(
            "SELECT question_key, choice, num, count(*) AS n, "
            "       count(*) FILTER (WHERE ordinal = 0) AS respondents "
            "FROM survey_answers WHERE survey_id = :s AND text IS NULL "
            "GROUP BY question_key, choice, num"
        ), {"s": survey_id})
        return [tuple(r) for r in rows]  # type: ignore[misc]

    async def text_counts(self, survey_id: uuid.UUID, keys: list[str]) -> dict[str, int]:
        if not keys:
            return {}
        rows = await self.session.execute(text(
            "SELECT question_key, count(*) FROM survey_answers "
            "WHERE survey_id = :s AND question_key = ANY(:keys) AND text IS NOT NULL "
            "GROUP BY question_key"
        ), {"s": survey_id, "keys": keys})
        return {k: int(n) for k, n in rows}

    async def texts(self, survey_id: uuid.UUID, key: str, limit: int | None
                    ) -> list[tuple[str, str | None]]:
        """(text, language written in): the language is on identified responses only (an
        anonymous response keeps none), so an anonymous survey's texts come without one."""
        # Ordered by the random answer id: a stable order that says nothing about who or when.
        sql = ("SELECT a.text, r.language FROM survey_answers a "
               "JOIN survey_responses r ON r.id = a.response_id "
               "WHERE a.survey_id = :s AND a.question_key = :k AND a.text IS NOT NULL "
               "ORDER BY a.id")
        params: dict[str, Any] = {"s": survey_id, "k": key}
        if limit is not None:
            sql += " LIMIT :n"
            params["n"] = limit
        return [(t, lang) for t, lang in await self.session.execute(text(sql), params)]

    async def response_count(self, survey_id: uuid.UUID) -> int:
        return int(await self.session.scalar(text(
            "SELECT count(*) FROM survey_responses WHERE survey_id = :s"), {"s": survey_id})
            or 0)

    async def reach(self, survey_id: uuid.UUID) -> list[tuple[str, int, int, int]]:
        """(group, tier, invited, answered) over the survey's invitation campaigns."""
        rows = await self.session.execute(text(
            "SELECT i.group_key, i.reach_tier, "
            "       count(*) FILTER (WHERE i.status = ANY(:invited)) AS invited, "
            "       count(*) FILTER (WHERE i.status = 'responded') AS answered "
            "FROM invitations i JOIN campaigns c ON c.id = i.campaign_id "
            "WHERE c.kind = 'survey' AND c.target_id = :s "
            "GROUP BY i.group_key, i.reach_tier ORDER BY i.group_key, i.reach_tier"
        ), {"s": survey_id, "invited": list(INVITED_STATUSES)})
        return [(g, int(t), int(inv), int(ans)) for g, t, inv, ans in rows]

    async def process_reach(self, process_id: uuid.UUID) -> list[tuple[str, int, int, int]]:
        """(group, tier, invited, took part) over all survey and event campaigns of a process:
        the participation report's reach matrix."""
        rows = await self.session.execute(text(
            "SELECT i.group_key, i.reach_tier, "
            "       count(*) FILTER (WHERE i.status = ANY(:invited)) AS invited, "
            "       count(*) FILTER (WHERE i.status = 'responded') AS answered "
            "FROM invitations i JOIN campaigns c ON c.id = i.campaign_id "
            "WHERE c.process_id = :p "
            "GROUP BY i.group_key, i.reach_tier ORDER BY i.group_key, i.reach_tier"
        ), {"p": process_id, "invited": list(INVITED_STATUSES)})
        return [(g, int(t), int(inv), int(ans)) for g, t, inv, ans in rows]

    async def channel_reach(self, survey_id: uuid.UUID) -> list[tuple[str, str, int, int]]:
        """(channel, group, tier, responses) of the survey's responses."""
        rows = await self.session.execute(text(
            "SELECT channel, group_key, reach_tier, count(*) FROM survey_responses "
            "WHERE survey_id = :s GROUP BY channel, group_key, reach_tier "
            "ORDER BY channel, group_key, reach_tier"), {"s": survey_id})
        return [(str(c), str(g or ""), int(t or 0), int(n)) for c, g, t, n in rows]

    async def response_answers(self, survey_id: uuid.UUID, *, with_date: bool
                               ) -> list[tuple[uuid.UUID, Any, str | None, int | None,
                                               str | None, float | None, str | None]]:
        """(response, date or None, question, ordinal, choice, num, text) of every response,
        by the random response id (an order that says nothing about who or when); a response
        without answers comes as one row of NULLs. The date only where asked (identified)."""
        rows = await self.session.execute(text(
            "SELECT r.id, " + ("r.submitted_on" if with_date else "NULL") + ", "
            "       a.question_key, a.ordinal, a.choice, a.num, a.text "
            "FROM survey_responses r LEFT JOIN survey_answers a ON a.response_id = r.id "
            "WHERE r.survey_id = :s ORDER BY r.id, a.question_key, a.ordinal"
        ), {"s": survey_id})
        return [tuple(r) for r in rows]  # type: ignore[misc]

    async def response_names(self, survey_id: uuid.UUID) -> dict[uuid.UUID, str]:
        """Identified surveys: the stakeholder's name per response, where the link exists and
        the person may still be named (not erased, a legal basis still holds)."""
        rows = await self.session.execute(text(
            "SELECT l.response_id, st.name FROM survey_response_links l "
            "JOIN survey_responses r ON r.id = l.response_id "
            "JOIN invitations i ON i.id = l.invitation_id "
            "JOIN stakeholders st ON st.id = i.stakeholder_id "
            "WHERE r.survey_id = :s AND st.erased_at IS NULL AND st.name IS NOT NULL AND "
            + HAS_LEGAL_BASIS.format(s="st")
        ), {"s": survey_id})
        return {rid: name for rid, name in rows}


@dataclass
class Rate:
    invited: int
    answered: int
    suppressed: bool = False
    # Only where hiding answer counts cannot protect a small one (services/surveys/suppression).
    invited_suppressed: bool = False

    @property
    def rate(self) -> float | None:
        if self.suppressed or self.invited == 0:
            return None
        return self.answered / self.invited

    def as_dict(self) -> dict[str, Any]:
        return {"invited": None if self.invited_suppressed else self.invited,
                "answered": None if self.suppressed else self.answered,
                "rate": None if self.rate is None else round(self.rate, 4),
                "suppressed": self.suppressed}


def _num(v: float | None) -> float:
    return float(v) if v is not None else 0.0


@dataclass
class QuestionResult:
    id: str
    kind: str
    text: str
    block: str | None
    answered: int
    suppressed: bool
    options: list[dict[str, Any]] = field(default_factory=list)
    distribution: list[dict[str, Any]] = field(default_factory=list)
    mean: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    ranking: list[dict[str, Any]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    # Parallel to `texts`: the language each was written in (None: not kept, anonymous).
    text_languages: list[str | None] = field(default_factory=list)
    texts_total: int = 0
    # Likert with "weiß nicht" offered: how many chose it (in `answered`, not in the mean).
    dont_know: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "text": self.text,
                               "answered": shown_count(self.answered),
                               "suppressed": self.suppressed}
        if self.block:
            out["block"] = self.block
        if self.suppressed:
            return out
        if self.kind in ("single", "multiple"):
            out["options"] = self.options
        if self.kind in ("likert", "number"):
            out.update({"mean": self.mean, "min": self.minimum, "max": self.maximum,
                        "distribution": self.distribution})
            if self.dont_know is not None:
                out["dont_know"] = self.dont_know
        if self.kind == "ranking":
            out["ranking"] = self.ranking
        if self.kind == "text":
            out.update({"texts": self.texts, "text_languages": self.text_languages,
                        "texts_total": self.texts_total})
        return out


def _share(n: int, total: int) -> float:
    return round(n / total, 4) if total else 0.0


def _question_result(q: QuestionDef, groups: list[tuple[str | None, float | None, int, int]],
                     lang: str) -> QuestionResult:
    answered = sum(first for _, _, _, first in groups)
    r = QuestionResult(q.id, q.kind, pick(q.text, lang), q.block, answered,
                       suppressed=answered < MIN_GROUP)
    if r.suppressed:
        return r
    if q.kind in ("single", "multiple"):
        counts: dict[str, int] = defaultdict(int)
        for choice, _, n, _ in groups:
            if choice is not None:
                counts[choice] += n
        r.options = [{"value": o.value, "label": pick(o.label, lang), "count": counts[o.value],
                      "share": _share(counts[o.value], answered)} for o in q.options]
    elif q.kind in ("likert", "number"):
        if q.dont_know:
            r.dont_know = sum(n for c, _, n, _ in groups if c == DONT_KNOW)
        groups = _scored(groups)
        total = sum(n for _, _, n, _ in groups)
        weighted = sum(_num(v) * n for _, v, n, _ in groups)
        values = [v for _, v, _, _ in groups if v is not None]
        r.mean = round(weighted / total, 3) if total else None
        r.minimum = float(min(values)) if values else None
        r.maximum = float(max(values)) if values else None
        by_value: dict[float, int] = defaultdict(int)
        for _, v, n, _ in groups:
            if v is not None:
                by_value[v] += n
        if q.kind == "likert":
            labels = q.likert_labels(lang)
            r.distribution = [{"value": i, "label": labels[i - 1],
                               "count": by_value.get(float(i), 0),
                               "share": _share(by_value.get(float(i), 0), total)}
                              for i in range(1, 6)]
        else:
            r.distribution = [{"value": float(v), "label": _plain(v), "count": n,
                               "share": _share(n, total)} for v, n in sorted(by_value.items())]
    elif q.kind == "ranking":
        k = len(q.options)
        points: dict[str, float] = defaultdict(float)
        rank_sum: dict[str, float] = defaultdict(float)
        for choice, pos, n, _ in groups:
            if choice is not None and pos is not None:
                points[choice] += (k - _num(pos)) * n  # Borda: first of k gets k-1 points
                rank_sum[choice] += _num(pos) * n
        r.ranking = sorted(
            ({"value": o.value, "label": pick(o.label, lang), "points": int(points[o.value]),
              "score": round(points[o.value] / answered, 3),
              "mean_rank": round(rank_sum[o.value] / answered, 3)} for o in q.options),
            key=lambda item: -item["points"],
        )
    return r


def _scored(groups: list[tuple[str | None, float | None, int, int]]
            ) -> list[tuple[str | None, float | None, int, int]]:
    """The rows with a number: "weiß nicht" (a choice without one) is never scored."""
    return [g for g in groups if g[1] is not None]


def _plain(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


@dataclass
class SurveyResults:
    survey_id: uuid.UUID
    title: str
    anonymity: str
    version: int
    responses: int
    overall: Rate
    by_group: dict[str, Rate]
    by_tier: dict[int, Rate]
    matrix: dict[tuple[str, int], Rate]
    groups: list[str]
    tiers: list[int]
    questions: list[QuestionResult]
    blocks: list[dict[str, Any]]
    by_channel: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "survey": {"id": str(self.survey_id), "title": self.title,
                       "anonymity": self.anonymity, "version": self.version},
            "min_group": MIN_GROUP,
            "responses": shown_count(self.responses),
            "suppressed": self.responses < MIN_GROUP,
            "response_rate": self.overall.as_dict(),
            "by_group": [{"group": g, **r.as_dict()} for g, r in self.by_group.items()],
            "by_tier": [{"tier": t, **r.as_dict()} for t, r in self.by_tier.items()],
            "reach_matrix": {
                "groups": self.groups, "tiers": self.tiers,
                "cells": [{"group": g, "tier": t, **r.as_dict()}
                          for (g, t), r in self.matrix.items()],
            },
            "by_channel": self.by_channel,
            "questions": [q.as_dict() for q in self.questions],
            "blocks": self.blocks,
        }


def _block_scores(survey: Survey, questions: list[QuestionDef],
                  groups: dict[str, list[tuple[str | None, float | None, int, int]]],
                  lang: str) -> list[dict[str, Any]]:
    """The self-check's score per field: the mean Likert value of its statements, as 0-100 %.
    "Weiß nicht" answers are counted apart (`dont_know`, answers over all statements) and left
    out of the mean; a score from fewer than MIN_GROUP scored answers is suppressed, even where
    more people answered (five people, four of them "weiß nicht": the score would be one's)."""
    out = []
    for block in survey.blocks or []:
        keys = [q.id for q in questions if q.block == block["key"] and q.kind == "likert"]
        total = weighted = 0.0
        answered = scored = dont_know = 0
        for key in keys:
            rows = groups.get(key, [])
            numbers = _scored(rows)
            total += sum(n for _, _, n, _ in numbers)
            weighted += sum(_num(v) * n for _, v, n, _ in numbers)
            answered = max(answered, sum(first for _, _, _, first in rows))
            scored = max(scored, sum(first for _, _, _, first in numbers))
            dont_know += sum(n for c, _, n, _ in rows if c == DONT_KNOW)
        suppressed = answered < MIN_GROUP or scored < MIN_GROUP
        mean = weighted / total if total and not suppressed else None
        out.append({
            "key": block["key"], "title": pick(block.get("title"), lang),
            "answered": shown_count(answered), "suppressed": suppressed,
            "dont_know": None if answered < MIN_GROUP else dont_know,
            "mean": None if mean is None else round(mean, 3),
            "score": None if mean is None else round((mean - 1) / 4 * 100, 1),
        })
    return out


@dataclass
class ReachTable:
    """Invited and answered by group x reach tier, with totals, suppressed (one rule for a
    survey's results page and a process's participation report)."""

    overall: Rate
    by_group: dict[str, Rate]
    by_tier: dict[int, Rate]
    matrix: dict[tuple[str, int], Rate]
    groups: list[str]
    tiers: list[int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "min_group": MIN_GROUP,
            "overall": self.overall.as_dict(),
            "by_group": [{"group": g, **r.as_dict()} for g, r in self.by_group.items()],
            "by_tier": [{"tier": t, **r.as_dict()} for t, r in self.by_tier.items()],
            "groups": self.groups, "tiers": self.tiers,
            "cells": [{"group": g, "tier": t, **r.as_dict()} for (g, t), r in self.matrix.items()],
        }


def reach_table(reach: list[tuple[str, int, int, int]]) -> ReachTable:
    """From (group, tier, invited, answered) rows, hiding what `suppress_reach` says."""
    groups = sorted({g for g, _, _, _ in reach})
    tiers = sorted({t for _, t, _, _ in reach} | {1, 2, 3})
    invited = {(g, t): 0 for g in groups for t in tiers}
    answered = dict(invited)
    for g, t, inv, ans in reach:
        invited[(g, t)], answered[(g, t)] = inv, ans
    hide = suppress_reach(answered, invited)

    def rate(cells: list[tuple[str, int]], suppressed: bool) -> Rate:
        return Rate(sum(invited[c] for c in cells), sum(answered[c] for c in cells),
                    suppressed=suppressed, invited_suppressed=hide.invited)

    return ReachTable(
        overall=Rate(sum(invited.values()), sum(answered.values()), suppressed=hide.total),
        by_group={g: rate([(g, t) for t in tiers], hide.group(g)) for g in groups},
        by_tier={t: rate([(g, t) for g in groups], hide.tier(t)) for t in tiers},
        matrix={c: rate([c], hide.cell(*c)) for c in sorted(invited)},
        groups=groups, tiers=tiers)


CHANNEL_ORDER = ("invitation", "multiplier", "interview", "paper")
# The channels' names on pages and in exports (German: staff read them).
CHANNEL_LABELS = {"invitation": "persönliche Einladung", "multiplier": "Multiplikatoren-Link",
                  "interview": "Interview", "paper": "Papierbogen"}
# Channels whose answers carry a group and tier without an invitation (a link's, or the one
# staff chose): each gets its own group x tier table.
UNINVITED = ("multiplier", "interview", "paper")


def channel_breakdown(rows: Sequence[tuple[str, str | None, int | None, int]]) -> dict[str, Any]:
    """Responses per channel (personal invitation, multiplier link, interview, paper form)
    and, per channel without invitations, its answers by group and tier, from (channel,
    group, tier, responses) rows.

    Per channel: a count of 1 to MIN_GROUP-1 is hidden, and so is a second channel's then
    (the number of responses is shown, so one hidden count next to the others would come back
    by subtraction). The group x tier table of each uninvited channel is hidden by
    `suppress_reach` like the reach matrix: its cells have no invited count, so each cell is
    bounded only by the channel's total. An answer entered without a group counts under the
    group "" ("ohne Angabe"), without a tier under tier 0. Known limit: the invitation
    channel's count is also the reach table's "answered" total, so with both shown the
    other channels' total follows from the number of responses; it is a count of anonymous
    answers of a whole channel."""
    per_channel: dict[str, int] = defaultdict(int)
    cells: dict[str, dict[tuple[str, int], int]] = {c: defaultdict(int) for c in UNINVITED}
    for channel, group, tier, n in rows:
        per_channel[channel] += n
        if channel in cells:
            cells[channel][(group or "", tier or 0)] += n
    total = sum(per_channel.values())
    present = [c for c in CHANNEL_ORDER if per_channel.get(c)]
    hidden = {c for c in present if sensitive(per_channel[c])}
    if len(hidden) == 1 and len(present) > 1:
        # The smallest other shown channel, so the hidden one cannot be subtracted out.
        hidden.add(min((c for c in present if c not in hidden), key=lambda c: per_channel[c]))
    if total < MIN_GROUP:
        hidden = set(present)
    channels = [{"channel": c, "label": CHANNEL_LABELS[c],
                 "responses": None if c in hidden else per_channel.get(c, 0),
                 "suppressed": c in hidden} for c in CHANNEL_ORDER]
    out: dict[str, Any] = {"min_group": MIN_GROUP, "channels": channels}
    for channel in UNINVITED:
        out[channel] = _group_tier_table(cells[channel], per_channel.get(channel, 0),
                                         channel in hidden)
    return out


def _group_tier_table(cells: dict[tuple[str, int], int], channel_total: int,
                      channel_hidden: bool) -> dict[str, Any]:
    groups = sorted({g for g, _ in cells})
    tiers = sorted({t for _, t in cells} | {1, 2, 3})
    answered = {(g, t): cells.get((g, t), 0) for g in groups for t in tiers}
    hide = suppress_reach(answered, dict.fromkeys(answered, channel_total))
    hide_all = channel_hidden or hide.total

    def shown(n: int, suppressed: bool) -> dict[str, Any]:
        return {"responses": None if suppressed or hide_all else n,
                "suppressed": suppressed or hide_all}

    return {
        "groups": groups, "tiers": tiers,
        "by_group": [{"group": g, **shown(sum(answered[(g, t)] for t in tiers),
                                          hide.group(g))} for g in groups],
        "by_tier": [{"tier": t, **shown(sum(answered[(g, t)] for g in groups),
                                        hide.tier(t))} for t in tiers],
        "cells": [{"group": g, "tier": t, **shown(answered[(g, t)], hide.cell(g, t))}
                  for (g, t) in sorted(answered)],
    }


async def compute_results(session: AsyncSession, survey: Survey, *, lang: str = "de",
                          text_limit: int | None = TEXT_LIMIT) -> SurveyResults:
    repo = ResultsRepository.from_session(session)
    questions = questions_from_rows(
        await SurveyRepository.from_session(session).questions(survey.id))
    grouped: dict[str, list[tuple[str | None, float | None, int, int]]] = defaultdict(list)
    for key, choice, num, n, first in await repo.answer_groups(survey.id):
        grouped[key].append((choice, num, int(n), int(first)))
    text_keys = [q.id for q in questions if q.kind == "text"]
    text_counts = await repo.text_counts(survey.id, text_keys)
    results: list[QuestionResult] = []
    for q in questions:
        if q.kind == "text":
            n = text_counts.get(q.id, 0)
            r = QuestionResult(q.id, q.kind, pick(q.text, lang), q.block, n,
                               suppressed=n < MIN_GROUP, texts_total=n)
            if not r.suppressed:
                rows = await repo.texts(survey.id, q.id, text_limit)
                r.texts = [t for t, _ in rows]
                r.text_languages = [lang for _, lang in rows]
            results.append(r)
        else:
            results.append(_question_result(q, grouped.get(q.id, []), lang))

    reach = reach_table(await repo.reach(survey.id))
    return SurveyResults(
        survey_id=survey.id, title=pick(survey.title, lang), anonymity=survey.anonymity,
        version=survey.version, responses=await repo.response_count(survey.id),
        overall=reach.overall, by_group=reach.by_group, by_tier=reach.by_tier,
        matrix=reach.matrix, groups=reach.groups, tiers=reach.tiers, questions=results,
        blocks=_block_scores(survey, questions, grouped, lang),
        by_channel=channel_breakdown(await repo.channel_reach(survey.id)),
    )


# --- individual responses ----------------------------------------------------------------------

def german_key(name: str) -> str:
    """Sorting as in a German list (DIN 5007-1): umlauts with their base letter, "ß" as "ss",
    case ignored ("Ärzteverein" before "Zora")."""
    plain = unicodedata.normalize("NFKD", name.replace("ß", "ss"))
    return "".join(c for c in plain if not unicodedata.combining(c)).casefold()


@dataclass
class IndividualResponses:
    """One row per response: `columns` as (name, kind) for the writers in export.py."""

    columns: list[tuple[str, str]]
    rows: list[list[Any]]


def _answer_value(q: QuestionDef, parts: list[tuple[str | None, float | None, str | None]]
                  ) -> Any:
    labels = {o.value: pick(o.label, "de") for o in q.options}
    if q.kind == "text":
        return parts[0][2]
    if q.kind in ("single", "multiple"):
        return "; ".join(labels.get(c or "", c or "") for c, _, _ in parts)
    if q.kind == "ranking":
        return " > ".join(labels.get(c or "", c or "") for c, _, _ in parts)
    choice, num, _ = parts[0]
    if choice == DONT_KNOW:
        return DONT_KNOW_LABELS["de"]
    if num is None:
        return None
    return int(num) if float(num).is_integer() else float(num)


async def individual_responses(session: AsyncSession, survey: Survey) -> IndividualResponses:
    """Every response with its answers, for the organisation's coordinators and admins.

    Anonymous surveys: the answers only, numbered in the order of the random response id; no
    date, group, tier, channel or anything of the invitation. Below MIN_GROUP responses they
    are refused (409): whoever sees which invitations were answered would know whose answers
    the few rows are. Identified surveys: also the stakeholder's name (where the person may
    still be named, `response_names`) and the date of submission, sorted by name."""
    repo = ResultsRepository.from_session(session)
    identified = survey.anonymity == "identified"
    questions = questions_from_rows(
        await SurveyRepository.from_session(session).questions(survey.id))
    answers: dict[uuid.UUID, dict[str, list[tuple[str | None, float | None, str | None]]]] = {}
    dates: dict[uuid.UUID, Any] = {}
    for rid, day, key, _, choice, num, txt in await repo.response_answers(
            survey.id, with_date=identified):
        answers.setdefault(rid, {})
        dates[rid] = day
        if key is not None:
            answers[rid].setdefault(key, []).append((choice, num, txt))
    if not identified and 0 < len(answers) < MIN_GROUP:
        raise Conflict(
            f"Einzelantworten einer anonymen Umfrage gibt es erst ab {MIN_GROUP} Antworten: "
            "bei weniger ließen sie sich den Personen zuordnen, die geantwortet haben.",
            code="too_few_responses", details={"min_group": MIN_GROUP})
    names = await repo.response_names(survey.id) if identified else {}
    order = list(answers)  # by the random id
    if identified:
        order.sort(key=lambda rid: (rid not in names, german_key(names.get(rid) or "")))
    kinds = {"number": "number", "likert": "int"}
    columns: list[tuple[str, str]] = [("nr", "int")]
    if identified:
        columns += [("name", "text"), ("eingereicht_am", "text")]
    columns += [(f"{q.id} – {pick(q.text, 'de')}", kinds.get(q.kind, "text")) for q in questions]
    rows = []
    for nr, rid in enumerate(order, 1):
        row: list[Any] = [nr]
        if identified:
            day = dates.get(rid)
            row += [names.get(rid, ""), "" if day is None else f"{day:%d.%m.%Y}"]
        given = answers[rid]
        row += [_answer_value(q, given[q.id]) if q.id in given else None for q in questions]
        rows.append(row)
    return IndividualResponses(columns, rows)
