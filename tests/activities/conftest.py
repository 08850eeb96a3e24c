"""The activities read the worker's settings from the environment and send through the
process-wide mail transport, as in the worker; these fixtures point both at the test's
database, secret and SMTP sink (and put them back afterwards)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra import mail as infra_mail
from infra.config import Settings, get_settings
from infra.mail import MailTransport
from infra.mailsink import MailSink


@pytest.fixture
def worker_env(settings: Settings, pg_url: str, committed_maker, smtp_sink: MailSink,  # type: ignore[no-untyped-def]
               monkeypatch: pytest.MonkeyPatch) -> Iterator[MailSink]:
    """committed_maker configures infra.db's session_scope (the activities' unit of work)."""
    monkeypatch.setenv("MITWIRKEN_SECRET_KEY", settings.resolved_secret_key())
    monkeypatch.setenv("MITWIRKEN_DATABASE_URL", pg_url)
    get_settings.cache_clear()
    infra_mail.configure(MailTransport(smtp_sink.host, smtp_sink.port))
    yield smtp_sink
    get_settings.cache_clear()
