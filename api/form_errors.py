"""pydantic's complaint about one form field, in the page's language (German, or English where
the page offers it): participants and staff never read pydantic's English defaults
("Input should be less than or equal to 20")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_TEXTS = {
    "de": {"too_long_text": "höchstens {n} Zeichen", "missing": "fehlt",
           "too_short_text": "mindestens {n} Zeichen", "too_long": "höchstens {n} Einträge",
           "choice": "ungültige Auswahl", "other": "ungültige Angabe"},
    "en": {"too_long_text": "at most {n} characters", "missing": "missing",
           "too_short_text": "at least {n} characters", "too_long": "at most {n} entries",
           "choice": "not one of the choices", "other": "not a valid value"},
}
_CHOICE = ("literal_error", "enum", "int_parsing", "int_type", "bool_parsing", "bool_type",
           "greater_than_equal", "less_than_equal", "greater_than", "less_than")


def field_message(error: Mapping[str, Any], lang: str = "de") -> str:
    """The message for one entry of `ValidationError.errors()`. Our own validators raise
    German ValueErrors: kept on German pages, a generic message on English ones."""
    t = _TEXTS.get(lang, _TEXTS["de"])
    ctx = error.get("ctx") or {}
    kind = error.get("type", "")
    if kind == "value_error":
        if lang != "de":
            return t["other"]
        return str(ctx.get("error") or error.get("msg", "")).removeprefix("Value error, ")
    if kind == "string_too_long":
        return t["too_long_text"].format(n=ctx.get("max_length"))
    if kind == "string_too_short":
        return t["missing"] if ctx.get("min_length") == 1 else \
            t["too_short_text"].format(n=ctx.get("min_length"))
    if kind == "missing":
        return t["missing"]
    if kind == "too_long":
        return t["too_long"].format(n=ctx.get("max_length"))
    if kind in _CHOICE:
        return t["choice"]
    return t["other"]
