"""No page scrolls sideways at 320 CSS px (WCAG 1.4.10, issue 13): a table is wider than a
phone, so every table in the templates stands inside a `.table-scroll` element (base.html's
CSS: it scrolls in its own labelled region, the page does not). A guard over the template
sources, so a new table without its wrapper fails here and not only in the browser journey."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from api.templating import TEMPLATES_DIR

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class _Tables(HTMLParser):
    """The line of every <table> with no `table-scroll` element around it."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, bool]] = []  # (tag, is a table-scroll)
        self.bare: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table" and not any(scroll for _, scroll in self.open):
            self.bare.append(self.getpos()[0])
        if tag not in VOID:
            self.open.append((tag, "table-scroll" in classes))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag:
                del self.open[i:]
                return


def bare_tables(source: str) -> list[int]:
    parser = _Tables()
    parser.feed(source)
    return parser.bare


def test_the_guard_sees_a_bare_table_and_a_wrapped_one() -> None:
    assert bare_tables("<main><table><tr><td>x</td></tr></table></main>") == [1]
    assert bare_tables('<div class="table-scroll" role="region" tabindex="0">\n'
                       "<table><tr><td>x</td></tr></table></div>") == []
    assert bare_tables('<div class="table-scroll"></div>\n<table></table>') == [2]


def test_every_table_scrolls_in_its_own_region() -> None:
    found = {}
    for path in sorted(Path(TEMPLATES_DIR).rglob("*.html")):
        lines = bare_tables(path.read_text(encoding="utf-8"))
        if lines:
            found[str(path.relative_to(TEMPLATES_DIR))] = lines
    assert found == {}, f"tables outside a .table-scroll element: {found}"
