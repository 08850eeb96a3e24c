"""Multiplier links (issue 12): a partner organisation passes a link on, anyone with it answers
a survey or registers for an event.

A coordinator creates a link for a partner (a stakeholder of kind organisation) and one
survey; it carries a group and a reach tier (by default the partner's), an optional cap on
answers and its own opening and closing dates. Whoever opens `/m/{secret}` answers
anonymously: the response is an ordinary survey response with the channel `multiplier` and the
link's group and tier, no language and nothing that names the link, the client or a person.

The link counts its answers itself. The counter is raised in the statement that stores the
response, gated on `answers < cap` under the link's row lock (services/surveys/
links_repository.py), so the cap holds under any concurrency; the same gate refuses a closed
link or one outside its dates, so a close takes effect for the very next submission.

Secrets: the link's (short, to be typed from a poster: 16 characters of base32, 80 bits) and
the partner's results page's (256 bits) are derived from the app's secret key and the link's
id, like invitation tokens, and only their SHA-256 hash is stored. The staff page can show both
again and print the poster; rotating the secret key invalidates them (as it does tokens).

Abuse is bounded without identifying anyone: the cap, a rate limit per hashed client address
kept in memory only (api/ratelimit.py) and a cookie "answered" on the browser (api/pages/
multiplier.py). None of them is stored with the answer.

A link's target is a survey or an event (`Target`; migration 0023): creating, listing,
closing, the poster and the partner's page are the same functions for both. An event's link
leads to the event's own public registration (name, e-mail, double opt-in; services/meetings/
service.py `register_by_link`), whether or not the event is public: the partner's audience is
invited through the link, the town's page stays as the event says. There `answers` counts the
registrations confirmed through the link, raised under the link's row lock in the
confirmation's transaction (`LinksRepository.take`); a registration is named data, so it keeps
the link, its group and tier and the channel `multiplier`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.input_rules import BoundedDateTime
from services.campaigns.tokens import hash_token
from services.errors import Conflict, Gone, NotFound, ValidationFailed
from services.events.service import record_event
from services.identity.repository import IdentityRepository
from services.models.meeting import Meeting
from services.models.stakeholder import Stakeholder
from services.models.survey import MultiplierLink, Survey
from services.stakeholders.repository import StakeholderRepository
from services.stakeholders.rules import unknown_group_message
from services.surveys import service
from services.surveys.links_repository import LinksRepository
from services.surveys.poster import poster_pdf
from services.surveys.repository import InvitationView, SurveyView, TokenTarget
from services.surveys.service import Participation, Submitted
from services.surveys.suppression import MIN_GROUP, shown_count

SECRET_LIMIT = 64  # longer path segments are no secret of ours: refused before any lookup

# What a link leads to: one survey (anonymous answers) or one event (registrations).
Target = Survey | Meeting


def target_kind(target: Target) -> Literal["survey", "event"]:
    return "survey" if isinstance(target, Survey) else "event"


def target_title(target: Target) -> dict[str, str]:
    """The target's title by language (an event's is German only)."""
    return target.title if isinstance(target, Survey) else {"de": target.title}


def target_over(target: Target, now: datetime) -> bool:
    """The survey has closed, or the event was cancelled, held or has begun."""
    if isinstance(target, Survey):
        return target.closes_at is not None and target.closes_at <= now
    return target.status in ("cancelled", "held") or target.starts_at <= now


# --- secrets ---------------------------------------------------------------------------------

def _digest(secret_key: str, purpose: bytes, link_id: uuid.UUID) -> bytes:
    return hmac.new(secret_key.encode(), purpose + link_id.bytes, hashlib.sha256).digest()


def link_secret(secret_key: str, link_id: uuid.UUID) -> str:
    """The answer link's secret: 16 lower-case base32 characters (80 bits), easy to type."""
    raw = _digest(secret_key, b"multiplier:", link_id)[:10]
    return base64.b32encode(raw).decode().lower()


def results_secret(secret_key: str, link_id: uuid.UUID) -> str:
    """The partner's read-only results page: the full 256 bits, never typed."""
    raw = _digest(secret_key, b"multiplier-results:", link_id)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def answer_url(public_url: str, secret: str) -> str:
    return f"{public_url.rstrip('/')}/m/{secret}"


def results_url(public_url: str, secret: str) -> str:
    return f"{public_url.rstrip('/')}/m/{secret}/ergebnis"


# --- the coordinator's side ------------------------------------------------------------------

class MultiplierLinkCreate(BaseModel):
    partner_id: uuid.UUID
    # Defaults: the partner's own group and tier (the people it reaches are like it).
    group: str | None = Field(default=None, min_length=1, max_length=100)
    tier: int | None = Field(default=None, ge=1, le=3)
    cap: int | None = Field(default=None, ge=1, le=1_000_000)
    opens_at: BoundedDateTime | None = None
    closes_at: BoundedDateTime | None = None
    label: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _dates(self) -> MultiplierLinkCreate:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValueError("closes_at liegt nicht nach opens_at")
        return self


LinkStatus = Literal["scheduled", "open", "full", "closed"]


class MultiplierLinkOut(BaseModel):
    id: uuid.UUID
    # Exactly one of them: the link's survey or event.
    survey_id: uuid.UUID | None
    event_id: uuid.UUID | None = None
    partner_id: uuid.UUID | None
    label: str
    group: str
    tier: int
    cap: int | None
    answers: int
    opens_at: datetime | None
    closes_at: datetime | None
    closed_at: datetime | None
    status: LinkStatus
    link: str
    results_link: str


def link_status(link: MultiplierLink, target: Target | None = None,
                now: datetime | None = None) -> LinkStatus:
    now = now or datetime.now(UTC)
    if link.closed_at is not None or (link.closes_at is not None and link.closes_at <= now) \
            or (target is not None and target_over(target, now)):
        return "closed"
    if link.cap is not None and link.answers >= link.cap:
        return "full"
    if link.opens_at is not None and now < link.opens_at:
        return "scheduled"
    return "open"


def link_out(link: MultiplierLink, target: Target, *, secret_key: str,
             public_url: str) -> MultiplierLinkOut:
    return MultiplierLinkOut(
        id=link.id, survey_id=link.survey_id, event_id=link.meeting_id,
        partner_id=link.partner_id, label=link.label,
        group=link.group_key, tier=link.reach_tier, cap=link.cap, answers=link.answers,
        opens_at=link.opens_at, closes_at=link.closes_at, closed_at=link.closed_at,
        status=link_status(link, target),
        link=answer_url(public_url, link_secret(secret_key, link.id)),
        results_link=results_url(public_url, results_secret(secret_key, link.id)))


def _target_columns(target: Target) -> dict[str, uuid.UUID | None]:
    if isinstance(target, Survey):
        return {"survey_id": target.id, "meeting_id": None}
    return {"survey_id": None, "meeting_id": target.id}


async def _record(session: AsyncSession, target: Target, what: str, actor: str | None,
                  **data: Any) -> None:
    await record_event(
        session, organisation_id=target.organisation_id, process_id=target.process_id,
        type=f"{target_kind(target)}.multiplier_link_{what}", actor=actor,
        data={f"{target_kind(target)}_id": str(target.id), **data})


async def create_link(session: AsyncSession, survey: Target, body: MultiplierLinkCreate, *,
                      secret_key: str, actor: str | None) -> MultiplierLink:
    """A new link of a survey or an event (`survey`, the target) for a partner organisation
    of its organisation (the caller checked the principal's role). 422 naming the field for
    an unknown partner, a person instead of an organisation, a group the organisation does
    not have, or an identified survey (its answers name people; a link's cannot)."""
    if isinstance(survey, Survey) and survey.anonymity != "anonymous":
        raise ValidationFailed(
            "Multiplikatoren-Links gibt es nur für anonyme Umfragen.", code="survey_identified",
            details=[{"field": "survey", "message": "Die Umfrage ist namentlich."}])
    partner = await StakeholderRepository.from_session(session).get(survey.organisation_id,
                                                                    body.partner_id)
    if partner is None or partner.erased_at is not None:
        raise ValidationFailed("Diese Partnerorganisation gibt es nicht.", code="unknown_partner",
                               details=[{"field": "partner_id", "message": "unbekannt"}])
    if partner.kind != "organisation":
        raise ValidationFailed(
            "Ein Multiplikatoren-Link gehört zu einer Organisation, nicht zu einer Person.",
            code="partner_not_organisation",
            details=[{"field": "partner_id", "message": "keine Organisation"}])
    if body.group is not None:
        known = await StakeholderRepository.from_session(session).group_keys(
            survey.organisation_id)
        if body.group not in known:
            message = unknown_group_message(body.group, known)
            raise ValidationFailed(message, code="unknown_group", details=[
                {"field": "group", "message": message, "known": sorted(known)}])
    link_id = uuid.uuid4()
    link = MultiplierLink(
        id=link_id, organisation_id=survey.organisation_id, **_target_columns(survey),
        partner_id=partner.id, label=body.label or partner.name or "Partnerorganisation",
        group_key=body.group or partner.group_key, reach_tier=body.tier or partner.reach_tier,
        cap=body.cap, answers=0, opens_at=body.opens_at, closes_at=body.closes_at,
        secret_hash=hash_token(link_secret(secret_key, link_id)),
        results_hash=hash_token(results_secret(secret_key, link_id)), created_by=actor)
    await LinksRepository.from_session(session).add(link)
    await _record(session, survey, "created", actor, link_id=str(link_id), cap=body.cap,
                  group=link.group_key, tier=link.reach_tier)
    return link


async def partner_choices(session: AsyncSession, survey: Target) -> list[Stakeholder]:
    """The partner organisations a link can be made for (the staff page's choice)."""
    return await LinksRepository.from_session(session).partners(survey.organisation_id)


async def links_of(session: AsyncSession, survey: Target) -> list[MultiplierLink]:
    return await LinksRepository.from_session(session).of_target(**_target_columns(survey))


async def link_of(session: AsyncSession, survey: Target, link_id: uuid.UUID) -> MultiplierLink:
    link = await LinksRepository.from_session(session).get(link_id, **_target_columns(survey))
    if link is None:
        raise NotFound("Link nicht gefunden.")
    return link


async def close_link(session: AsyncSession, survey: Target, link_id: uuid.UUID, *,
                     actor: str | None, now: datetime | None = None) -> MultiplierLink:
    """Close at once: the next submission through the link is refused (its gate reads
    `closed_at`). 409 if it was closed already."""
    now = now or datetime.now(UTC)
    link = await link_of(session, survey, link_id)
    if not await LinksRepository.from_session(session).close(link.id, now):
        raise Conflict("Der Link ist bereits geschlossen.", code="link_already_closed")
    await session.refresh(link)
    await _record(session, survey, "closed", actor, link_id=str(link.id))
    return link


async def poster(session: AsyncSession, survey: Target, link: MultiplierLink, *,
                 secret_key: str, public_url: str, flyer: bool = False) -> bytes:
    """The poster (A4) or flyer (A6) PDF of a link (services/surveys/poster.py)."""
    org = await IdentityRepository.from_session(session).org_by_id(survey.organisation_id)
    return poster_pdf(url=answer_url(public_url, link_secret(secret_key, link.id)),
                      survey_title=target_title(survey), org_name=org.name if org else "",
                      partner=link.label, flyer=flyer, kind=target_kind(survey))


# --- the participant's side ------------------------------------------------------------------

def draft_hash(draft_key: str | None) -> str:
    """The drafts table's key for a browser's unsent answers (its cookie's random value)."""
    return hash_token("multiplier:" + draft_key) if draft_key else ""


def _refusal(link: MultiplierLink, survey: Survey, now: datetime) -> Exception | None:
    # The survey page shows a link that opens later as "not open yet" itself (open_link).
    return refusal(link, survey, now, opening=False)


@dataclass(frozen=True)
class LinkParticipation:
    link: MultiplierLink
    organisation_id: uuid.UUID
    p: Participation


async def open_link(session: AsyncSession, secret: str, *, draft_key: str | None,
                    now: datetime | None = None) -> LinkParticipation:
    """Resolve a link's secret: 404 unknown, 410 closed/expired or survey closed, 409 full.
    The participation is the participant page's (services.surveys.service.Participation)
    with the link's group and tier and no person; the survey is always shown as anonymous.
    A link that opens later than its survey moves the survey's opening date for the page."""
    now = now or datetime.now(UTC)
    found = (await LinksRepository.from_session(session).by_secret(hash_token(secret))
             if len(secret) <= SECRET_LIMIT else None)
    if found is None:
        raise NotFound("Dieser Link ist uns nicht bekannt.", code="token_unknown")
    link, survey = found
    refused = _refusal(link, survey, now)
    if refused is not None:
        raise refused
    opens = max((d for d in (survey.opens_at, link.opens_at) if d is not None), default=None)
    view = SurveyView(id=survey.id, revision=survey.revision, title=survey.title,
                      introduction=survey.introduction, anonymity="anonymous",
                      allow_edits=False, opens_at=opens, closes_at=_earliest(
                          survey.closes_at, link.closes_at))
    nobody = InvitationView(id=link.id, organisation_id=link.organisation_id, status="link",
                            group_key=link.group_key, reach_tier=link.reach_tier,
                            language="de", expires_at=None)
    questions, blocks = await service.participant_questions(session, view)
    p = Participation(draft_hash(draft_key), TokenTarget(nobody, "survey", view), view,
                      questions, answered=False, language="de", blocks=blocks)
    return LinkParticipation(link, link.organisation_id, p)


def _earliest(*values: datetime | None) -> datetime | None:
    return min((v for v in values if v is not None), default=None)


async def keep_link_draft(session: AsyncSession, lp: LinkParticipation, answers: dict[str, Any],
                          *, complete: bool) -> list[dict]:
    return await service.keep_draft(session, lp.p, answers, complete=complete,
                                    now=datetime.now(UTC), link_id=lp.link.id)


async def submit_link(session: AsyncSession, lp: LinkParticipation,
                      answers: dict[str, Any]) -> Submitted:
    """Store one anonymous answer through the link (one statement, see the module doc).
    422 naming each invalid question; 409 when the cap was reached meanwhile, 410 when the
    link was closed or expired meanwhile (decided from the link's fresh row)."""
    now = datetime.now(UTC)
    p = lp.p
    rows = service.checked_rows(p, answers, now)
    repo = LinksRepository.from_session(session)
    response_id = await repo.submit(link_id=lp.link.id, survey_id=p.survey.id, now=now,
                                    draft_hash=p.token_hash, rows=rows)
    if response_id is None:
        await session.refresh(lp.link)
        link = lp.link
        refused = _refusal(link, await service.get_survey(session, p.survey.id), now)
        if refused is None:  # outside its dates: not open yet
            refused = Conflict("Die Umfrage beginnt erst später.", code="survey_not_open")
        raise refused
    return Submitted("submitted", p.survey.id, now.date())


@dataclass(frozen=True)
class PartnerView:
    label: str
    survey_title: dict[str, str]
    answers: int | None  # None: fewer than MIN_GROUP, shown as "weniger als 5"
    status: LinkStatus
    min_group: int = MIN_GROUP
    kind: Literal["survey", "event"] = "survey"  # answers, or confirmed registrations


async def partner_view(session: AsyncSession, secret: str) -> PartnerView:
    """The partner's read-only page: how many answered through its link, suppressed below
    MIN_GROUP (a count of 1 to 4 next to a partner's small circle could point at people)."""
    found = (await LinksRepository.from_session(session).by_results_secret(hash_token(secret))
             if len(secret) <= SECRET_LIMIT else None)
    if found is None:
        raise NotFound("Dieser Link ist uns nicht bekannt.", code="token_unknown")
    link, target = found
    # Below MIN_GROUP nothing but "fewer than 5" (the brief of issue 12; 0 included, so the
    # page never tells the partner that exactly nobody answered).
    shown = None if link.answers < MIN_GROUP else shown_count(link.answers)
    return PartnerView(link.label, target_title(target), shown, link_status(link, target),
                       kind=target_kind(target))


async def link_organisation(session: AsyncSession, secret: str) -> uuid.UUID | None:
    """The organisation behind a link whatever its state (the page footer's legal links)."""
    if len(secret) > SECRET_LIMIT:
        return None
    link = await LinksRepository.from_session(session).link_by_secret(hash_token(secret))
    return link.organisation_id if link is not None else None


async def event_link(session: AsyncSession, secret: str) -> tuple[MultiplierLink, Meeting] | None:
    """The link and its event if `secret` is an event's link (whatever the link's state),
    else None (unknown, or a survey's: the survey pages answer)."""
    if len(secret) > SECRET_LIMIT:
        return None
    return await LinksRepository.from_session(session).event_by_secret(hash_token(secret))


def refusal(link: MultiplierLink, target: Target, now: datetime, *,
            opening: bool = True) -> Exception | None:
    """Why the link takes nothing now (closed, expired, its target over, full, not yet
    open), or None; the same reasons the gate in the repository decides by."""
    if link.closed_at is not None or (link.closes_at is not None and link.closes_at <= now):
        return Gone("Dieser Link ist geschlossen.", code="link_closed")
    if target_over(target, now):
        if isinstance(target, Survey):
            return Gone("Die Umfrage ist beendet.", code="survey_closed")
        return Gone("Die Veranstaltung nimmt keine Anmeldungen mehr an.", code="link_closed")
    if link.cap is not None and link.answers >= link.cap:
        return Conflict("Über diesen Link sind alle vorgesehenen Anmeldungen eingegangen."
                        if isinstance(target, Meeting) else
                        "Über diesen Link sind alle vorgesehenen Antworten eingegangen.",
                        code="link_full")
    if opening and link.opens_at is not None and now < link.opens_at:
        return Conflict("Der Link ist noch nicht geöffnet.", code="link_not_open")
    return None
