"""Assisted entry (issue 12): staff key in answers on someone's behalf.

Two channels:
- `interview`: an interviewer (or a coordinator) asks the questions and types the answers on
  a tablet; the interviewee's consent is recorded as a checkbox and required.
- `paper`: a filled-in paper form is keyed in. A personal form carries the invitation's token
  (as a QR code: the participant link `/t/{token}`) and a short code (`paper_code_for`); it is
  entered through the participant's own one-statement write (services/surveys/repository.py
  `submit_with_receipt`), so an invitation is answered at most once, on paper or online. An
  anonymous form carries a number issued per survey (`issue_form_numbers`); entering claims
  the number in the same transaction (`entered_at`), so a number is entered at most once.

The answer is validated exactly like a participant's (services/surveys/service.py
`checked_rows`). Without an invitation it is attributed to the group and reach tier the staff
choose (optional, like a multiplier link's answers carry the link's). The language of the
interview is kept on identified surveys only, as for participants (anonymous rows keep no
language). Who entered it: for an identified survey a row in `survey_response_entries`; for
an anonymous one nothing on or next to the response, only the count per staff member and
channel (`survey_entry_counts`).

The print route that allocates numbers or codes and renders the PDF (services/surveys/
paper.py) calls `issue_form_numbers` and `paper_code_for`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from services import i18n
from services.errors import Conflict, Gone, NotFound, ValidationFailed
from services.meetings.service import CODE_ALPHABET, CODE_LENGTH, checkin_code, normalise_code
from services.models.campaign import Invitation
from services.models.organisation import Role
from services.models.survey import Survey
from services.stakeholders.repository import StakeholderRepository
from services.stakeholders.rules import unknown_group_message
from services.surveys import service
from services.surveys.assisted_repository import AssistedRepository, EntryCount
from services.surveys.repository import InvitationView, SurveyRepository, SurveyView, TokenTarget
from services.surveys.service import Participation

# Who may enter answers on someone's behalf (admins always may: Principal.require).
ENTRY_ROLES = (Role.coordinator, Role.interviewer)
ISSUE_LIMIT = 5000  # form numbers per print run
REFERENCE_LIMIT = 300
CHANNEL_LABELS = {"interview": "Interview", "paper": "Papierbogen"}


class AssistedEntry(BaseModel):
    """`POST /api/v1/surveys/{id}/assisted-responses`."""

    channel: Literal["interview", "paper"]
    answers: dict[str, Any] = Field(default_factory=dict)
    # The interviewee agreed to the interview being recorded (required for interviews).
    consent: bool = False
    group: str | None = Field(default=None, min_length=1, max_length=100)
    tier: int | None = Field(default=None, ge=1, le=3)
    language: i18n.Language | None = None
    # Paper only: an anonymous form's number, or a personal form's code or token / link.
    form_number: int | None = Field(default=None, ge=1, le=2_000_000_000)
    code: str | None = Field(default=None, min_length=1, max_length=REFERENCE_LIMIT)
    token: str | None = Field(default=None, min_length=1, max_length=REFERENCE_LIMIT)


class AssistedOut(BaseModel):
    status: Literal["submitted"]
    survey_id: uuid.UUID
    channel: str
    submitted_on: date
    form_number: int | None = None


# --- numbers and codes for the print route ---------------------------------------------------

async def issue_form_numbers(session: AsyncSession, survey_id: uuid.UUID,
                             count: int) -> list[int]:
    """The next `count` free form numbers of the survey (1, 2, ... in print order), issued in
    the caller's transaction; concurrent calls get disjoint ranges."""
    if not 1 <= count <= ISSUE_LIMIT:
        raise ValidationFailed(
            f"Es können 1 bis {ISSUE_LIMIT} Bögen auf einmal ausgegeben werden.",
            code="invalid_count",
            details=[{"field": "count", "message": f"1 bis {ISSUE_LIMIT}"}])
    return await AssistedRepository.from_session(session).issue_numbers(survey_id, count)


async def paper_code_for(session: AsyncSession, invitation: Invitation) -> str:
    """The invitation's short code for its paper form (8 characters without 0/O/1/I, like
    the check-in codes of registrations), allocated once and kept on the invitation."""
    if invitation.paper_code:
        return invitation.paper_code
    repo = AssistedRepository.from_session(session)
    for _ in range(20):  # 32^8 codes: a collision is rare, twenty in a row never happens
        code = await repo.set_paper_code(invitation.id, checkin_code())
        if code is not None:
            invitation.paper_code = code
            return code
    raise Conflict("Es konnte kein freier Code vergeben werden.", code="paper_code_exhausted")


@dataclass(frozen=True)
class SheetReference:
    kind: Literal["code", "token"]
    value: str


def sheet_reference(value: str) -> SheetReference:
    """What staff type or scan from a personal form: the short code (case, spaces and dashes
    do not matter), the participant link `…/t/{token}` (the QR code) or the bare token."""
    raw = value.strip()
    if "/t/" in raw:
        token = raw.split("/t/", 1)[1].split("?", 1)[0].split("#", 1)[0].split("/", 1)[0]
        return SheetReference("token", token)
    code = normalise_code(raw).replace("-", "")
    if len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code):
        return SheetReference("code", code)
    return SheetReference("token", raw)


# --- entering --------------------------------------------------------------------------------

def _field(name: str, message: str) -> dict[str, str]:
    return {"field": name, "message": message}


def _survey_view(survey: Survey) -> SurveyView:
    return SurveyView(id=survey.id, revision=survey.revision, title=survey.title,
                      introduction=survey.introduction, anonymity=survey.anonymity,
                      allow_edits=False, opens_at=survey.opens_at, closes_at=survey.closes_at)


async def staff_participation(session: AsyncSession, survey: Survey) -> Participation:
    """The survey as a participant's form without an invitation: the questions and rules an
    answer entered by staff is checked by (in German: messages are for the staff)."""
    view = _survey_view(survey)
    nobody = InvitationView(id=uuid.UUID(int=0), organisation_id=survey.organisation_id,
                            status="assisted", group_key="", reach_tier=0, language="de",
                            expires_at=None)
    questions, blocks = await service.participant_questions(session, view)
    return Participation("", TokenTarget(nobody, "survey", view), view, questions,
                         answered=False, language="de", blocks=blocks)


# Paper forms come back by the deadline and are keyed in afterwards; interviews held before
# it are typed up later. Staff may enter them for this long after the survey's close (and a
# personal form's invitation's expiry); later answers could not have been given in time.
LATE_ENTRY = timedelta(days=14)


def _require_open(survey: Survey, now: datetime) -> None:
    if survey.opens_at is not None and now < survey.opens_at:
        raise Conflict("Die Umfrage beginnt erst später.", code="survey_not_open")
    if survey.closes_at is not None and survey.closes_at + LATE_ENTRY <= now:
        raise Gone("Die Umfrage ist seit mehr als 14 Tagen beendet; Bögen und Interviews "
                   "können nur bis 14 Tage nach dem Ende erfasst werden.",
                   code="survey_closed")


async def _form_errors(session: AsyncSession, survey: Survey,
                       body: AssistedEntry) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    reference = body.code or body.token
    if body.channel == "interview":
        if not body.consent:
            errors.append(_field("consent", "Bitte bestätigen Sie die Einwilligung der "
                                            "befragten Person."))
        if body.form_number is not None or reference:
            errors.append(_field("form_number" if body.form_number is not None else "code",
                                 "Bogennummer und Code gibt es nur bei Papierbögen."))
    else:
        if body.form_number is None and not reference:
            errors.append(_field("code", "Bitte die Bogennummer oder den Code bzw. Link des "
                                         "Bogens angeben."))
        if body.form_number is not None and reference:
            errors.append(_field("code", "Entweder eine Bogennummer oder einen Code angeben, "
                                         "nicht beides."))
    if body.group is not None:
        known = await StakeholderRepository.from_session(session).group_keys(
            survey.organisation_id)
        if body.group not in known:
            errors.append({**_field("group", unknown_group_message(body.group, known)),
                           "known": sorted(known)})
    return errors


_SHEET_REFUSALS = {
    "token_expired": "Die Einladung zu diesem Bogen ist abgelaufen.",
    "invitation_declined": "Die Person hat die Teilnahme abgelehnt.",
    "survey_closed": "Die Umfrage ist beendet.",
}


async def _open_sheet(session: AsyncSession, survey: Survey, reference: str,
                      field: str, now: datetime) -> Participation:
    """The invitation behind a personal form's code, link or token, for this survey."""
    ref = sheet_reference(reference)
    unknown = ValidationFailed(
        "Diesen Code bzw. Link kennen wir nicht." if ref.kind == "code"
        else "Diesen Link bzw. dieses Token kennen wir nicht.",
        code="sheet_unknown", details=[_field(field, "unbekannt")])
    try:
        if ref.kind == "code":
            token_hash = await AssistedRepository.from_session(session).token_hash_of_code(
                survey.organisation_id, ref.value)
            if token_hash is None:
                raise unknown
            p = await service.open_token_hash(session, token_hash, now=now, late=LATE_ENTRY)
        else:
            p = await service.open_token(session, ref.value, now=now, late=LATE_ENTRY)
    except NotFound:
        raise unknown from None
    except Gone as exc:
        raise Gone(_SHEET_REFUSALS.get(exc.code or "", exc.message), code=exc.code) from None
    if p.survey.id != survey.id:
        raise ValidationFailed("Dieser Bogen gehört zu einer anderen Umfrage.",
                               code="sheet_other_survey",
                               details=[_field(field, "andere Umfrage")])
    if p.answered:
        raise Conflict("Dieser Bogen wurde bereits erfasst oder die Person hat schon "
                       "geantwortet. Er wird nicht ein zweites Mal gezählt.",
                       code="sheet_already_entered")
    return p


async def enter(session: AsyncSession, survey: Survey, body: AssistedEntry, *,
                user_id: uuid.UUID, now: datetime | None = None) -> AssistedOut:
    """Store one answer entered by staff (the caller checked the role in the survey's
    organisation). 422 naming the field (consent, group, code, form number, each invalid
    answer), 409 for a form or invitation entered already, 410 after the close. Everything
    is written in the caller's transaction."""
    now = now or datetime.now(UTC)
    _require_open(survey, now)
    errors = await _form_errors(session, survey, body)
    if errors:
        raise ValidationFailed("Die Eingabe ist unvollständig oder ungültig.",
                               code="invalid_entry", details=errors)
    identified = survey.anonymity == "identified"
    repo = SurveyRepository.from_session(session)
    assisted = AssistedRepository.from_session(session)
    reference = body.code or body.token
    if body.channel == "paper" and reference:
        p = await _open_sheet(session, survey, reference, "code" if body.code else "token",
                              now)
        inv = p.target.invitation
        rows = service.checked_rows(replace(p, language="de"), body.answers, now)
        language = i18n.supported(body.language or inv.language)
        response_id = await repo.submit_with_receipt(
            invitation_id=inv.id, day=now.date(), survey_id=survey.id,
            group_key=inv.group_key, reach_tier=inv.reach_tier, channel="paper",
            language=language if identified else None, rows=rows, token_hash=p.token_hash,
            identified=identified)
        if response_id is None:  # answered online (or on another tablet) meanwhile
            raise Conflict("Dieser Bogen wurde soeben bereits erfasst.",
                           code="sheet_already_entered")
    else:
        p = await staff_participation(session, survey)
        rows = service.checked_rows(p, body.answers, now)
        if body.form_number is not None:
            await _claim(assisted, survey.id, body.form_number)
        language = i18n.supported(body.language)
        response_id = await repo.insert_response(
            survey_id=survey.id, group_key=body.group, reach_tier=body.tier,
            channel=body.channel, language=language if identified else None, rows=rows)
    if identified:
        await assisted.add_entry(response_id, user_id)
    await assisted.count_entry(survey.id, user_id, body.channel)
    return AssistedOut(status="submitted", survey_id=survey.id, channel=body.channel,
                       submitted_on=now.date(), form_number=body.form_number)


async def _claim(repo: AssistedRepository, survey_id: uuid.UUID, number: int) -> None:
    if await repo.claim_number(survey_id, number):
        return
    if await repo.number_issued(survey_id, number):
        raise Conflict(f"Der Bogen Nr. {number} wurde bereits erfasst. Er wird nicht ein "
                       "zweites Mal gezählt.", code="form_already_entered")
    raise ValidationFailed(
        f"Die Bogennummer {number} wurde für diese Umfrage nicht ausgegeben.",
        code="form_number_unknown", details=[_field("form_number", "nicht ausgegeben")])


async def entry_counts(session: AsyncSession, survey: Survey) -> list[EntryCount]:
    """Entries per staff member and channel (the coordinator's overview)."""
    return await AssistedRepository.from_session(session).entry_counts(survey.id)


async def open_surveys(session: AsyncSession, organisation_id: uuid.UUID) -> list[Survey]:
    """The organisation's surveys answers can be entered for: open now, or closed less than
    LATE_ENTRY ago."""
    now = datetime.now(UTC)
    return await AssistedRepository.from_session(session).open_surveys(
        organisation_id, now, now - LATE_ENTRY)
