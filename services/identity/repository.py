"""SQL for organisations, users and memberships."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update

from services.models.organisation import (
    Membership,
    Organisation,
    StaffSession,
    StaffToken,
    User,
)
from services.repository import Repository


class IdentityRepository(Repository):
    async def org_by_slug(self, slug: str) -> Organisation | None:
        return await self.session.scalar(select(Organisation).where(Organisation.slug == slug))

    async def all_orgs(self) -> list[Organisation]:
        return list((await self.session.scalars(
            select(Organisation).order_by(Organisation.created_at, Organisation.id))).all())

    async def org_by_id(self, org_id: uuid.UUID) -> Organisation | None:
        return await self.session.get(Organisation, org_id)

    async def user_by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email.lower()))

    async def user_by_id(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def memberships_of(self, user_id: uuid.UUID) -> list[tuple[Membership, Organisation]]:
        stmt = (
            select(Membership, Organisation)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .where(Membership.user_id == user_id)
        )
        return [(m, o) for m, o in (await self.session.execute(stmt)).all()]

    async def membership(self, user_id: uuid.UUID, org_id: uuid.UUID) -> Membership | None:
        return await self.session.scalar(
            select(Membership).where(
                Membership.user_id == user_id, Membership.organisation_id == org_id
            )
        )

    async def members_with_role(self, org_id: uuid.UUID, role: str) -> list[User]:
        stmt = (
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == org_id, Membership.role == role)
            .order_by(User.email)
        )
        return list((await self.session.scalars(stmt)).all())

    async def staff_session(self, session_id: uuid.UUID) -> StaffSession | None:
        return await self.session.get(StaffSession, session_id)

    async def revoke_sessions_of(self, user_id: uuid.UUID, now: datetime, *,
                                 keep: uuid.UUID | None = None) -> None:
        """Revoke every live sign-in of the user, but `keep` (the one changing the password)."""
        stmt = (update(StaffSession)
                .where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None),
                       StaffSession.expires_at > now))
        if keep is not None:
            stmt = stmt.where(StaffSession.id != keep)
        await self.session.execute(stmt.values(revoked_at=now))

    async def members_of(self, org_id: uuid.UUID) -> list[tuple[User, Membership]]:
        stmt = (select(User, Membership)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.organisation_id == org_id)
                .order_by(User.email))
        return [(u, m) for u, m in (await self.session.execute(stmt)).all()]

    async def staff_token_for_update(self, token_hash: str) -> StaffToken | None:
        # Locked: two clicks on the same link cannot both spend it.
        return await self.session.scalar(
            select(StaffToken).where(StaffToken.token_hash == token_hash).with_for_update())

    async def spend_open_tokens_of(self, user_id: uuid.UUID, now: datetime) -> None:
        """A new password makes every older unused link of the account useless."""
        await self.session.execute(
            update(StaffToken)
            .where(StaffToken.user_id == user_id, StaffToken.used_at.is_(None))
            .values(used_at=now))

    async def delete_expired_sessions_of(self, user_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            delete(StaffSession).where(StaffSession.user_id == user_id,
                                       StaffSession.expires_at <= now))

    def add(self, obj: object) -> None:
        self.session.add(obj)

    async def flush(self) -> None:
        await self.session.flush()
