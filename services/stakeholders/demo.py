"""Demo stakeholders for the embedded stack: Weiterstadt's seven groups, Bergkamen's three
reach tiers, a partner organisation with a contact person, one English speaker."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.models.organisation import Organisation
from services.models.stakeholder import Stakeholder
from services.processes.templates import builtin_templates
from services.stakeholders.repository import StakeholderRepository

DOMAIN = "weiterstadt.example"
CONSENT = datetime(2026, 2, 3, 18, 0, tzinfo=UTC)

PEOPLE = [
    # name, e-mail local part, kind, group key, reach tier, tags, language
    ("Aylin Demir", "aylin.demir", "person", "engagierte-buergerinnen", 2, ["jugend"], "de"),
    ("Jonas Becker", "jonas.becker", "person", "engagierte-buergerinnen", 1, ["sport"], "de"),
    ("Oksana Melnyk", "oksana.melnyk", "person", "engagierte-buergerinnen", 3,
     ["fluchterfahrung"], "en"),
    ("Fachdienst Jugend und Integration", "integration", "organisation", "verwaltung", 1, [],
     "de"),
    ("Fraktion im Stadtparlament", "fraktion", "organisation", "politik", 1, [], "de"),
    ("Ausländerbeirat", "auslaenderbeirat", "organisation", "zivilgesellschaft-mandat", 2, [],
     "de"),
    ("Seniorenbeirat", "seniorenbeirat", "organisation", "zivilgesellschaft-mandat", 2,
     ["senioren"], "de"),
    ("Ökumenischer Arbeitskreis Asyl", "ak-asyl", "organisation", "zivilgesellschaft", 2, [],
     "de"),
    ("Miteinander – Frauentreff", "frauentreff", "organisation", "zivilgesellschaft", 3, [],
     "de"),
    ("Diakonisches Werk", "diakonie", "organisation", "lokale-kooperationspartner", 1, [],
     "de"),
    ("Landkreis Darmstadt-Dieburg, WIR-Koordination", "wir-koordination", "organisation",
     "regionale-kooperationspartner", 1, [], "de"),
]


async def seed_demo_stakeholders(session: AsyncSession, org: Organisation) -> None:
    """Idempotent (upsert by e-mail); flushes only."""
    rows = [{"name": name, "email": f"{local}@{DOMAIN}", "kind": kind, "group_key": group,
             "reach_tier": tier, "tags": tags, "language": language,
             "consent_at": CONSENT, "consent_method": "Anmeldebogen Kick-off-Veranstaltung",
             "legal_basis": "consent"}
            for name, local, kind, group, tier, tags, language in PEOPLE]
    repo = StakeholderRepository.from_session(session)
    # Weiterstadt's groups are known before its demo process starts (which adds them too).
    await repo.add_groups(org.id, [(g.key, g.title) for g in builtin_templates()[
        "weiterstadt-vielfaltsstrategie"].stakeholder_groups], "template")
    await repo.bulk_upsert(org.id, rows)
    diakonie = await repo.by_email(org.id, f"diakonie@{DOMAIN}")
    contact_email = f"m.schulz@{DOMAIN}"
    exists = await session.scalar(select(Stakeholder.id).where(
        Stakeholder.organisation_id == org.id, Stakeholder.email == contact_email))
    if diakonie is not None and exists is None:
        repo.add(Stakeholder(
            organisation_id=org.id, kind="person", name="Maria Schulz (Migrationsberatung)",
            email=contact_email, group_key="lokale-kooperationspartner", reach_tier=1,
            tags=[], language="de", parent_id=diakonie.id, consent_at=CONSENT,
            legal_basis="consent",
            consent_method="E-Mail an das Integrationsbüro"))
        await session.flush()
