"""The catalogs and the locale formats of services/i18n (issue 12)."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime

import pytest

from services import i18n

OTHERS = [code for code in i18n.LANGUAGES if code != "de"]


def _fields(value: object) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_fields(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_fields(v) for v in value))
    return {f for _, f, _, _ in string.Formatter().parse(str(value)) if f}


@pytest.mark.parametrize("lang", OTHERS)
def test_every_catalog_is_complete_and_has_the_same_placeholders(lang):
    assert i18n.missing_keys(lang) == []
    german, own = i18n.catalog("de"), i18n.catalog(lang)
    for section, entries in german.items():
        if isinstance(entries, list):
            assert len(own[section]) == len(entries), section
            continue
        for key, text in entries.items():
            # A placeholder missing or misspelt would fail (KeyError) or leak "{n}".
            assert _fields(own[section][key]) == _fields(text), f"{lang}: {section}.{key}"


def test_a_missing_key_falls_back_to_german(monkeypatch):
    i18n._texts.cache_clear()
    real = i18n.catalog

    def without_submit(lang: str) -> dict:
        data = real(lang)
        if lang != "tr":
            return data
        return {**data, "survey": {k: v for k, v in data["survey"].items() if k != "submit"}}

    monkeypatch.setattr(i18n, "catalog", without_submit)
    try:
        assert i18n.text("tr", "survey.submit") == "Antworten absenden"
        assert i18n.text("tr", "survey.save") == "Ara kaydet"
        assert i18n.missing_keys("tr") == ["survey.submit"]
    finally:
        i18n._texts.cache_clear()


def test_leichte_sprache_has_texts_of_its_own():
    """Not the standard German copied: most texts differ, and they are short sentences (one
    statement each: no sentence over ten words, much shorter on average than German's)."""
    for section in ("survey", "optout", "event", "validation"):
        german, easy = i18n.texts("de", section), i18n.texts("de-x-ls", section)
        keys = [k for k, v in german.items() if isinstance(v, str) and len(v) > 20]
        differ = [k for k in keys if easy[k] != german[k]]
        assert len(differ) >= 0.8 * len(keys), section

    def sentences(lang: str) -> list[int]:
        """Words per sentence in the texts longer than a label."""
        out = []
        for section in ("survey", "optout", "event"):
            for v in i18n.texts(lang, section).values():
                if isinstance(v, str) and len(v) > 40:
                    out += [len(s.split()) for s in re.split(r"[.?!:;]\s+", v)]
        return out

    easy, german = sentences("de-x-ls"), sentences("de")
    assert max(easy) <= 10 < max(german)
    assert sum(easy) / len(easy) < 0.8 * sum(german) / len(german)


def test_codes_directions_and_names():
    assert [i18n.normalise(c) for c in ("DE", "de-DE", "tr_TR", "ls", "Leichte Sprache",
                                        "de-x-ls", "fr", "", None)] == [
        "de", "de", "tr", "de-x-ls", "de-x-ls", "de-x-ls", None, None, None]
    assert i18n.supported("xx") == "de"
    assert [i18n.direction(c) for c in i18n.LANGUAGES] == ["ltr", "ltr", "ltr", "rtl", "ltr",
                                                           "ltr"]
    assert i18n.NATIVE_NAMES["ar"] == "العربية" and i18n.NATIVE_NAMES["uk"] == "Українська"


def test_dates_numbers_and_plurals_per_locale():
    when = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)  # 18:00 in Berlin
    assert i18n.datetime_text(when, "de") == "3. März 2026, 18:00 Uhr"
    assert i18n.datetime_text(when, "de-x-ls") == "3. März 2026, 18:00 Uhr"
    assert i18n.datetime_text(when, "en") == "3 March 2026, 18:00"
    assert i18n.datetime_text(when, "tr") == "3 Mart 2026, 18:00"
    assert "березня" in i18n.datetime_text(when, "uk")
    assert "مارس" in i18n.datetime_text(when, "ar") and "،" in i18n.datetime_text(when, "ar")
    assert [i18n.number(1234.5, c) for c in ("de", "en", "uk")] == ["1.234,5", "1,234.5",
                                                                    "1\xa0234,5"]
    # CLDR plural forms: English one/other, Ukrainian one/few/many, Arabic six.
    assert i18n.plural("en", "survey.chars", 1) == "at most 1 character"
    assert i18n.plural("en", "survey.chars", 3) == "at most 3 characters"
    assert i18n.plural("uk", "survey.chars", 1) == "не більше 1 символу"
    assert i18n.plural("uk", "survey.chars", 5) == "не більше 5 символів"
    assert i18n.plural("ar", "survey.chars", 1) == "حرف واحد كحد أقصى"
    assert i18n.plural("ar", "survey.chars", 2) == "حرفان كحد أقصى"
    assert i18n.plural("ar", "survey.chars", 5) == "5 أحرف كحد أقصى"
    assert i18n.plural("ar", "survey.chars", 11) == "11 حرفًا كحد أقصى"
