"""pydantic's complaint about one form field, in the page's language (the catalogs'
`form_errors`, services/i18n): participants and staff never read pydantic's English defaults
("Input should be less than or equal to 20")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services import i18n

_CHOICE = ("literal_error", "enum", "int_parsing", "int_type", "bool_parsing", "bool_type",
           "greater_than_equal", "less_than_equal", "greater_than", "less_than")


def field_message(error: Mapping[str, Any], lang: str = "de") -> str:
    """The message for one entry of `ValidationError.errors()`. Our own validators raise
    German ValueErrors: kept on German pages, a generic message on the others."""
    t = i18n.texts(lang, "form_errors")
    ctx = error.get("ctx") or {}
    kind = error.get("type", "")
    if kind == "value_error":
        if lang not in (i18n.DEFAULT, i18n.EASY_GERMAN):
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
