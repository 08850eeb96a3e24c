"""The test browsers speak German, as a town hall's do: staff pages follow the browser's
Accept-Language when nobody chose a language (api/staff_language.py), and Playwright's
default is en-US. A test that wants English says so (`locale=`, or the switch)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

GERMAN = "de-DE"


@pytest.fixture(autouse=True)
def german_browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    try:
        from playwright.async_api import Browser
    except ImportError:  # no browser tests without Playwright
        yield
        return
    for name in ("new_context", "new_page"):
        original = getattr(Browser, name)

        def german(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            kwargs.setdefault("locale", GERMAN)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Browser, name, german)
    yield
