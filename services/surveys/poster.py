"""The poster (A4) and the flyer (A6) a partner organisation prints for its multiplier link:
the QR code (segno) and the short link, one page per language of the survey (German first,
then each language the survey's title is written in), PDF/UA-1 via WeasyPrint like the
council documents (services/resolutions/render.py)."""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services import i18n
from services.surveys.schemas import pick

DOCUMENTS = Path(__file__).parent / "documents"


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(DOCUMENTS), autoescape=select_autoescape())


def qr_svg_data_uri(value: str) -> str:
    """The QR code as an SVG data URI (vector: sharp at any print size)."""
    svg = segno.make(value, error="m").svg_inline(scale=10, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def poster_languages(title: dict[str, str]) -> list[str]:
    """German, then the survey's other languages in the catalog's order."""
    return [lang for lang in i18n.LANGUAGES if lang == i18n.DEFAULT or title.get(lang)]


def _texts(lang: str, kind: str) -> dict[str, str]:
    """The poster's words: a survey's, or an event's (`event_poster_*`: come and register)."""
    t = dict(i18n.texts(lang, "multiplier"))
    if kind == "event":
        for key in ("poster_heading", "poster_call", "poster_anonymous"):
            t[key] = t[f"event_{key}"]
    return t


def poster_html(*, url: str, survey_title: dict[str, str], org_name: str,
                partner: str | None, flyer: bool = False, kind: str = "survey") -> str:
    pages = [{"lang": lang, "dir": i18n.direction(lang), "t": _texts(lang, kind),
              "title": pick(survey_title, lang)} for lang in poster_languages(survey_title)]
    return _env().get_template("poster.html").render(
        doc_title=f"{'Flyer' if flyer else 'Plakat'}: {pick(survey_title, 'de')}",
        pages=pages, url=url, qr=qr_svg_data_uri(url), org_name=org_name, partner=partner,
        flyer=flyer)


def poster_pdf(*, url: str, survey_title: dict[str, str], org_name: str,
               partner: str | None, flyer: bool = False, kind: str = "survey") -> bytes:
    from weasyprint import HTML  # heavy import, only where documents are made

    html = poster_html(url=url, survey_title=survey_title, org_name=org_name, partner=partner,
                       flyer=flyer, kind=kind)
    return HTML(string=html, base_url=str(DOCUMENTS)).write_pdf(  # type: ignore[no-any-return]
        pdf_variant="pdf/ua-1")
