"""Every domain event type the product records: what a webhook may subscribe to.

A subscription names exact types ("process.advanced"), a family ("process.*") or "*" for all.
Types built at run time (`process.<transition kind>`, `campaign.<step>`, `approval.<status>`)
are spelled out here; tests/services/test_webhooks_unit.py checks that every literal type the
code records is listed, so a new event cannot be unsubscribable by accident.
"""

from __future__ import annotations

import re

from services.errors import ValidationFailed

EVENT_TYPES: frozenset[str] = frozenset({
    "organisation.created", "organisation.public_task_basis", "organisation.legal_updated",
    "membership.granted", "membership.invited", "membership.role_changed",
    "membership.deactivated",
    "group.added",
    "stakeholder.created", "stakeholder.updated", "stakeholder.exported", "stakeholder.erased",
    "stakeholder.unsubscribed", "stakeholders.imported",
    # services/processes/service.py records `process.<kind>` of the workflow's transitions.
    "process.created", "process.started", "process.advanced", "process.skipped",
    "process.completed", "process.rescheduled", "process.checklist",
    "process.approval_requested", "process.approval_decided", "process.reminder",
    "process.overdue",
    # `approval.<status>` once a vote decides it.
    "approval.requested", "approval.vote", "approval.approved", "approval.rejected",
    "survey.created", "survey.questions_changed", "survey.versioned", "survey.opened",
    "survey.closed", "survey.multiplier_link_created", "survey.multiplier_link_closed",
    # The daily sweep of expired drafts (services/surveys/retention.py): a count, no org.
    "survey.drafts_expired",
    # An organisation's own process or survey template (services/template_store).
    "template.uploaded",
    # `campaign.<step>` (services/campaigns/service.py).
    "campaign.created", "campaign.failed", "campaign.audience_selected",
    "campaign.invitation_batch_sent", "campaign.reminder_batch_sent",
    "campaign.reminder_started", "campaign.closed", "campaign.invitation_declined",
    "campaign.cancelled", "campaign.deadline_moved",
    # Webhook management itself (admins only, services/events/audience.py).
    "webhook.created", "webhook.secret_rotated", "webhook.deleted", "webhook.redelivered",
    "webhook.disabled",
    # The council resolution: `resolution.<step>` (services/resolutions/service.py).
    "resolution.compiled", "resolution.submitted",
    "resolution.received", "resolution.scheduled", "resolution.reminder",
    "resolution.adopted", "resolution.amended", "resolution.rejected", "resolution.deferred",
    # Events (meetings) and their registrations (services/meetings/service.py).
    "event.created", "event.updated", "event.rescheduled", "event.cancelled", "event.held",
    "event.multiplier_link_created", "event.multiplier_link_closed",
    "registration.created", "registration.waitlisted", "registration.promoted",
    "registration.cancelled", "registration.declined", "attendance.recorded",
})

FAMILIES: frozenset[str] = frozenset(t.split(".", 1)[0] for t in EVENT_TYPES)
_FAMILY_PATTERN = re.compile(r"^(?P<family>[a-z_]+)\.\*$")


def check_types(types: list[str], *, field: str = "types") -> list[str]:
    """The subscription's types, cleaned (stripped, unique, in order); 422 naming each unknown
    one (with the index) and the known families."""
    cleaned: list[str] = []
    errors = []
    for i, raw in enumerate(types):
        value = raw.strip()
        match = _FAMILY_PATTERN.match(value)
        known = (value == "*" or value in EVENT_TYPES
                 or (match is not None and match["family"] in FAMILIES))
        if not known:
            errors.append({"field": f"{field}.{i}",
                           "message": f"Unbekannter Ereignistyp {value!r}."})
        elif value not in cleaned:
            cleaned.append(value)
    if not cleaned and not errors:
        errors.append({"field": field, "message": "Mindestens ein Ereignistyp ist nötig."})
    if errors:
        raise ValidationFailed(
            "Unbekannte oder fehlende Ereignistypen.", code="unknown_event_type",
            details=errors + [{"field": field, "known_families": sorted(FAMILIES)}])
    return cleaned

