"""Survey rules: definitions and versions, the participant's token, drafts and submission.

Anonymity by separation: for an anonymous survey the submission writes a fresh response (random
id, the date only, group and tier copied) and marks the invitation answered through the
campaigns domain; nothing stored lets anyone go from one to the other. Drafts ("Zwischen-
speichern") are kept by the token's hash in `survey_drafts` until submission and deleted in the
same transaction that writes the response; the response is a new row, never the draft row.

No domain event names a response: an event with a response id and a precise time next to the
receipt's event would be exactly the join this design forbids.

Known limit (documented for operators): inside one transaction PostgreSQL stamps every row it
writes with the same transaction id (`xmin`), and the WAL keeps the order of writes. An operator
who reads system columns or the WAL before the invitation row is written again could pair a
response with its receipt. Removing that needs a mix (receipts or responses written in shuffled
batches by a separate job); it is not built yet.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services import i18n
from services.campaigns.service import mark_invitation_responded
from services.campaigns.tokens import hash_token
from services.errors import Conflict, Gone, NotFound, ValidationFailed
from services.events.service import record_event
from services.identity.service import Principal
from services.models.organisation import Role
from services.models.survey import Survey, SurveyQuestion
from services.surveys.repository import SurveyRepository, SurveyView, TokenTarget
from services.surveys.schemas import (
    QuestionDef,
    SurveyCreate,
    SurveyDefinition,
    SurveyOut,
    pick,
)
from services.surveys.translations import translation_report
from services.surveys.validation import AnswerRow, check_answers
from services.template_store.service import resolve_survey_template

# --- definitions ----------------------------------------------------------------------------


def questions_from_rows(rows: list[SurveyQuestion]) -> list[QuestionDef]:
    return [
        QuestionDef.model_validate({
            "id": r.key, "kind": r.kind, "text": r.text, "help": r.help,
            "required": r.required, **r.config,
        })
        for r in rows
    ]


def _question_rows(definition: SurveyDefinition) -> list[SurveyQuestion]:
    return [
        SurveyQuestion(
            key=q.id, position=i, kind=q.kind, required=q.required, text=q.text, help=q.help,
            config=q.config(),
        )
        for i, q in enumerate(definition.questions)
    ]


def _definition(body: SurveyCreate, template: SurveyDefinition | None) -> SurveyDefinition:
    """The definition from a template (with overrides) or from the body itself."""
    base: dict[str, Any] = {}
    if template is not None:
        base = template.model_dump(mode="json", by_alias=True)
    overrides = body.model_dump(
        mode="json", by_alias=True, exclude_none=True,
        include={"title", "introduction", "anonymity", "allow_edits", "blocks", "questions"},
    )
    base.update(overrides)
    try:
        definition = SurveyDefinition.model_validate(base)
    except Exception as exc:  # pydantic's ValidationError: report every field
        raise ValidationFailed(
            "Die Umfrage ist ungültig.", code="invalid_survey", details=_pydantic_details(exc)
        ) from exc
    return definition


def _pydantic_details(exc: Exception) -> list[dict[str, str]]:
    errors = getattr(exc, "errors", None)
    if errors is None:
        return [{"field": "", "message": str(exc)}]
    return [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", ""))}
        for e in errors()
    ]


def survey_status(survey: Survey, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    if survey.opens_at is not None and now < survey.opens_at:
        return "scheduled"
    if survey.closes_at is not None and now >= survey.closes_at:
        return "closed"
    return "open"


async def create_survey(
    session: AsyncSession, process_id: uuid.UUID, body: SurveyCreate, *, actor: str | None
) -> Survey:
    """Create a survey in a process (the caller has checked the principal's role in its org)."""
    repo = SurveyRepository.from_session(session)
    process = await repo.process(process_id)
    if process is None:
        raise NotFound("Prozess nicht gefunden.")
    snapshot = process.template_snapshot or {}
    template_key = body.from_template
    if body.from_template:
        # A survey the process template names ("surveys:" in its YAML) is found by its key in
        # the process, starts from the survey template it names and belongs to its phase.
        ref = next((r for r in snapshot.get("surveys", []) or []
                    if isinstance(r, dict) and r.get("key") == body.from_template), None)
        if ref is not None:
            template_key = str(ref.get("survey") or body.from_template)
            if body.phase is None:
                body = body.model_copy(update={"phase": ref.get("phase")})
    if body.phase is not None:
        phases = [p.get("key") for p in snapshot.get("phases", [])]
        if phases and body.phase not in phases:
            raise ValidationFailed(
                f"Den Abschnitt {body.phase!r} gibt es in diesem Prozess nicht.",
                details=[{"field": "phase", "message": "unknown phase", "allowed": phases}],
            )
    template = (await resolve_survey_template(session, process.organisation_id, template_key)
                if template_key else None)
    definition = _definition(body, template)
    survey_id = uuid.uuid4()
    survey = Survey(
        id=survey_id, organisation_id=process.organisation_id, process_id=process.id,
        phase_key=body.phase, template_key=template_key, title=definition.title,
        introduction=definition.introduction,
        blocks=[b.model_dump(mode="json") for b in definition.blocks],
        anonymity=definition.anonymity, allow_edits=definition.allow_edits,
        opens_at=body.opens_at, closes_at=body.closes_at, lineage_id=survey_id, version=1,
        revision=1, created_by=actor,
    )
    await repo.add_survey(survey, _question_rows(definition))
    await record_event(
        session, organisation_id=process.organisation_id, process_id=process.id,
        type="survey.created", actor=actor,
        data={"survey_id": str(survey.id), "title": definition.title.get("de"),
              "phase": body.phase, "template": template_key},
    )
    return survey


async def change_questions(
    session: AsyncSession, survey: Survey, definition: SurveyDefinition, *, actor: str | None
) -> Survey:
    """Replace the questions of a survey without answers; a survey with answers keeps its
    questions and the change becomes a new version (a new survey in the same lineage)."""
    repo = SurveyRepository.from_session(session)
    if definition.allow_edits and definition.anonymity == "anonymous":
        raise ValidationFailed("Anonyme Antworten können nicht geändert werden.")
    if not await repo.has_responses(survey.id):
        survey.title = definition.title
        survey.introduction = definition.introduction
        survey.blocks = [b.model_dump(mode="json") for b in definition.blocks]
        survey.anonymity = definition.anonymity
        survey.allow_edits = definition.allow_edits
        survey.revision += 1
        await repo.replace_questions(survey.id, _question_rows(definition))
        await record_event(
            session, organisation_id=survey.organisation_id, process_id=survey.process_id,
            type="survey.questions_changed", actor=actor,
            data={"survey_id": str(survey.id), "revision": survey.revision},
        )
        return survey
    version = await repo.latest_version(survey.lineage_id) + 1
    new = Survey(
        id=uuid.uuid4(), organisation_id=survey.organisation_id, process_id=survey.process_id,
        phase_key=survey.phase_key, template_key=survey.template_key, title=definition.title,
        introduction=definition.introduction,
        blocks=[b.model_dump(mode="json") for b in definition.blocks],
        anonymity=definition.anonymity, allow_edits=definition.allow_edits,
        opens_at=survey.opens_at, closes_at=survey.closes_at, lineage_id=survey.lineage_id,
        version=version, revision=1, created_by=actor,
    )
    await repo.add_survey(new, _question_rows(definition))
    await record_event(
        session, organisation_id=survey.organisation_id, process_id=survey.process_id,
        type="survey.versioned", actor=actor,
        data={"survey_id": str(new.id), "previous_id": str(survey.id), "version": version},
    )
    return new


async def open_survey(session: AsyncSession, survey: Survey, *, actor: str | None,
                      now: datetime | None = None) -> Survey:
    """Open the survey now: its opening time becomes now; a closed survey opens again (its
    closing time is dropped, a coordinator sets a new one by closing it later). 409 if it is
    open already."""
    now = now or datetime.now(UTC)
    state = survey_status(survey, now)
    if state == "open":
        raise Conflict("Die Umfrage ist bereits geöffnet.", code="survey_already_open")
    survey.opens_at = now
    if state == "closed":
        survey.closes_at = None
    await record_event(
        session, organisation_id=survey.organisation_id, process_id=survey.process_id,
        type="survey.opened", actor=actor,
        data={"survey_id": str(survey.id), "reopened": state == "closed"})
    return survey


async def close_survey(session: AsyncSession, survey: Survey, *, actor: str | None,
                       now: datetime | None = None) -> Survey:
    """Close the survey now (links answer "Umfrage beendet" from then on). A survey that has
    not opened yet is closed too (its opening time becomes now: it never took answers).
    409 if it is closed already."""
    now = now or datetime.now(UTC)
    state = survey_status(survey, now)
    if state == "closed":
        raise Conflict("Die Umfrage ist bereits beendet.", code="survey_already_closed")
    if state == "scheduled":
        survey.opens_at = now
    survey.closes_at = now
    await record_event(
        session, organisation_id=survey.organisation_id, process_id=survey.process_id,
        type="survey.closed", actor=actor, data={"survey_id": str(survey.id)})
    return survey


async def get_survey(session: AsyncSession, survey_id: uuid.UUID) -> Survey:
    survey = await SurveyRepository.from_session(session).survey(survey_id)
    if survey is None:
        raise NotFound("Umfrage nicht gefunden.")
    return survey


async def survey_for(session: AsyncSession, principal: Principal, survey_id: uuid.UUID,
                     *roles: Role) -> Survey:
    """The survey if the principal's organisation owns it; another organisation's survey gets
    exactly the 404 of a missing one (no existence leak), a wrong role 403."""
    survey = await get_survey(session, survey_id)
    try:
        principal.require(survey.organisation_id, *roles)
    except NotFound:
        raise NotFound("Umfrage nicht gefunden.") from None
    return survey


async def survey_questions(session: AsyncSession, survey: Survey) -> list[QuestionDef]:
    return questions_from_rows(await SurveyRepository.from_session(session).questions(survey.id))


async def surveys_of_process(session: AsyncSession, process_id: uuid.UUID) -> list[SurveyOut]:
    repo = SurveyRepository.from_session(session)
    return [await survey_out(session, s) for s in await repo.surveys_of_process(process_id)]


async def survey_out(session: AsyncSession, survey: Survey) -> SurveyOut:
    repo = SurveyRepository.from_session(session)
    questions = questions_from_rows(await repo.questions(survey.id))
    return SurveyOut(
        id=survey.id, process_id=survey.process_id, phase=survey.phase_key,
        template_key=survey.template_key, title=survey.title, introduction=survey.introduction,
        anonymity=survey.anonymity, allow_edits=survey.allow_edits, opens_at=survey.opens_at,
        closes_at=survey.closes_at, version=survey.version, lineage_id=survey.lineage_id,
        status=survey_status(survey), blocks=survey.blocks,
        questions=[q.model_dump(mode="json", by_alias=True, exclude_defaults=True)
                   | {"id": q.id, "kind": q.kind} for q in questions],
        responses=await repo.response_count(survey.id),
    )


async def survey_translations(session: AsyncSession, survey: Survey) -> dict[str, Any]:
    """The survey's texts that fall back to German, per participant language (for the author
    before the survey opens; services/surveys/translations.py)."""
    questions = questions_from_rows(await SurveyRepository.from_session(session).questions(
        survey.id))
    return {"survey_id": survey.id, "status": survey_status(survey),
            **translation_report(survey.title, survey.introduction, survey.blocks, questions)}


# --- the participant's token ----------------------------------------------------------------

# Parsed questions and the blocks (the self-check's fields, for the page's headings) per
# (survey id, revision): the submit path needs the questions on every request and both only
# change with the revision, which the token query returns anyway.
_QUESTION_CACHE: dict[tuple[uuid.UUID, int], tuple[list[QuestionDef], list[dict[str, Any]]]] = {}
_CACHE_LIMIT = 512


async def _questions_cached(repo: SurveyRepository, survey: SurveyView
                            ) -> tuple[list[QuestionDef], list[dict[str, Any]]]:
    key = (survey.id, survey.revision)
    found = _QUESTION_CACHE.get(key)
    if found is None:
        found = (questions_from_rows(await repo.questions(survey.id)),
                 await repo.blocks(survey.id))
        if len(_QUESTION_CACHE) >= _CACHE_LIMIT:
            _QUESTION_CACHE.clear()
        _QUESTION_CACHE[key] = found
    return found


async def participant_questions(session: AsyncSession, survey: SurveyView
                                ) -> tuple[list[QuestionDef], list[dict[str, Any]]]:
    """The questions and blocks a participant page shows (cached per revision)."""
    return await _questions_cached(SurveyRepository.from_session(session), survey)


@dataclass
class Participation:
    """What a token opens, after every check."""

    token_hash: str
    target: TokenTarget
    survey: SurveyView
    questions: list[QuestionDef]
    answered: bool
    language: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def can_edit(self) -> bool:
        return self.survey.allow_edits and self.survey.anonymity == "identified"

    def title(self) -> str:
        return pick(self.survey.title, self.language)

    @property
    def stored_language(self) -> str | None:
        """The language kept on the response: none for anonymous surveys (DESIGN.md section 4
        allows group and tier only; a rare language would identify its speaker)."""
        return self.language if self.survey.anonymity == "identified" else None


async def open_token(
    session: AsyncSession, token: str, *, lock: bool = False, now: datetime | None = None,
    repo: SurveyRepository | None = None, late: timedelta = timedelta(0),
) -> Participation:
    """Resolve a participant's token. Raises 404 unknown, 410 expired/declined/closed."""
    if len(token) > 200:
        raise NotFound("Dieser Link ist uns nicht bekannt.", code="token_unknown")
    return await open_token_hash(session, hash_token(token), lock=lock, now=now, repo=repo,
                                 late=late)


async def open_token_hash(
    session: AsyncSession, token_hash: str, *, lock: bool = False, now: datetime | None = None,
    repo: SurveyRepository | None = None, late: timedelta = timedelta(0),
) -> Participation:
    """`open_token` from the token's hash (a paper form's short code names the invitation,
    whose row keeps only the hash). `late`: how long after the link's expiry and the
    survey's close it still opens (staff keying in a paper form that came back in time)."""
    now = now or datetime.now(UTC)
    ended = now - late
    repo = repo or SurveyRepository.from_session(session)
    target = await repo.token_target(token_hash, lock=lock)
    if target is None or target.campaign_kind != "survey":
        raise NotFound("Dieser Link ist uns nicht bekannt.", code="token_unknown")
    inv = target.invitation
    if inv.expires_at is not None and inv.expires_at <= ended:
        raise Gone("Dieser Link ist abgelaufen.", code="token_expired")
    if inv.status == "declined":
        raise Gone("Sie haben die Teilnahme abgelehnt.", code="invitation_declined")
    survey = target.survey
    if survey is None:
        raise NotFound("Dieser Link ist uns nicht bekannt.", code="token_unknown")
    if survey.closes_at is not None and survey.closes_at <= ended:
        raise Gone("Die Umfrage ist beendet.", code="survey_closed")
    questions, blocks = await _questions_cached(repo, survey)
    language = i18n.supported(inv.language)
    return Participation(token_hash, target, survey, questions,
                         answered=inv.status == "responded", language=language, blocks=blocks)


async def token_language(session: AsyncSession, token: str) -> str | None:
    """The language of the invitation behind a token whatever its state: the page saying
    "expired" or "closed" is in the person's language too. None for an unknown token."""
    if len(token) > 200:
        return None
    target = await SurveyRepository.from_session(session).token_target(hash_token(token))
    return i18n.supported(target.invitation.language) if target is not None else None


def not_open_yet(p: Participation, now: datetime) -> bool:
    """The survey has an opening time still ahead (the one rule; the page asks it too)."""
    return p.survey.opens_at is not None and now < p.survey.opens_at


def require_answerable(p: Participation, now: datetime) -> None:
    """409 unless this participant may store answers now: open, and not answered already
    (unless the survey allows edits). Drafts and submissions both ask this."""
    if not_open_yet(p, now):
        raise Conflict("Die Umfrage beginnt erst später.", code="survey_not_open")
    if p.answered and not p.can_edit:
        raise Conflict("Diese Umfrage haben Sie bereits beantwortet.", code="already_answered")


async def load_draft(session: AsyncSession, p: Participation) -> dict[str, Any] | None:
    draft = await SurveyRepository.from_session(session).draft(p.token_hash)
    return dict(draft.answers) if draft is not None else None


async def current_answers(session: AsyncSession, p: Participation) -> dict[str, Any] | None:
    """An identified participant's stored answers (to edit them); None for anonymous ones."""
    if p.survey.anonymity != "identified":
        return None
    repo = SurveyRepository.from_session(session)
    response_id = await repo.linked_response(p.target.invitation.id)
    if response_id is None:
        return None
    out: dict[str, Any] = {}
    kinds = {q.id: q.kind for q in p.questions}
    for a in await repo.answers_of(response_id):
        kind = kinds.get(a.question_key)
        if kind in ("multiple", "ranking"):
            out.setdefault(a.question_key, []).append(a.choice)
        elif kind == "single" or (kind == "likert" and a.choice is not None):
            out[a.question_key] = a.choice  # a likert choice is "weiß nicht"
        elif kind == "text":
            out[a.question_key] = a.text
        elif a.num is not None:
            out[a.question_key] = int(a.num) if float(a.num).is_integer() else float(a.num)
    return out


def in_language(p: Participation, language: str | None) -> Participation:
    """`p` as the participant reads it: in the language chosen on the page, if any (else the
    invitation's). Messages and the identified answer's stored language follow it."""
    if language is None:
        return p
    return replace(p, language=i18n.supported(language))


async def save_draft(session: AsyncSession, token: str, answers: dict[str, Any], *,
                     complete: bool = False, language: str | None = None) -> list[dict]:
    """Keep unsubmitted answers; invalid values are reported (and not saved), empty required
    ones are fine unless `complete` (the review step before the final submit: the answers are
    kept as the draft the confirmation submits, and a missing required answer is named).
    Returns the field errors (empty when everything was saved)."""
    now = datetime.now(UTC)
    p = in_language(await open_token(session, token, now=now), language)
    return await keep_draft(session, p, answers, complete=complete, now=now)


async def keep_draft(session: AsyncSession, p: Participation, answers: dict[str, Any], *,
                     complete: bool, now: datetime,
                     link_id: uuid.UUID | None = None) -> list[dict]:
    """`save_draft` for a participation already opened (a token's, a multiplier link's:
    `link_id`, kept on the draft so it expires with the link, services/surveys/retention.py)."""
    require_answerable(p, now)
    normalised, _, errors = check_answers(p.questions, answers, lang=p.language,
                                          partial=not complete)
    await SurveyRepository.from_session(session).save_draft(p.token_hash, p.survey.id,
                                                            normalised, link_id=link_id)
    return [e.as_dict() for e in errors]


@dataclass(frozen=True)
class Submitted:
    status: str
    survey_id: uuid.UUID
    submitted_on: date


async def submit(
    session: AsyncSession, token: str, answers: dict[str, Any], *, channel: str = "invitation",
    language: str | None = None,
) -> Submitted:
    """Store a participant's answers in one transaction (no workflow). 201 once; 409 for a
    second submit unless the survey allows edits; 410 after the close; 422 naming each invalid
    question. The statements join the session's transaction when one is open; otherwise the
    single write statement is a transaction of its own, committed when it returns (the
    session's commit then has nothing left to do), so a caller must not expect to roll the
    submission back afterwards.

    The hot path is two statements: the token read and one write that stores the receipt
    (through the campaigns domain's SQL), its event, the response, the answers and deletes the
    draft, gated on the invitation still being answerable under its row lock. Only when that
    gate fails (a concurrent submit of the same token won, or a decline) and for the edit of
    an identified answer does the submission take the locked path below."""
    now = datetime.now(UTC)
    repo = SurveyRepository.from_session(session)  # one repository: one connection look-up
    p = in_language(await open_token(session, token, now=now, repo=repo), language)
    rows = checked_rows(p, answers, now)
    if not p.answered:
        response_id = await repo.submit_with_receipt(
            invitation_id=p.target.invitation.id, day=now.date(), survey_id=p.survey.id,
            group_key=p.target.invitation.group_key,
            reach_tier=p.target.invitation.reach_tier, channel=channel,
            language=p.stored_language,
            rows=rows, token_hash=p.token_hash,
            identified=p.survey.anonymity == "identified")
        if response_id is not None:
            return Submitted("submitted", p.survey.id, now.date())
    return await _submit_locked(session, token, answers, channel=channel, now=now,
                                language=language)


def checked_rows(p: Participation, answers: dict[str, Any], now: datetime) -> list[AnswerRow]:
    require_answerable(p, now)
    _, rows, errors = check_answers(p.questions, answers, lang=p.language)
    if errors:
        raise ValidationFailed(
            i18n.text(p.language, "survey.invalid_answers"),
            code="invalid_answers", details=[e.as_dict() for e in errors],
        )
    return rows


async def _submit_locked(
    session: AsyncSession, token: str, answers: dict[str, Any], *, channel: str,
    now: datetime, language: str | None = None,
) -> Submitted:
    """The submission under the invitation's row lock, in the session's transaction: the
    answer to a lost race (409 or 410 from the fresh state) and the edit of an identified
    survey's answers."""
    # The row lock on the invitation serialises two submissions of the same token.
    p = in_language(await open_token(session, token, lock=True, now=now), language)
    rows = checked_rows(p, answers, now)
    repo = SurveyRepository.from_session(session)
    inv = p.target.invitation
    if p.answered:
        # Identified and editable: replace the linked response's answers.
        response_id = await repo.linked_response(inv.id)
        if response_id is not None:
            await repo.delete_answers(response_id)
            await repo.insert_answers(p.survey.id, response_id, rows)
            await repo.delete_draft(p.token_hash)
            return Submitted("updated", p.survey.id, now.date())
    response_id = await repo.insert_response(
        survey_id=p.survey.id, group_key=inv.group_key, reach_tier=inv.reach_tier,
        channel=channel, language=p.stored_language, rows=rows, drop_draft=p.token_hash,
    )
    if p.survey.anonymity == "identified":
        await repo.link_response(response_id, inv.id)
    if not p.answered:
        # The receipt: the campaigns domain marks the invitation answered (reminders skip it).
        await mark_invitation_responded(session, inv.id)
    return Submitted("submitted", p.survey.id, now.date())
