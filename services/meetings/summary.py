"""The events of a process as the council resolution's participation report shows them: per
event its facts (time in the organisation's zone), places, waitlist, who was checked in
(walk-ins and companions counted as at the door) and who came by self-description.

The figures are the ones the coordinator sees: places as `meeting_out`, attendance as the
check-in page and the "held" step (`1 + companions` per checked-in registration) and the
self-descriptions through `diversity` (suppressed below MIN_GROUP with complementary
suppression), so the report never recomputes them its own way.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.meetings.diversity import DiversityOut
from services.meetings.mails import format_span
from services.meetings.repository import MeetingRepository
from services.meetings.service import diversity, time_zone_of

STATUS_LABELS = {"planned": "geplant", "open": "Anmeldung offen", "full": "ausgebucht",
                 "held": "stattgefunden", "cancelled": "abgesagt"}


class EventSummary(BaseModel):
    id: uuid.UUID
    phase_key: str
    title: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    # "1. Dezember 2026, 18:00 – 20:00 Uhr" in the organisation's zone (as in the mails).
    when: str
    location: str
    online: bool
    status: str
    status_label: str
    cancelled: bool
    capacity: int  # 0: no limit
    registrations: int  # registered (not waitlisted) registrations, walk-ins included
    places_taken: int  # people on those registrations, with their companions
    waitlisted: int  # registrations on the waitlist
    attended: int  # people checked in, with their companions
    attended_walk_ins: int  # of them: came without registering (with their companions)
    attended_companions: int  # of them: companions
    diversity: DiversityOut


async def process_events(session: AsyncSession, process_id: uuid.UUID) -> list[EventSummary]:
    repo = MeetingRepository.from_session(session)
    out = []
    for m in await repo.of_process(process_id):
        tz = await time_zone_of(repo, m.organisation_id)
        rows = await repo.registrations(m.id, ("registered",))
        here = [r for r in rows if r.checked_in_at is not None]
        out.append(EventSummary(
            id=m.id, phase_key=m.phase_key, title=m.title, starts_at=m.starts_at,
            ends_at=m.ends_at, time_zone=tz, when=format_span(m, tz, "de"),
            location=m.location, online=bool(m.online_url), status=m.status,
            status_label=STATUS_LABELS.get(m.status, m.status),
            cancelled=m.status == "cancelled", capacity=m.capacity, registrations=len(rows),
            places_taken=m.places_taken, waitlisted=m.waiting,
            attended=sum(1 + r.companions for r in here),
            attended_walk_ins=sum(1 + r.companions for r in here if r.walk_in),
            attended_companions=sum(r.companions for r in here),
            diversity=await diversity(session, meeting_id=m.id)))
    return out
