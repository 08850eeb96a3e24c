"""Process mails are Jinja templates (services/processes/mail_templates), like campaign mails."""

from __future__ import annotations

import typing
import uuid
from datetime import UTC, date, datetime

from contracts.process import NotifyInput
from services.processes import mails


def _notice(kind: str, note: str | None = None) -> NotifyInput:
    return NotifyInput(process_id=uuid.UUID(int=1), organisation_id=uuid.UUID(int=2),
                       idempotency_key="k", kind=kind,  # type: ignore[arg-type]
                       phase_key="planung", phase_title="Planung", planned_end=date(2026, 3, 1),
                       scheduled_for=datetime(2026, 2, 1, tzinfo=UTC),
                       approval_id=uuid.UUID(int=3), note=note)


def test_every_kind_has_its_template_and_renders() -> None:
    kinds = typing.get_args(NotifyInput.model_fields["kind"].annotation)
    assert {p.name.split(".")[0] for p in mails.TEMPLATES.glob("*.de.txt")} - {"notice"} \
        == set(kinds)
    for kind in kinds:
        msg = mails.render(_notice(kind, "freigegeben"), to="a@example.org",
                           process_title="Weiterstadt", mail_from="noreply@example.org",
                           org_name="Stadt Weiterstadt", public_url="https://m.example/")
        body = msg.get_content()
        assert body.startswith("Guten Tag,\n\n")
        assert body.endswith("Mitwirken – Stadt Weiterstadt\n")
        assert "{{" not in body
        assert msg["Subject"] == mails.subject(_notice(kind, "freigegeben"), "Weiterstadt")
        assert msg["X-Mitwirken-Organisation"] == str(uuid.UUID(int=2))


def test_the_reminder_text() -> None:
    msg = mails.render(_notice("reminder"), to="a@example.org", process_title="Weiterstadt",
                       mail_from="noreply@example.org", org_name="Stadt W",
                       public_url="https://m.example")
    assert msg["Subject"] == "Erinnerung: Phase „Planung“ endet am 01.03.2026"
    assert msg.get_content() == (
        "Guten Tag,\n\ndie Phase „Planung“ des Prozesses „Weiterstadt“ endet planmäßig am "
        "01.03.2026.\nBitte prüfen Sie die offenen Punkte der Checkliste.\n\n"
        f"https://m.example/app/processes/{uuid.UUID(int=1)}\n\nMitwirken – Stadt W\n")
    assert mails.subject(_notice("approval_result")) == "Freigabe „Planung“: "
