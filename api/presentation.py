"""How values look on a page: Jinja filters backed by Babel (issue 13, "Presentation").

- Times in the organisation's time zone, never in UTC: a deadline of 23:59 Berlin reads
  "23:59 Uhr", not "21:59 UTC".
- Numbers and percentages in the page's language: "1.234,5" and "45,8 %" in German.
- Reach tiers and stakeholder groups by their titles, not their keys.
- Durations in words ("7 Tage"), not ISO 8601 ("P7D").

The filters read the page's language (`lang`, German by default) and time zone from the
template context, so a template writes `{{ c.deadline|datetime }}` (or names the zone:
`{{ a.deadline|datetime(zones[a.id]) }}`). Otherwise the zone is the first of:
`time_zone` (a name) or `tz` (a ZoneInfo) in the context, the `org`'s `time_zone`, the
request's (api/templating.py `for_organisation`), or Europe/Berlin (every organisation's
default, services/models/organisation.py).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from api.staff_language import page_lang
from contracts.campaign import parse_offset

DEFAULT_ZONE = "Europe/Berlin"
LOCALES = {"de": "de_DE", "en": "en_GB"}
# Explicit patterns: Babel's "medium" German date-time carries seconds, which no page needs.
DATETIME_PATTERNS = {"de": "dd.MM.yyyy, HH:mm 'Uhr'", "en": "d MMM yyyy, HH:mm"}
DATE_PATTERNS = {"de": "dd.MM.yyyy", "en": "d MMM yyyy"}
TIME_PATTERNS = {"de": "HH:mm 'Uhr'", "en": "HH:mm"}
TIER_TITLES = {
    "de": {1: "Stufe 1 (gut erreichbar)", 2: "Stufe 2", 3: "Stufe 3 (kaum erreicht)"},
    "en": {1: "Tier 1 (easy to reach)", 2: "Tier 2", 3: "Tier 3 (seldom reached)"},
}
# Largest unit first: a duration is said in the largest unit that divides it exactly, so
# P7D reads "7 Tage" (Babel's own format_timedelta would round it to "1 Woche").
_UNITS = (("duration-day", 86400), ("duration-hour", 3600), ("duration-minute", 60),
          ("duration-second", 1))


def lang_of(ctx: Context | None) -> str:
    # A participant page's own `lang`, else the staff page's (api/staff_language.py).
    lang = page_lang(ctx)
    return lang if lang in LOCALES else "de"


def zone_of(ctx: Context | None) -> ZoneInfo:
    if ctx is not None:
        request = ctx.get("request")
        for value in (ctx.get("time_zone"), ctx.get("tz"),
                      getattr(ctx.get("org"), "time_zone", None),
                      getattr(getattr(request, "state", None), "time_zone", None)):
            if isinstance(value, ZoneInfo):
                return value
            if isinstance(value, str) and value:
                return ZoneInfo(value)
    return ZoneInfo(DEFAULT_ZONE)


def local_datetime(value: datetime | None, lang: str = "de", zone: str | ZoneInfo = DEFAULT_ZONE,
                   pattern: dict[str, str] = DATETIME_PATTERNS) -> str:
    """An instant as the organisation's wall-clock time ("01.12.2026, 23:59 Uhr")."""
    if value is None:
        return ""
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    return format_datetime(value, pattern[lang], tzinfo=tz, locale=LOCALES[lang])


def local_date(value: date | datetime | str | None, lang: str = "de",
               zone: str | ZoneInfo = DEFAULT_ZONE) -> str:
    """A calendar day; an instant is first moved into the organisation's zone (an event at
    00:30 Berlin time is on that day, not on the UTC day before). ISO text (as JSON columns
    keep dates) is read first."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
        except ValueError:
            return text
    if isinstance(value, datetime):
        tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
        value = value.astimezone(tz).date() if value.tzinfo else value.date()
    return format_date(value, DATE_PATTERNS[lang], locale=LOCALES[lang])


def local_time(value: datetime | None, lang: str = "de",
               zone: str | ZoneInfo = DEFAULT_ZONE) -> str:
    if value is None:
        return ""
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    return format_time(value.astimezone(tz), TIME_PATTERNS[lang], locale=LOCALES[lang])


def number(value: float | int | None, lang: str = "de", digits: int = 1) -> str:
    """1234.5 -> "1.234,5" (German), at most `digits` decimals; None -> "–"."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "#" * digits if digits > 0 else "")
    return format_decimal(value, pattern, locale=LOCALES[lang])


def percent(value: float | None, lang: str = "de", digits: int = 1) -> str:
    """A share (0.458) as "45,8 %" (German, a no-break space before the sign)."""
    if value is None:
        return "–"
    # German puts a (no-break) space before the sign, English does not.
    sign = "\u00a0%" if lang == "de" else "%"
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + sign
    return format_percent(value, pattern, locale=LOCALES[lang])


def duration(value: timedelta | str | None, lang: str = "de") -> str:
    """timedelta(days=7) or "P7D" -> "7 Tage"; "P1DT6H" -> "30 Stunden"."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            delta = parse_offset(value)
        except ValueError:
            return value  # not a duration this product writes: shown as entered
    else:
        delta = value
    seconds = int(delta.total_seconds())
    # Seconds divide everything, so there is always a match.
    unit, size = next((u, n) for u, n in _UNITS if seconds % n == 0)
    return format_unit(seconds // size, unit, length="long", locale=LOCALES[lang])


def tier_title(tier: int | str | None, lang: str = "de") -> str:
    if tier is None or tier == "":
        return ""
    try:
        n = int(tier)
    except (TypeError, ValueError):
        return str(tier)
    default = f"Stufe {n}" if lang == "de" else f"Tier {n}"
    return TIER_TITLES[lang].get(n, default)


def group_title(key: str | None, titles: dict[str, str] | None) -> str:
    """A stakeholder group by its title (the organisation's groups); an unknown key as is."""
    if not key:
        return ""
    return (titles or {}).get(key, key)


def register_filters(env: Environment) -> None:
    """The filters every template may use; language and zone come from the page context."""

    # A page listing several organisations' things names each row's zone: `|datetime(zone)`.
    @pass_context
    def _datetime(ctx: Context, value: datetime | None, zone: str | ZoneInfo | None = None) -> str:
        return local_datetime(value, lang_of(ctx), zone or zone_of(ctx))

    @pass_context
    def _date(ctx: Context, value: date | datetime | str | None,
              zone: str | ZoneInfo | None = None) -> str:
        return local_date(value, lang_of(ctx), zone or zone_of(ctx))

    @pass_context
    def _time(ctx: Context, value: datetime | None, zone: str | ZoneInfo | None = None) -> str:
        return local_time(value, lang_of(ctx), zone or zone_of(ctx))

    @pass_context
    def _number(ctx: Context, value: float | None, digits: int = 1) -> str:
        return number(value, lang_of(ctx), digits)

    @pass_context
    def _percent(ctx: Context, value: float | None, digits: int = 1) -> str:
        return percent(value, lang_of(ctx), digits)

    @pass_context
    def _duration(ctx: Context, value: timedelta | str | None) -> str:
        return duration(value, lang_of(ctx))

    @pass_context
    def _tier(ctx: Context, value: int | str | None) -> str:
        return tier_title(value, lang_of(ctx))

    @pass_context
    def _group(ctx: Context, value: str | None) -> str:
        titles: Any = ctx.get("group_titles")
        return group_title(value, titles if isinstance(titles, dict) else None)

    env.filters.update({
        "datetime": _datetime, "date": _date, "time": _time, "number": _number,
        "percent": _percent, "duration": _duration, "tier_title": _tier,
        "group_title": _group,
    })
