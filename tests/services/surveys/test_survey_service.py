"""Survey definitions, versions and submission rules against real PostgreSQL."""

from __future__ import annotations

import pytest

from services.errors import Conflict, Gone, NotFound, ValidationFailed
from services.surveys import service
from services.surveys.schemas import SurveyDefinition
from services.surveys.templates import builtin_survey_templates, survey_template
from tests.support.surveys import counts, make_campaign, make_invites, make_process, make_survey


async def test_create_from_template_and_submit_once(session, make_staff):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, from_template="weiterstadt-bedarfe-und-wuensche")
    assert survey.title["de"] == "Bedarfe und Wünsche"
    campaign = await make_campaign(session, survey)
    (invite,) = await make_invites(session, campaign)
    before = await counts(session)
    answers = {"gruppe": "politik", "themen": ["arbeit"], "zusammenleben": 4}
    result = await service.submit(session, invite.token, answers)
    assert result.status == "submitted"
    after = await counts(session)
    assert after["responses"] == before["responses"] + 1
    assert after["answers"] == before["answers"] + 3
    assert after["responded"] == before["responded"] + 1
    assert after["links"] == before["links"]  # anonymous: no link row
    with pytest.raises(Conflict):
        await service.submit(session, invite.token, answers)


async def test_unknown_and_closed(session, make_staff):
    with pytest.raises(NotFound):
        await service.open_token(session, "gibt-es-nicht")
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    from datetime import UTC, datetime, timedelta
    survey = await make_survey(session, process, from_template="vielfaltsmanager-feedback",
                               closes_at=(datetime.now(UTC) + timedelta(days=1)).isoformat())
    campaign = await make_campaign(session, survey)
    (invite,) = await make_invites(session, campaign)
    with pytest.raises(Gone) as exc:
        await service.open_token(session, invite.token, now=datetime.now(UTC) + timedelta(days=2))
    assert exc.value.code == "survey_closed"


async def test_versioning_after_answers(session, make_staff):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    survey = await make_survey(session, process, from_template="vielfaltsmanager-feedback")
    definition = survey_template("vielfaltsmanager-feedback")
    changed = definition.model_copy(update={"title": {"de": "Neu"}})
    same = await service.change_questions(session, survey, changed, actor=None)
    assert same.id == survey.id and same.revision == 2
    campaign = await make_campaign(session, survey)
    (invite,) = await make_invites(session, campaign)
    await service.submit(session, invite.token, {"tag": "tag1", "gesamt": 5})
    new = await service.change_questions(session, survey, changed, actor=None)
    assert new.id != survey.id and new.version == 2 and new.lineage_id == survey.lineage_id


def test_templates_are_valid():
    for key in builtin_survey_templates():
        assert isinstance(survey_template(key), SurveyDefinition)
    selfcheck = survey_template("weltoffene-kommune-selbstcheck")
    assert len(selfcheck.blocks) == 7
    assert {q.block for q in selfcheck.questions if q.kind == "likert"} == {
        b.key for b in selfcheck.blocks}


def test_anonymous_surveys_cannot_allow_edits():
    with pytest.raises(ValueError):
        SurveyDefinition.model_validate({"title": "x", "allow_edits": True, "questions": [
            {"id": "a", "kind": "text", "text": "Frage"}]})


async def test_invalid_definition_422(session, make_staff):
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    with pytest.raises(ValidationFailed) as exc:
        await make_survey(session, process, title="x", questions=[
            {"id": "a", "kind": "single", "text": "Frage", "options": []}])
    assert exc.value.details


async def test_demo_survey_seed_is_idempotent(session, make_staff):
    import uuid

    from services.surveys.demo import seed_demo_surveys

    assert await seed_demo_surveys(session, uuid.uuid4()) is None
    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    first = await seed_demo_surveys(session, process.id)
    second = await seed_demo_surveys(session, process.id)
    assert first is not None and second is not None and first.id == second.id
    assert first.phase_key == "kickoff"


async def test_process_template_survey_keys(session, make_staff):
    """Every survey key named in a shipped process template resolves to a built-in survey
    (checked from the process templates' side, so a new dangling reference fails), and a
    survey named by the process template lands in that template's phase."""
    from services.processes.templates import builtin_templates

    staff = await make_staff()
    process = await make_process(session, staff.org_id)
    process.template_snapshot = {
        "phases": [{"key": "planung"}, {"key": "kick-off"}],
        "surveys": [{"key": "bedarfe-und-wuensche", "survey": "weiterstadt-bedarfe-und-wuensche",
                     "phase": "kick-off"}],
    }
    await session.flush()
    survey = await make_survey(session, process, phase=None,
                               from_template="bedarfe-und-wuensche")
    assert survey.phase_key == "kick-off" and survey.title["de"] == "Bedarfe und Wünsche"
    assert survey.template_key == "weiterstadt-bedarfe-und-wuensche"
    named = {(t.key, ref.survey) for t in builtin_templates().values() for ref in t.surveys}
    assert named
    for template_key, key in sorted(named):
        assert survey_template(key).questions, (template_key, key)
