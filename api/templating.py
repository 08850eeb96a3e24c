"""Jinja2 templates for the server-rendered pages (German first)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from api import staff_language
from api.csrf import FIELD, csrf_token
from api.presentation import register_filters
from services import i18n
from services.identity.service import organisation_time_zone
from services.legal.service import slug_of

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def _csrf(request: Request) -> dict[str, Any]:
    # In every page's context, so a form only has to name it ({{ csrf_field }}) to be safe.
    token = csrf_token(request)
    return {"csrf_token": token,
            "csrf_field": Markup(f'<input type="hidden" name="{FIELD}" value="{token}">')}


def _legal(request: Request) -> dict[str, Any]:
    # The organisation a participant page belongs to (set by `for_organisation`): base.html
    # links its Impressum, privacy notice and contact in the footer.
    return {"legal_slug": getattr(request.state, "legal_slug", None)}


async def for_organisation(request: Request, session: AsyncSession,
                           organisation_id: uuid.UUID) -> None:
    """Mark the page being rendered as the organisation's: its footer links the
    organisation's public pages. Participant pages call it once they know the organisation."""
    request.state.legal_slug = await slug_of(session, organisation_id)
    # Its times in its zone, also in the filters of api/presentation.py.
    request.state.time_zone = await organisation_time_zone(session, organisation_id)


templates = Jinja2Templates(directory=TEMPLATES_DIR,
                            context_processors=[_csrf, _legal, staff_language.context])
register_filters(templates.env)
# `_()`, `ngettext` and `{% trans %}` on the staff pages (German source, English catalog).
staff_language.install(templates.env)
# A free text's language on the (German) results page is named in German.
templates.env.globals["language_names"] = i18n.GERMAN_NAMES
