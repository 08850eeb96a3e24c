"""Debian's Chromium for the browser tests, and the axe-core check they all make."""

from __future__ import annotations

import shutil
from typing import Any

CHROMIUM = shutil.which("chromium")
# Headless in a container: no sandbox, no GPU, and no background traffic to Google.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


async def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one readable line each."""
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page)
    violations = results.response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in violations
            if v.get("impact") in ("serious", "critical")]
