"""Staff accounts: invitations, roles, deactivation, password links and changes.

A link's secret goes only into the mail; the table keeps its SHA-256 (unique), an expiry and
`used_at`. Setting a password spends the link and every other open link of the account and
ends the account's sign-ins (whoever knew the old password may hold a token).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import Conflict, Gone, NotFound, Unauthorized, ValidationFailed
from services.events.service import record_event
from services.identity.passwords import hash_password_async, verify_password_async
from services.identity.repository import IdentityRepository
from services.models.organisation import Membership, Role, StaffToken, User

INVITE_TTL = timedelta(days=7)
RESET_TTL = timedelta(days=2)
MIN_PASSWORD = 10


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(
            f"Das Passwort muss mindestens {MIN_PASSWORD} Zeichen lang sein.",
            details=[{"field": "password",
                      "message": f"mindestens {MIN_PASSWORD} Zeichen"}])


async def _new_link(session: AsyncSession, user_id: uuid.UUID, purpose: str,
                    ttl: timedelta) -> str:
    secret = secrets.token_urlsafe(32)
    repo = IdentityRepository.from_session(session)
    repo.add(StaffToken(user_id=user_id, purpose=purpose, token_hash=_digest(secret),
                        expires_at=datetime.now(UTC) + ttl))
    await repo.flush()
    return secret


def _email(value: str) -> str:
    email = value.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or any(c.isspace() for c in email):
        raise ValidationFailed("Bitte eine gültige E-Mail-Adresse angeben.",
                               details=[{"field": "email", "message": "ungültige Adresse"}])
    return email


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValidationFailed("Unbekannte Rolle.", details=[
            {"field": "role",
             "message": "admin, coordinator, steering, clerk oder interviewer"}]) from None


async def invite(session: AsyncSession, org_id: uuid.UUID, email: str, role: str, *,
                 display_name: str = "", actor: str | None = None) -> tuple[User, str]:
    """Make (or find) the account, give it the role here, and return a set-password link
    secret. A colleague already active in the organisation is a conflict, not a second
    invitation; a deactivated one is invited back."""
    email, role_ = _email(email), _role(role)
    repo = IdentityRepository.from_session(session)
    user = await repo.user_by_email(email)
    if user is None:
        # Nobody knows this password: the account opens only through the link.
        user = User(email=email, display_name=display_name.strip() or email.split("@")[0],
                    password_hash=await hash_password_async(secrets.token_urlsafe(32)))
        repo.add(user)
        await repo.flush()
    else:
        membership = await repo.membership(user.id, org_id)
        if membership is not None and user.is_active:
            raise Conflict("Diese Person gehört schon zur Organisation.",
                           code="already_member",
                           details=[{"field": "email", "message": "schon Mitglied"}])
        if not user.is_active:
            # Invited again after a deactivation: open, but only through the new link (the
            # old password does not come back).
            user.is_active = True
            user.password_hash = await hash_password_async(secrets.token_urlsafe(32))
        if membership is not None:
            membership.role = role_
    if await repo.membership(user.id, org_id) is None:
        repo.add(Membership(user_id=user.id, organisation_id=org_id, role=role_))
    await repo.flush()
    await record_event(session, organisation_id=org_id, type="membership.invited",
                       data={"email": email, "role": role_.value}, actor=actor)
    return user, await _new_link(session, user.id, "invite", INVITE_TTL)


async def request_reset(session: AsyncSession, email: str) -> tuple[User, str] | None:
    """A reset link for an active account, None otherwise; the caller answers the same in
    both cases (the page never tells whether an address exists)."""
    user = await IdentityRepository.from_session(session).user_by_email(email.strip())
    if user is None or not user.is_active:
        return None
    return user, await _new_link(session, user.id, "reset", RESET_TTL)


async def set_password_with_link(session: AsyncSession, secret: str, password: str) -> User:
    """Spend a link: 410 when it is unknown, spent or expired; 422 for a short password
    (the link stays usable then)."""
    repo = IdentityRepository.from_session(session)
    row = await repo.staff_token_for_update(_digest(secret))
    now = datetime.now(UTC)
    if row is None or row.used_at is not None:
        raise Gone("Dieser Link ist ungültig oder wurde schon benutzt.", code="link_used")
    if row.expires_at <= now:
        raise Gone("Dieser Link ist abgelaufen. Bitte fordern Sie einen neuen an.",
                   code="link_expired")
    user = await repo.user_by_id(row.user_id)
    if user is None or not user.is_active:
        raise Gone("Dieser Link ist ungültig oder wurde schon benutzt.", code="link_used")
    _check_password(password)
    user.password_hash = await hash_password_async(password)
    await repo.spend_open_tokens_of(user.id, now)
    await repo.revoke_sessions_of(user.id, now)
    await repo.flush()
    return user


async def change_password(session: AsyncSession, user_id: uuid.UUID, current: str, new: str,
                          *, keep_session: uuid.UUID) -> None:
    """The signed-in user's own change: the current password is asked again, the other
    sign-ins of the account end, this one stays."""
    repo = IdentityRepository.from_session(session)
    user = await repo.user_by_id(user_id)
    if user is None or not await verify_password_async(user.password_hash, current):
        raise Unauthorized("Das bisherige Passwort stimmt nicht.", code="invalid_credentials",
                           details=[{"field": "current", "message": "falsch"}])
    _check_password(new)
    now = datetime.now(UTC)
    user.password_hash = await hash_password_async(new)
    await repo.spend_open_tokens_of(user.id, now)
    await repo.revoke_sessions_of(user.id, now, keep=keep_session)
    await repo.flush()


async def _member(repo: IdentityRepository, org_id: uuid.UUID,
                  user_id: uuid.UUID) -> tuple[User, Membership]:
    membership = await repo.membership(user_id, org_id)
    user = await repo.user_by_id(user_id)
    if membership is None or user is None:
        raise NotFound("Nicht gefunden.")
    return user, membership


async def _keep_an_admin(repo: IdentityRepository, org_id: uuid.UUID, user_id: uuid.UUID) -> None:
    admins = [u for u, m in await repo.members_of(org_id)
              if m.role == Role.admin and u.is_active and u.id != user_id]
    if not admins:
        raise Conflict("Die Organisation braucht mindestens eine aktive Administration.",
                       code="last_admin")


async def change_role(session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID,
                      role: str, *, actor: str | None = None) -> Membership:
    role_ = _role(role)
    repo = IdentityRepository.from_session(session)
    user, membership = await _member(repo, org_id, user_id)
    if membership.role == Role.admin and role_ != Role.admin:
        await _keep_an_admin(repo, org_id, user_id)
    membership.role = role_
    await repo.flush()
    await record_event(session, organisation_id=org_id, type="membership.role_changed",
                       data={"email": user.email, "role": role_.value}, actor=actor)
    return membership


async def deactivate(session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID, *,
                     actor: str | None = None) -> User:
    """The account can no longer sign in and its sign-ins end now. An account that also works
    for another organisation is not this admin's to close (409)."""
    repo = IdentityRepository.from_session(session)
    user, _ = await _member(repo, org_id, user_id)
    if any(org.id != org_id for _, org in await repo.memberships_of(user.id)):
        raise Conflict("Das Konto gehört auch zu einer anderen Organisation.",
                       code="shared_account")
    await _keep_an_admin(repo, org_id, user_id)
    now = datetime.now(UTC)
    user.is_active = False
    await repo.revoke_sessions_of(user.id, now)
    await repo.spend_open_tokens_of(user.id, now)
    await repo.flush()
    await record_event(session, organisation_id=org_id, type="membership.deactivated",
                       data={"email": user.email}, actor=actor)
    return user


async def members(session: AsyncSession, org_id: uuid.UUID) -> list[tuple[User, Membership]]:
    return await IdentityRepository.from_session(session).members_of(org_id)
