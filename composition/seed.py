"""Demo data for the embedded stack: the town of Weiterstadt and its staff.

The passwords below are public (README) and meant only for the local demo; `seed_demo` is
called by `mitwirken dev` and `mitwirken seed-demo`, never by production set-ups.
Idempotent: a second run finds everything and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from services.identity.repository import IdentityRepository
from services.identity.service import create_organisation, ensure_user
from services.models.organisation import Role

DEMO_ORG_SLUG = "weiterstadt"
DEMO_ORG_NAME = "Stadt Weiterstadt"


@dataclass(frozen=True)
class DemoLogin:
    label: str
    email: str
    password: str
    role: Role
    display_name: str
    platform_admin: bool = False


# Three steering members so that approval rules (any, majority, all) differ in the demo.
DEMO_USERS: tuple[DemoLogin, ...] = (
    DemoLogin("Plattform-Administration", "admin@weiterstadt.example", "demo-admin",
              Role.admin, "Plattform-Administration", platform_admin=True),
    DemoLogin("Koordination", "koordination@weiterstadt.example", "demo-koordination",
              Role.coordinator, "Integrationsbüro Weiterstadt"),
    DemoLogin("Steuerungsgruppe", "steuerung1@weiterstadt.example", "demo-steuerung",
              Role.steering, "Steuerungsgruppe (1)"),
    DemoLogin("Steuerungsgruppe", "steuerung2@weiterstadt.example", "demo-steuerung",
              Role.steering, "Steuerungsgruppe (2)"),
    DemoLogin("Steuerungsgruppe", "steuerung3@weiterstadt.example", "demo-steuerung",
              Role.steering, "Steuerungsgruppe (3)"),
    DemoLogin("Sitzungsdienst", "sitzungsdienst@weiterstadt.example", "demo-sitzungsdienst",
              Role.clerk, "Büro der Stadtverordnetenversammlung"),
    DemoLogin("Interviews", "interviews@weiterstadt.example", "demo-interviews",
              Role.interviewer, "Interviewteam"),
)


@dataclass
class DemoLogins:
    org_slug: str
    org_name: str
    logins: list[DemoLogin]
    created: list[str] = field(default_factory=list)  # what this run added (empty on re-run)


async def seed_demo(session: AsyncSession, *, temporal: Client | None = None) -> DemoLogins:
    """Create the demo organisation and staff unless they exist. Only flushes; the caller
    commits (one unit of work). `temporal` starts the demo process; without it the process
    seed connects with the environment's settings."""
    repo = IdentityRepository.from_session(session)
    created: list[str] = []
    org = await repo.org_by_slug(DEMO_ORG_SLUG)
    if org is None:
        org = await create_organisation(session, DEMO_ORG_SLUG, DEMO_ORG_NAME, actor="seed")
        created.append(f"organisation {DEMO_ORG_SLUG}")
    for login in DEMO_USERS:
        user = await repo.user_by_email(login.email)
        if user is not None and await repo.membership(user.id, org.id) is not None:
            continue  # keep whatever the demo user changed since
        await ensure_user(session, org_slug=DEMO_ORG_SLUG, email=login.email, role=login.role,
                          password=login.password, display_name=login.display_name,
                          platform_admin=login.platform_admin)
        created.append(login.email)

    # --- Demo data of other domains -------------------------------------------------------
    # Append one call per domain below (each idempotent, flush only), e.g.
    #   await seed_demo_process(session, org)       # helper "process"
    #   await seed_demo_stakeholders(session, org)  # helper "campaigns"
    from composition.process_demo import seed_demo_process  # helper "process"

    await seed_demo_process(session, org, client=temporal)
    from composition.process_demo import DEMO_PROCESS_ID  # helper "surveys"
    from services.surveys.demo import seed_demo_surveys

    await seed_demo_surveys(session, DEMO_PROCESS_ID)
    from services.stakeholders.demo import seed_demo_stakeholders  # helper "campaigns"

    await seed_demo_stakeholders(session, org)
    # ---------------------------------------------------------------------------------------

    return DemoLogins(DEMO_ORG_SLUG, DEMO_ORG_NAME, list(DEMO_USERS), created)
