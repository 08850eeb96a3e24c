"""Who may see which domain event, and which of its fields (issue 8: the feed showed vote
comments and members' e-mails to every staff role, the council's clerk included).

One table, `AUDIENCES`, used by the paged feed and the SSE stream alike (both read through
`services.events.service.list_events`): the roles per event type are applied in SQL (so paging
by `after` stays exact), the fields per role when an event is shaped for its reader.

Members' e-mail addresses go to admins only: the `actor` of an event is a member's address, and
some texts carry one ("steering@…: comment" in an approval's reasons); for every other role the
actor is left out and addresses inside texts are replaced. An event type missing from the table
is shown to admins only, so a new event is private until someone decides its audience.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.models.organisation import Role

ADMIN = frozenset({Role.admin})
# Who runs the participation: the coordinator's domain (stakeholders, campaigns).
COORDINATION = frozenset({Role.admin, Role.coordinator})
# Who steers the process: phases, gates, surveys, votes with their comments.
PROCESS = frozenset({Role.admin, Role.coordinator, Role.steering})
ALL_STAFF = frozenset(Role)
# Members' e-mail addresses (the actor, addresses inside texts): admins only.
EMAIL_ROLES = ADMIN
EMAIL = re.compile(r"[^\s@:;,<>()\"']+@[^\s@:;,<>()\"']+")
EMAIL_MASK = "[E-Mail-Adresse]"


@dataclass(frozen=True)
class Audience:
    roles: frozenset[Role]  # who sees the event at all
    # Fields of `data` shown only to some of them (field -> roles); others get the event
    # without the field.
    fields: Mapping[str, frozenset[Role]] = field(default_factory=dict)


# Exact type, or "prefix.*" for every type under it (the exact entry wins).
AUDIENCES: dict[str, Audience] = {
    "organisation.created": Audience(ALL_STAFF),
    "membership.granted": Audience(ADMIN),  # data.email: a member's address
    "membership.*": Audience(ADMIN),  # invited, role changed, deactivated: the same addresses
    "stakeholder.*": Audience(COORDINATION),  # people's records: their import, export, erasure
    "stakeholders.imported": Audience(COORDINATION),
    "campaign.*": Audience(COORDINATION),
    # Events (Veranstaltungen) and who registered, waits or came: the coordination's lists.
    "event.*": Audience(COORDINATION),
    "registration.*": Audience(COORDINATION),
    "attendance.*": Audience(COORDINATION),
    "survey.*": Audience(PROCESS),
    # The clerk learns of a process's start and end (the council's part follows), no more.
    "process.created": Audience(ALL_STAFF, fields={"template": PROCESS, "version": PROCESS}),
    "process.completed": Audience(ALL_STAFF, fields={"reason": PROCESS}),
    "process.*": Audience(PROCESS),
    # Vote comments: the steering group that votes and those who run the process.
    "approval.vote": Audience(PROCESS),
    "approval.*": Audience(PROCESS),
    # An organisation's own template: those who start processes and surveys from it.
    "template.*": Audience(PROCESS),
    # Subscriptions' URLs and who manages them: the admins' feature.
    "webhook.*": Audience(ADMIN),
    # The council resolution is the clerk's business as much as the process's.
    "resolution.*": Audience(ALL_STAFF),
}


def audience(event_type: str) -> Audience:
    found = AUDIENCES.get(event_type)
    if found is not None:
        return found
    prefix = event_type.split(".", 1)[0]
    return AUDIENCES.get(f"{prefix}.*", Audience(ADMIN))


@dataclass(frozen=True)
class TypeFilter:
    """The event types a role may see, for SQL: exact types and type prefixes ("x." ...),
    minus the exact types that override a prefix with an audience without the role."""

    exact: tuple[str, ...]
    prefixes: tuple[str, ...]
    excluded: tuple[str, ...]
    everything: bool = False


def type_filter(role: Role) -> TypeFilter:
    if role == Role.admin:
        return TypeFilter((), (), (), everything=True)  # admins see every type, unknown ones too
    exact, prefixes, excluded = [], [], []
    for key, aud in AUDIENCES.items():
        if key.endswith(".*"):
            if role in aud.roles:
                prefixes.append(key[:-1])
        elif role in aud.roles:
            exact.append(key)
        else:
            excluded.append(key)
    return TypeFilter(tuple(exact), tuple(prefixes), tuple(excluded))


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return EMAIL.sub(EMAIL_MASK, value)
    if isinstance(value, list):
        return [_mask(v) for v in value]
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    return value


def shape(event_type: str, actor: str | None, data: Mapping[str, Any],
          role: Role) -> tuple[str | None, dict[str, Any]] | None:
    """(actor, data) as `role` may see them, or None when the event is not for it."""
    aud = audience(event_type)
    if role not in aud.roles and role != Role.admin:
        return None
    shown = {k: v for k, v in data.items() if role in aud.fields.get(k, ALL_STAFF)}
    if role in EMAIL_ROLES:
        return actor, shown
    return None, _mask(shown)
