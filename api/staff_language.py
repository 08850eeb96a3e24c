"""The language of a staff page: German first, English available (issue 13).

The German text stays in the templates as the source, marked with `_()`, `ngettext`,
`pgettext` (a word with two meanings) or `{% trans %}` (jinja2.ext.i18n). A label or message
from api/pages is translated where the template shows it (`|tr`); the tables it comes from are
listed in tests/api/staff_texts.py, so the Python stays as it is. English comes from one
catalog, a YAML mapping German -> English in api/locale/en.yaml, loaded once; German is the
identity. tests/api/test_staff_language.py extracts every marked text and fails when the
catalog lacks one or keeps one nothing uses.

The choice is a plain link (no script) to `/sprache?lang=<code>&next=<page>`, kept in a cookie
of its own: named apart from the participant pages' `sprache` (scoped to one invitation's
path), and on the whole site rather than /app alone, so the login, password and error pages
outside /app speak the chosen language too. Without a choice the browser's Accept-Language
decides between German and English; anything else is German.

A participant page sets `lang` in its context itself (api/languages.py); the staff language is
`ui_lang`, so it never overrides a participant page's choice.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import yaml
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

COOKIE = "sprache_mitarbeit"
COOKIE_SECONDS = 365 * 24 * 3600  # it names only a language
DEFAULT = "de"
LANGUAGES = ("de", "en")
# Each language named in itself: the switch shows a reader the one they can read.
NAMES = {"de": "Deutsch", "en": "English"}
CATALOG = Path(__file__).parent / "locale" / "en.yaml"

router = APIRouter(include_in_schema=False)
# The language of the page being rendered, for what has no page context: a macro imported
# without context (`{% from "_breadcrumb.html" import trail %}`) sees only the globals.
_rendering: ContextVar[str] = ContextVar("staff_language", default=DEFAULT)


@cache
def catalog() -> dict[str, str | dict[str, str]]:
    """German -> English, read once. A value is a text, or {one, other} where German has
    one word for both counts ("%(num)s Treffer") and English two."""
    with CATALOG.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    return {str(k): ({str(f): str(t) for f, t in v.items()} if isinstance(v, dict) else str(v))
            for k, v in data.items()}


def _form(entry: str | dict[str, str] | None, message: str, n: int | None) -> str:
    if entry is None:
        return message
    if isinstance(entry, dict):
        return entry["one"] if n == 1 else entry["other"]
    return entry


def translate(lang: str, message: str) -> str:
    if lang != "en":
        return message
    return _form(catalog().get(message), message, None)


def translate_plural(lang: str, singular: str, plural: str, n: int) -> str:
    # German and English both have one form for 1 and one for everything else.
    chosen = singular if n == 1 else plural
    if lang != "en":
        return chosen
    return _form(catalog().get(chosen), chosen, n)


def context_key(context: str, message: str) -> str:
    """The catalog's key of a text said in a context (`pgettext`): one German word with two
    meanings ("Vorlage": a template, or a council's draft resolution) gets two entries."""
    return f"[{context}] {message}"


def translate_in(lang: str, context: str, message: str) -> str:
    if lang != "en":
        return message
    return _form(catalog().get(context_key(context, message)), message, None)


def normalise(code: str | None) -> str | None:
    if not code:
        return None
    base = code.strip().lower().replace("_", "-").split("-", 1)[0]
    return base if base in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The first of German and English the browser asks for (by its q weights), or None."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        code = normalise(tag)
        if code and weight > 0:
            ranked.append((-weight, index, code))
    return min(ranked)[2] if ranked else None


def staff_language(request: Request) -> str:
    """The chosen language (cookie), else the browser's, else German."""
    return (normalise(request.cookies.get(COOKIE))
            or from_accept_language(request.headers.get("accept-language")) or DEFAULT)


def _here(request: Request) -> str:
    path = request.url.path
    return path + (f"?{request.url.query}" if request.url.query else "")


def switch_links(request: Request, current: str) -> list[dict[str, Any]]:
    here = quote(_here(request), safe="")
    return [{"code": code, "name": NAMES[code], "href": f"/sprache?lang={code}&next={here}",
             "dir": "ltr", "current": code == current} for code in LANGUAGES]


def context(request: Request) -> dict[str, Any]:
    """In every page's context: the staff language and its switch."""
    lang = staff_language(request)
    _rendering.set(lang)
    return {"ui_lang": lang, "staff_languages": switch_links(request, lang)}


def page_lang(ctx: Context | None) -> str:
    """The page's language: a participant page's own `lang`, else the staff language."""
    if ctx is None:
        return _rendering.get()
    return str(ctx.get("lang") or ctx.get("ui_lang") or _rendering.get())


# The functions that mark a text in a template (the catalog test extracts their arguments).
GETTEXT_FUNCTIONS = ("_", "gettext", "ngettext", "pgettext", "ui_text")


def install(env: Environment) -> None:
    """`_`, `gettext` and `ngettext` (and `{% trans %}`) in the page's language."""
    env.add_extension("jinja2.ext.i18n")
    # `{% trans %}` blocks spread over lines are one message with single spaces.
    env.policies["ext.i18n.trimmed"] = True

    @pass_context
    def _gettext(ctx: Context, message: str) -> str:
        return translate(page_lang(ctx), message)

    @pass_context
    def _ngettext(ctx: Context, singular: str, plural: str, n: int) -> str:
        return translate_plural(page_lang(ctx), singular, plural, n)

    @pass_context
    def _pgettext(ctx: Context, context: str, message: str) -> str:
        return translate_in(page_lang(ctx), context, message)

    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True, pgettext=_pgettext)

    @pass_context
    def _tr(ctx: Context, value: object) -> object:
        # A text from Python (a label, a flash message): translated as it is, without the
        # %-formatting `_()` applies, since a message may carry a literal "%".
        return translate(page_lang(ctx), value) if isinstance(value, str) else value

    env.filters["tr"] = _tr

    @pass_context
    def _ui_text(ctx: Context, message: str) -> str:
        # The staff's own language inside a participant page (the survey preview's note):
        # the page speaks the preview's language, its frame the coordinator's.
        return translate(str(ctx.get("ui_lang") or _rendering.get()), message)

    env.globals["ui_text"] = _ui_text


def _safe_next(value: str | None) -> str:
    # Only same-site paths: the switch must not become an open redirect. (The login page's
    # own check, api/pages/login.py, cannot be imported here: it imports the templates.)
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/app"


@router.get("/sprache")
async def choose_language(request: Request, lang: Annotated[str | None, Query()] = None,
                          next: Annotated[str | None, Query()] = None) -> Response:
    """Keep the chosen staff language and go back to the page it was chosen on."""
    response = RedirectResponse(_safe_next(next), status_code=303)
    code = normalise(lang)
    if code:
        response.set_cookie(COOKIE, code, max_age=COOKIE_SECONDS, path="/", httponly=True,
                            samesite="lax", secure=request.url.scheme == "https")
    return response
