"""Every activity the worker runs; each domain appends its functions here.

ACTIVITIES run on the main task queue; MAIL_ACTIVITIES on the mail queue, where the worker
limits how many run at once so a campaign cannot starve other work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ACTIVITIES: list[Callable[..., Any]] = []
MAIL_ACTIVITIES: list[Callable[..., Any]] = []
