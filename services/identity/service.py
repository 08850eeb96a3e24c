"""Organisations, staff users, roles and who is asking (the principal)."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from services.events.service import record_event
from services.identity.passwords import hash_password_async, verify_password_async
from services.identity.repository import IdentityRepository
from services.identity.tokens import TokenClaims
from services.models.organisation import Membership, Organisation, Role, StaffSession, User

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class OrgRole:
    organisation_id: uuid.UUID
    slug: str
    name: str
    role: Role


@dataclass(frozen=True)
class Principal:
    """A signed-in staff user and their role in each organisation."""

    user_id: uuid.UUID
    email: str
    display_name: str
    is_platform_admin: bool
    orgs: dict[uuid.UUID, OrgRole] = field(default_factory=dict)

    @property
    def organisation_ids(self) -> list[uuid.UUID]:
        return list(self.orgs)

    def role_in(self, organisation_id: uuid.UUID) -> Role | None:
        entry = self.orgs.get(organisation_id)
        return entry.role if entry else None

    def require(self, organisation_id: uuid.UUID, *roles: Role) -> OrgRole:
        """Raise 404 for an organisation the user is not in (no existence leak), 403 for a role."""
        entry = self.orgs.get(organisation_id)
        if entry is None:
            raise NotFound("Nicht gefunden.")
        if roles and entry.role not in roles and entry.role != Role.admin:
            raise Forbidden(
                "Ihre Rolle erlaubt diese Aktion nicht.",
                code="role_required",
                details={"required": [r.value for r in roles], "role": entry.role.value},
            )
        return entry


async def load_principal(session: AsyncSession, user_id: uuid.UUID) -> Principal:
    repo = IdentityRepository.from_session(session)
    user = await repo.user_by_id(user_id)
    if user is None or not user.is_active:
        raise Unauthorized("Ungültiges Zugangstoken.", code="invalid_token")
    orgs = {
        org.id: OrgRole(org.id, org.slug, org.name, m.role)
        for m, org in await repo.memberships_of(user.id)
    }
    return Principal(user.id, user.email, user.display_name, user.is_platform_admin, orgs)


async def principal_for_claims(session: AsyncSession, claims: TokenClaims, *,
                               now: datetime | None = None) -> Principal:
    """The principal of a verified token, if its sign-in is still live (one primary-key
    lookup): logout and a password change revoke sign-ins before their tokens expire."""
    now = now or datetime.now(UTC)
    row = await IdentityRepository.from_session(session).staff_session(claims.session_id)
    if row is None or row.user_id != claims.user_id:
        raise Unauthorized("Ungültiges Zugangstoken.", code="invalid_token")
    if row.revoked_at is not None:
        raise Unauthorized("Sie haben sich abgemeldet. Bitte melden Sie sich erneut an.",
                           code="session_revoked")
    if row.expires_at <= now:
        raise Unauthorized("Die Anmeldung ist abgelaufen.", code="token_expired")
    return await load_principal(session, claims.user_id)


async def start_session(session: AsyncSession, user_id: uuid.UUID,
                        ttl_seconds: int) -> StaffSession:
    repo = IdentityRepository.from_session(session)
    now = datetime.now(UTC)
    # Expired sign-ins are useless (the token's own age check refuses them too): the table
    # keeps only live and revoked-but-unexpired rows per user.
    await repo.delete_expired_sessions_of(user_id, now)
    row = StaffSession(user_id=user_id, expires_at=now + timedelta(seconds=ttl_seconds))
    repo.add(row)
    await repo.flush()
    return row


async def end_session(session: AsyncSession, claims: TokenClaims) -> None:
    """Logout: the sign-in is revoked (idempotent; a foreign or unknown id changes nothing)."""
    row = await IdentityRepository.from_session(session).staff_session(claims.session_id)
    if row is not None and row.user_id == claims.user_id and row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    user = await IdentityRepository.from_session(session).user_by_email(email.strip())
    ok = await verify_password_async(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        raise Unauthorized("E-Mail-Adresse oder Passwort ist falsch.", code="invalid_credentials")
    return user


async def create_organisation(
    session: AsyncSession, slug: str, name: str, *, actor: str | None = None
) -> Organisation:
    if not SLUG_RE.match(slug):
        raise ValidationFailed(
            "Der Kurzname darf nur Kleinbuchstaben, Ziffern und Bindestriche enthalten.",
            details=[{"field": "slug", "message": "invalid slug"}],
        )
    repo = IdentityRepository.from_session(session)
    if await repo.org_by_slug(slug):
        raise Conflict(f"Die Organisation {slug!r} gibt es schon.", code="org_exists")
    org = Organisation(slug=slug, name=name.strip())
    repo.add(org)
    await repo.flush()
    await record_event(
        session, organisation_id=org.id, type="organisation.created",
        data={"slug": slug, "name": org.name}, actor=actor,
    )
    return org


async def set_public_task_basis(session: AsyncSession, org: Organisation, basis: str | None,
                                *, actor: str | None = None) -> Organisation:
    """Declare (or withdraw, with None) the public task under which the organisation invites
    people without their consent (DSGVO Art. 6 (1) e, e.g. "§ 5 HGO …")."""
    org.public_task_basis = (basis or "").strip() or None
    await session.flush()
    await record_event(session, organisation_id=org.id, type="organisation.public_task_basis",
                       data={"public_task_basis": org.public_task_basis}, actor=actor)
    return org


async def organisation_time_zone(session: AsyncSession, organisation_id: uuid.UUID) -> str:
    """The zone its pages and mails show times in (Europe/Berlin unless it says otherwise)."""
    org = await IdentityRepository.from_session(session).org_by_id(organisation_id)
    return (org.time_zone if org else None) or "Europe/Berlin"


async def get_organisation(session: AsyncSession, slug: str) -> Organisation:
    org = await IdentityRepository.from_session(session).org_by_slug(slug)
    if org is None:
        raise NotFound("Nicht gefunden.")
    return org


async def ensure_user(
    session: AsyncSession,
    *,
    org_slug: str,
    email: str,
    role: Role,
    password: str | None = None,
    display_name: str = "",
    platform_admin: bool = False,
) -> tuple[User, str | None]:
    """Create a staff user (or give an existing one the role). Returns the user and the
    generated password when one was made up."""
    org = await get_organisation(session, org_slug)
    repo = IdentityRepository.from_session(session)
    email = email.strip().lower()
    if "@" not in email:
        raise ValidationFailed("Ungültige E-Mail-Adresse.", details=[{"field": "email"}])
    generated = None
    user = await repo.user_by_email(email)
    if user is None:
        if password is None:
            generated = password = secrets.token_urlsafe(12)
        user = User(email=email, display_name=display_name or email.split("@")[0],
                    password_hash=await hash_password_async(password),
                    is_platform_admin=platform_admin)
        repo.add(user)
        await repo.flush()
    else:
        if password is not None:
            user.password_hash = await hash_password_async(password)
            # Whoever knew the old password may hold a token: a new password ends every sign-in.
            await repo.revoke_sessions_of(user.id, datetime.now(UTC))
        if platform_admin:
            user.is_platform_admin = True
    membership = await repo.membership(user.id, org.id)
    if membership is None:
        repo.add(Membership(user_id=user.id, organisation_id=org.id, role=role))
    else:
        membership.role = role
    await repo.flush()
    await record_event(
        session, organisation_id=org.id, type="membership.granted",
        data={"email": email, "role": role.value},
    )
    return user, generated


async def members_with_role(session: AsyncSession, org_id: uuid.UUID, role: Role) -> list[User]:
    return await IdentityRepository.from_session(session).members_with_role(org_id, role.value)
