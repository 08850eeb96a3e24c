"""Jinja2 templates for the server-rendered pages (German first)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from api.csrf import FIELD, csrf_token
from services import i18n

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def _csrf(request: Request) -> dict[str, Any]:
    # In every page's context, so a form only has to name it ({{ csrf_field }}) to be safe.
    token = csrf_token(request)
    return {"csrf_token": token,
            "csrf_field": Markup(f'<input type="hidden" name="{FIELD}" value="{token}">')}


templates = Jinja2Templates(directory=TEMPLATES_DIR, context_processors=[_csrf])
# A free text's language on the (German) results page is named in German.
templates.env.globals["language_names"] = i18n.GERMAN_NAMES
