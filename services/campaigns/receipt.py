"""The receipt on an invitation, as SQL: the one place that says what "answered" means.

An answered invitation gets status `responded` and `responded_at` with the date only (no time:
an anonymous response must not be joinable to its receipt by a timestamp), and one domain event
`campaign.response_received` that names the campaign, never the invitation. Reminders skip it.

The SQL is a pair of CTEs so that two callers share it:
- `mark_invitation_responded` (services/campaigns/service.py) runs it alone, for any caller;
- the survey domain embeds it in its single submission statement (the hot path: one round trip
  for receipt, event, response and answers, see services/surveys/repository.py).

Placeholders are passed in by the caller, so the fragment serves SQLAlchemy `text()`
(`:name`) and raw asyncpg (`$n`) alike.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Statuses from which an invitation can be answered (declined and responded are final).
RESPONDABLE = ("pending", "sent", "failed")
RESPONSE_RECEIVED = "campaign.response_received"


def receipt_ctes(invitation_id: str, day: str) -> str:
    """`receipt` (the invitation marked answered; RETURNING id, organisation_id, campaign_id,
    empty when the invitation was not answerable) and `receipt_event` (its domain event, only
    when the receipt changed a row). A data-modifying CTE runs even if nothing reads it."""
    statuses = ", ".join(f"'{s}'" for s in RESPONDABLE)
    return (
        "receipt AS (UPDATE invitations SET status = 'responded', "
        f"responded_at = CAST({day} AS date) "
        f"WHERE id = CAST({invitation_id} AS uuid) AND status IN ({statuses}) "
        "RETURNING id, organisation_id, campaign_id), "
        "receipt_event AS (INSERT INTO domain_events (id, organisation_id, type, data) "
        f"SELECT gen_random_uuid(), organisation_id, '{RESPONSE_RECEIVED}', "
        "jsonb_build_object('campaign_id', CAST(campaign_id AS text)) FROM receipt)"
    )


_MARK = text(f"WITH {receipt_ctes(':invitation_id', ':day')} SELECT count(*) FROM receipt")


async def mark_responded(session: AsyncSession, invitation_id: uuid.UUID, day: date) -> bool:
    """Receipt and event in one statement of the caller's transaction; False when the
    invitation does not exist or was already answered or declined."""
    changed = await session.scalar(_MARK, {"invitation_id": invitation_id, "day": day})
    return bool(changed)
