"""Languages of the participant-facing texts (issue 12): catalogs, fallback, locale formats.

Six variants: German, English, Turkish, Arabic (right to left), Ukrainian, and Leichte
Sprache as a German variant of its own, `de-x-ls` (BCP 47 private use under `de`: a browser or
screen reader that does not know the subtag still treats the text as German, which it is).

The texts are data: one YAML catalog per language in `services/i18n/catalog/<code>.yaml`,
sections of keys (`survey.submit`). A key missing in a language falls back to German, so a
new key needs only the German text to work everywhere; `missing_keys` names the gaps (a test
keeps the shipped catalogs complete). Dates, numbers and plural forms come from Babel's CLDR
data per locale, not from strftime (which knows only the process locale).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, Literal
from zoneinfo import ZoneInfo

import yaml
from babel import Locale
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.dates import format_time as _babel_time
from babel.numbers import format_decimal

DEFAULT = "de"
EASY_GERMAN = "de-x-ls"
LANGUAGES: tuple[str, ...] = ("de", "en", "tr", "ar", "uk", EASY_GERMAN)
# The same as a type for request bodies (a 422 names the field for anything else).
Language = Literal["de", "en", "tr", "ar", "uk", "de-x-ls"]
RTL = frozenset({"ar"})
# Each language's name in itself: the switch shows a reader the one they can read.
NATIVE_NAMES = {"de": "Deutsch", "en": "English", "tr": "Türkçe", "ar": "العربية",
                "uk": "Українська", EASY_GERMAN: "Leichte Sprache"}
# Their German names, for the staff pages (which are German).
GERMAN_NAMES = {"de": "Deutsch", "en": "Englisch", "tr": "Türkisch", "ar": "Arabisch",
                "uk": "Ukrainisch", EASY_GERMAN: "Leichte Sprache"}
# Spellings accepted from imports, forms and query strings (lower case).
ALIASES = {"ls": EASY_GERMAN, "leichte sprache": EASY_GERMAN, "leichte-sprache": EASY_GERMAN,
            "de-ls": EASY_GERMAN, "de_x_ls": EASY_GERMAN, "deutsch": "de", "englisch": "en",
            "english": "en", "türkisch": "tr", "turkish": "tr", "arabisch": "ar",
            "arabic": "ar", "ukrainisch": "uk", "ukrainian": "uk", "ua": "uk"}
# Babel has no locale for Leichte Sprache: its dates and numbers are German ones. English
# is British (day before month, 24 hours), as for a reader in Germany.
_BABEL = {EASY_GERMAN: "de", "en": "en_GB"}


def normalise(code: str | None) -> str | None:
    """The supported language a code names (`DE`, `de-DE`, `ls`, `tr_TR` ...), or None."""
    if not code:
        return None
    value = code.strip().lower().replace("_", "-")
    if value in LANGUAGES:
        return value
    if value in ALIASES:
        return ALIASES[value]
    base = value.split("-", 1)[0]
    return base if base in LANGUAGES and base != value and not value.startswith("de-x") \
        else None


def supported(code: str | None) -> str:
    """`normalise`, with German for anything unknown."""
    return normalise(code) or DEFAULT


def direction(lang: str) -> str:
    return "rtl" if lang in RTL else "ltr"


@cache
def catalog(lang: str) -> dict[str, Any]:
    """The raw catalog of one language (sections of keys); {} for an unknown language."""
    if lang not in LANGUAGES:
        return {}
    source = resources.files("services.i18n").joinpath("catalog", f"{lang}.yaml")
    data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    return data if isinstance(data, dict) else {}


def texts(lang: str, section: str) -> Mapping[str, Any]:
    """One section in `lang`, every key the German catalog has (German where `lang` has none).

    The pages take this as `t` (`{{ t.submit }}`)."""
    # Normalised first: the cache holds at most six languages whatever callers pass.
    return _texts(supported(lang), section)


@cache
def _texts(lang: str, section: str) -> Mapping[str, Any]:
    german = catalog(DEFAULT).get(section) or {}
    own = catalog(lang).get(section) or {}
    if isinstance(german, list):
        return {"items": own if isinstance(own, list) and own else german}
    return {**german, **{k: v for k, v in own.items() if v not in (None, "", [])}}


def text(lang: str, key: str, **fmt: Any) -> str:
    """`section.key` in `lang` (German fallback), formatted with `fmt`."""
    section, _, name = key.partition(".")
    value = texts(lang, section).get(name)
    if value is None:
        raise KeyError(key)
    return str(value).format(**fmt) if fmt else str(value)


def missing_keys(lang: str) -> list[str]:
    """The keys German has and `lang` lacks (shown as German): for the translators."""
    own = catalog(lang)
    out = []
    for section, entries in catalog(DEFAULT).items():
        mine = own.get(section)
        if isinstance(entries, dict):
            mine = mine if isinstance(mine, dict) else {}
            out += [f"{section}.{k}" for k in entries if not mine.get(k)]
        elif not mine:
            out.append(section)
    return out


def babel_locale(lang: str) -> Locale:
    code = supported(lang)
    return Locale.parse(_BABEL.get(code, code))


def plural(lang: str, key: str, n: int, **fmt: Any) -> str:
    """A text with CLDR plural forms (`{one: ..., other: ...}`; Arabic has six): the form for
    `n` in `lang`, with `{n}` formatted for the locale."""
    section, _, name = key.partition(".")
    forms = texts(lang, section).get(name)
    if not isinstance(forms, dict):
        raise KeyError(key)
    category = babel_locale(lang).plural_form(n)
    template = forms.get(category) or forms.get("other") or next(iter(forms.values()))
    return str(template).format(n=number(n, lang), **fmt)


def number(value: float | int, lang: str) -> str:
    return format_decimal(value, locale=babel_locale(lang))


def _local(value: datetime, tz: str | None) -> datetime:
    return value.astimezone(ZoneInfo(tz)) if tz else value


def datetime_text(value: datetime, lang: str, tz: str | None = "Europe/Berlin", *,
                  weekday: bool = False) -> str:
    """A date with its time in the locale's words and order ("3. März 2026, 18:00", "3 Mart
    2026 18:00", "٣ مارس ٢٠٢٦ ...")."""
    local = _local(value, tz)
    loc = babel_locale(lang)
    day = _babel_date(local, "full" if weekday else "long", locale=loc)
    clock = _babel_time(local, "short", locale=loc)
    out = f"{day}{'، ' if supported(lang) in RTL else ', '}{clock}"
    return f"{out} Uhr" if supported(lang) in ("de", EASY_GERMAN) else out


def date_text(value: datetime, lang: str, tz: str | None = "Europe/Berlin") -> str:
    return _babel_date(_local(value, tz), "long", locale=babel_locale(lang))


def time_text(value: datetime, lang: str, tz: str | None = "Europe/Berlin") -> str:
    return _babel_time(_local(value, tz), "short", locale=babel_locale(lang))


def short_datetime(value: datetime, lang: str, tz: str | None = "Europe/Berlin") -> str:
    return _babel_datetime(_local(value, tz), "short", locale=babel_locale(lang))


def language_choices() -> list[tuple[str, str]]:
    """(code, name in itself) of every language, for a select or a switch."""
    return [(code, NATIVE_NAMES[code]) for code in LANGUAGES]
