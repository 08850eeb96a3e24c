"""Server-rendered pages (German first); each domain adds its module and a router."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from services.identity.service import OrgRole


@dataclass(frozen=True)
class NavLink:
    href: str
    label: str


# Each domain registers what a member of an organisation may open from the overview page.
ORG_LINKS: list[Callable[[OrgRole], list[NavLink]]] = []
