"""The language of a participant page: asked for (`?lang=`), kept, or the person's own.

The switch on every participant page is a set of plain links `?lang=<code>` (no script). The
choice is kept in a cookie scoped to the link's own path (`/t/<token>` and what is below it),
so it holds for that token's pages (form, thanks, decline, unsubscribe) and for nothing else;
without a choice the page speaks the language stored for the person (the stakeholder's, copied
onto the invitation), and German for an unknown link.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from api.ratelimit import RETRY_AFTER_SECONDS
from api.templating import templates
from services import i18n

COOKIE = "sprache"
COOKIE_SECONDS = 180 * 24 * 3600  # longer than a campaign runs; it names only a language


def asked_language(request: Request) -> str | None:
    return i18n.normalise(request.query_params.get("lang"))


def page_language(request: Request, default: str | None = None) -> str:
    """The asked language, else the one kept for this path, else `default` (else German)."""
    return (asked_language(request) or i18n.normalise(request.cookies.get(COOKIE))
            or i18n.supported(default))


def switch_links(path: str, current: str) -> list[dict[str, Any]]:
    return [{"code": code, "name": name, "href": f"{path}?lang={code}",
             "dir": i18n.direction(code), "current": code == current}
            for code, name in i18n.language_choices()]


def render(request: Request, template: str, context: dict[str, Any], *, lang: str,
           section: str, switch_path: str | None = None, cookie_path: str | None = None,
           status_code: int = 200) -> Response:
    """A participant page in `lang`: `t` (the section's texts), `tc` (common texts), `lang`
    and `dir` for <html>, the switch when `switch_path` is given; a language asked for in the
    query is kept for `cookie_path`."""
    response = templates.TemplateResponse(request, template, {
        "principal": None, **context, "lang": lang, "dir": i18n.direction(lang),
        "t": i18n.texts(lang, section), "tc": i18n.texts(lang, "common"),
        "languages": switch_links(switch_path, lang) if switch_path else [],
    }, status_code=status_code,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)} if status_code == 429 else None)
    asked = asked_language(request)
    if asked and cookie_path:
        response.set_cookie(COOKIE, asked, max_age=COOKIE_SECONDS, path=cookie_path,
                            httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")
    return response
