"""Reading a page's or a mail's language: the `lang` and `dir` of <html>, the switch's links."""

from __future__ import annotations

from html import unescape
from html.parser import HTMLParser

from services import i18n

LANGUAGES = i18n.LANGUAGES
DIRS = {code: ("rtl" if code == "ar" else "ltr") for code in LANGUAGES}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.source = ""
        self.html: dict[str, str | None] = {}
        self.h1: list[str] = []
        self.switch: list[dict[str, str | None]] = []
        self._in_h1 = False
        self._in_switch = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html" and not self.html:
            self.html = a
        elif tag == "h1":
            self._in_h1 = True
        elif tag == "nav" and "lang-switch" in (a.get("class") or ""):
            self._in_switch = True
        elif tag == "a" and self._in_switch:
            self.switch.append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1":
            self._in_h1 = False
        elif tag == "nav":
            self._in_switch = False

    def handle_data(self, data: str) -> None:
        if self._in_h1:
            self.h1.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.source = unescape(html)  # for `in` checks: an apostrophe arrives as &#39;
    return page


def assert_language(html: str, lang: str, *, switch: bool = True) -> _Page:
    """The page is in `lang` (lang and dir on <html>); with `switch`, it offers all six
    languages, each marked with its own lang, the current one as aria-current."""
    page = parse(html)
    assert (page.html.get("lang"), page.html.get("dir")) == (lang, DIRS[lang]), page.html
    if switch:
        assert [a.get("lang") for a in page.switch] == list(LANGUAGES), page.switch
        assert [a.get("lang") for a in page.switch if a.get("aria-current")] == [lang]
        assert all(a.get("dir") == DIRS[str(a.get("lang"))] for a in page.switch)
    return page
