"""All SQL of the stakeholder registry."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Text, bindparam, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY

from services.models.campaign import Invitation, OutboundMail
from services.models.meeting import MeetingRegistration
from services.models.stakeholder import OrganisationGroup, Stakeholder
from services.repository import Repository

# Diacritics folded for search and sorting, the same way in SQL (translate) and in Python.
# Upper case included: lower() leaves non-ASCII letters alone under the C locale.
_ACCENTED = "äöüßàáâãåçèéêëìíîïñòóôõøùúûýÿ"
_PLAIN = "aousaaaaaceeeeiiiinooooouuuyy"
_FOLD_FROM = _ACCENTED + _ACCENTED.upper().replace("SS", "")
_FOLD_TO = _PLAIN + _PLAIN[:3] + _PLAIN[4:]
_FOLD = str.maketrans(_FOLD_FROM, _FOLD_TO)
_EXPAND = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue"}


def fold_text(value: str) -> str:
    """"Müller" -> "muller": what a user types without umlauts."""
    return value.translate(_FOLD).lower()


def expand_text(value: str) -> str:
    """"Müller" -> "mueller": the German spelling without umlauts."""
    for umlaut, spelled in _EXPAND.items():
        value = value.replace(umlaut, spelled)
    return value.translate(_FOLD).lower()


def fold(column: Any) -> Any:
    return func.lower(func.translate(column, _FOLD_FROM, _FOLD_TO))


def expand(column: Any) -> Any:
    value = column
    for umlaut, spelled in _EXPAND.items():
        value = func.replace(value, umlaut, spelled)
    return func.lower(func.translate(value, _FOLD_FROM, _FOLD_TO))


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


TAG_SEP = "\x1f"  # joins a row's tags into one text for unnest(); cannot occur in a tag
CHUNK = 5000

_UPSERT = text(
    """
    INSERT INTO stakeholders AS s (id, organisation_id, kind, name, email, group_key,
        reach_tier, tags, language, accessibility_needs, consent_at, consent_method, notes,
        legal_basis, created_at, updated_at)
    SELECT gen_random_uuid(), :org, r.kind, r.name, r.email, r.group_key, r.reach_tier,
           string_to_array(r.tags, chr(31)), r.language, r.accessibility_needs,
           r.consent_at, r.consent_method, r.notes, r.legal_basis, now(), now()
    FROM unnest(:kinds ::text[], :names ::text[], :emails ::text[], :groups ::text[],
                :tiers ::int[], :tags ::text[], :languages ::text[], :needs ::text[],
                :consent_ats ::timestamptz[], :consent_methods ::text[], :notes ::text[],
                :legal_bases ::text[])
         AS r(kind, name, email, group_key, reach_tier, tags, language, accessibility_needs,
              consent_at, consent_method, notes, legal_basis)
    ON CONFLICT (organisation_id, email) DO UPDATE SET
        kind = EXCLUDED.kind, name = EXCLUDED.name, group_key = EXCLUDED.group_key,
        reach_tier = EXCLUDED.reach_tier, tags = EXCLUDED.tags, language = EXCLUDED.language,
        accessibility_needs = COALESCE(EXCLUDED.accessibility_needs, s.accessibility_needs),
        consent_at = COALESCE(EXCLUDED.consent_at, s.consent_at),
        consent_method = COALESCE(EXCLUDED.consent_method, s.consent_method),
        notes = COALESCE(EXCLUDED.notes, s.notes),
        legal_basis = COALESCE(EXCLUDED.legal_basis, s.legal_basis),
        updated_at = now()
    RETURNING (xmax = 0) AS inserted
    """
)


class StakeholderRepository(Repository):
    async def bulk_upsert(self, organisation_id: uuid.UUID,
                          rows: Sequence[dict[str, Any]]) -> tuple[int, int]:
        """Insert or update (by e-mail) in set-based statements; returns (created, updated).

        One statement per 5,000 rows: a 10,000-row file takes two round trips, not 10,000.
        """
        created = updated = 0
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            params = {
                "org": organisation_id,
                "kinds": [r["kind"] for r in chunk],
                "names": [r["name"] for r in chunk],
                "emails": [r["email"] for r in chunk],
                "groups": [r["group_key"] for r in chunk],
                "tiers": [r["reach_tier"] for r in chunk],
                "tags": [TAG_SEP.join(r["tags"]) for r in chunk],
                "languages": [r["language"] for r in chunk],
                "needs": [r.get("accessibility_needs") for r in chunk],
                "consent_ats": [r.get("consent_at") for r in chunk],
                "consent_methods": [r.get("consent_method") for r in chunk],
                "notes": [r.get("notes") for r in chunk],
                "legal_bases": [r.get("legal_basis") for r in chunk],
            }
            result = await self.session.execute(_UPSERT, params)
            flags = [row[0] for row in result]
            created += sum(1 for f in flags if f)
            updated += sum(1 for f in flags if not f)
        return created, updated

    # --- the organisation's known groups -------------------------------------------------

    async def groups(self, organisation_id: uuid.UUID) -> list[OrganisationGroup]:
        return list((await self.session.scalars(
            select(OrganisationGroup).where(OrganisationGroup.organisation_id == organisation_id)
            .order_by(OrganisationGroup.key))).all())

    async def group_keys(self, organisation_id: uuid.UUID) -> set[str]:
        return set((await self.session.scalars(
            select(OrganisationGroup.key)
            .where(OrganisationGroup.organisation_id == organisation_id))).all())

    async def add_groups(self, organisation_id: uuid.UUID, groups: Sequence[tuple[str, str]],
                         source: str) -> list[str]:
        """Insert (key, label) pairs not known yet; returns the keys actually added."""
        if not groups:
            return []
        rows = await self.session.execute(text("""
            INSERT INTO organisation_groups (id, organisation_id, key, label, source, created_at)
            SELECT gen_random_uuid(), :org, g.key, g.label, :source, now()
            FROM unnest(:keys ::text[], :labels ::text[]) AS g(key, label)
            ON CONFLICT (organisation_id, key) DO NOTHING
            RETURNING key
        """), {"org": organisation_id, "source": source, "keys": [g[0] for g in groups],
               "labels": [g[1] for g in groups]})
        return sorted(r[0] for r in rows)

    async def get(self, organisation_id: uuid.UUID, stakeholder_id: uuid.UUID,
                  *, for_update: bool = False) -> Stakeholder | None:
        stmt = select(Stakeholder).where(Stakeholder.id == stakeholder_id,
                                         Stakeholder.organisation_id == organisation_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).first()

    async def by_email(self, organisation_id: uuid.UUID, email: str) -> Stakeholder | None:
        return (await self.session.scalars(select(Stakeholder).where(
            Stakeholder.organisation_id == organisation_id, Stakeholder.email == email
        ))).first()

    def add(self, stakeholder: Stakeholder) -> None:
        self.session.add(stakeholder)

    async def search(self, organisation_id: uuid.UUID, *, group: str | None, tier: int | None,
                     tag: str | None, q: str | None, offset: int, limit: int,
                     language: str | None = None,
                     legal_basis: str | None = None) -> tuple[list[Stakeholder], int]:
        """`q` matches name or address without regard to case or diacritics ("muller" and
        "mueller" find "Müller"); `legal_basis` "none" finds those nobody may write to.
        Sorted by the folded name (German phone-book order without an ICU collation, which
        not every PostgreSQL build has)."""
        conditions = self._filters(organisation_id, group=group, tier=tier, tag=tag, q=q,
                                   language=language, legal_basis=legal_basis)
        total = await self.session.scalar(select(func.count()).where(*conditions)
                                          .select_from(Stakeholder))
        rows = await self.session.scalars(
            select(Stakeholder).where(*conditions)
            .order_by(fold(Stakeholder.name), Stakeholder.name, Stakeholder.id)
            .offset(offset).limit(limit)
        )
        return list(rows), int(total or 0)

    @staticmethod
    def _filters(organisation_id: uuid.UUID, *, group: str | None, tier: int | None,
                 tag: str | None, q: str | None, language: str | None,
                 legal_basis: str | None) -> list[Any]:
        conditions: list[Any] = [Stakeholder.organisation_id == organisation_id,
                                 Stakeholder.erased_at.is_(None)]
        if group:
            conditions.append(Stakeholder.group_key == group)
        if tier:
            conditions.append(Stakeholder.reach_tier == tier)
        if tag:
            conditions.append(Stakeholder.tags.contains(
                bindparam("tag_filter", [tag], type_=ARRAY(Text))))
        if language:
            conditions.append(Stakeholder.language == language)
        if legal_basis == "none":
            conditions.append(Stakeholder.legal_basis.is_(None))
        elif legal_basis:
            conditions.append(Stakeholder.legal_basis == legal_basis)
        if q:
            conditions.append(or_(*(
                column_fold(column).like(_like(query_fold(q)), escape="\\")
                for column in (Stakeholder.name, Stakeholder.email)
                for column_fold, query_fold in ((fold, fold_text), (expand, expand_text)))))
        return conditions

    async def contact_person_ids(self, stakeholder_id: uuid.UUID) -> list[uuid.UUID]:
        rows = await self.session.scalars(select(Stakeholder.id).where(
            Stakeholder.parent_id == stakeholder_id))
        return list(rows)

    async def invitations_of(self, stakeholder_id: uuid.UUID) -> list[Invitation]:
        rows = await self.session.scalars(select(Invitation).where(
            Invitation.stakeholder_id == stakeholder_id).order_by(Invitation.sent_at))
        return list(rows)

    async def mails_of(self, invitation_ids: Sequence[uuid.UUID]) -> list[OutboundMail]:
        if not invitation_ids:
            return []
        rows = await self.session.scalars(select(OutboundMail).where(
            OutboundMail.invitation_id.in_(invitation_ids)).order_by(OutboundMail.created_at))
        return list(rows)

    async def registrations_of(self, stakeholder_id: uuid.UUID) -> list[MeetingRegistration]:
        rows = await self.session.scalars(select(MeetingRegistration).where(
            MeetingRegistration.stakeholder_id == stakeholder_id).order_by(
                MeetingRegistration.created_at))
        return list(rows)

    async def erase(self, stakeholder: Stakeholder) -> None:
        """Remove every piece of personal data; group, tier and kind stay for aggregates."""
        invitation_ids = select(Invitation.id).where(
            Invitation.stakeholder_id == stakeholder.id).scalar_subquery()
        await self.session.execute(
            update(OutboundMail).where(OutboundMail.invitation_id.in_(invitation_ids))
            .values(recipient=None, error=None)
        )
        # Event registrations: name, address and needs (health data) go; status and
        # companions stay for the event's counts. Before the invitations lose their link.
        await self.session.execute(
            update(MeetingRegistration).where(or_(
                MeetingRegistration.stakeholder_id == stakeholder.id,
                MeetingRegistration.invitation_id.in_(invitation_ids)))
            .values(name=None, email=None, needs={}, stakeholder_id=None)
        )
        await self.session.execute(
            update(Invitation).where(Invitation.stakeholder_id == stakeholder.id)
            .values(stakeholder_id=None, error=None)
        )
        await self.session.execute(
            update(Stakeholder).where(Stakeholder.parent_id == stakeholder.id)
            .values(parent_id=None)
        )
        await self.session.execute(
            update(Stakeholder).where(Stakeholder.id == stakeholder.id).values(
                name=None, email=None, tags=[], notes=None, accessibility_needs=None,
                consent_at=None, consent_method=None, legal_basis=None, parent_id=None,
                erased_at=func.now(), updated_at=func.now(),
            ).execution_options(synchronize_session=False)
        )
        await self.session.refresh(stakeholder)
