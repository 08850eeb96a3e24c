"""Assisted entry (issue 12): interviews and paper forms keyed in by staff, through
`POST /api/v1/surveys/{id}/assisted-responses`, against the app on the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from api.deps import SESSION_COOKIE
from services.models.organisation import Role
from services.models.survey import (
    SurveyEntryCount,
    SurveyResponse,
    SurveyResponseEntry,
    SurveyResponseLink,
)
from services.stakeholders.repository import StakeholderRepository
from services.surveys import assisted
from tests.support.surveys import make_campaign, make_invites, make_process, make_survey

GUIDE = "bergkamen-interviewleitfaden"
ANSWERS = {"integration": "Dazugehören, mitreden können.", "erreichbarkeit": "kaum"}


async def _survey(session, make_staff, *, role=Role.interviewer, **body):
    who = await make_staff(role=role)
    process = await make_process(session, who.org_id)
    survey = await make_survey(session, process, from_template=GUIDE, **body)
    await StakeholderRepository.from_session(session).add_groups(
        who.org_id, [("senioren", "Seniorinnen und Senioren"), ("jugend", "Jugend")], "manual")
    return who, survey


def _url(survey) -> str:
    return f"/api/v1/surveys/{survey.id}/assisted-responses"


async def _responses(session, survey_id) -> list[SurveyResponse]:
    return list(await session.scalars(
        select(SurveyResponse).where(SurveyResponse.survey_id == survey_id)))


async def _count(session, model, *where) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_interview_carries_channel_group_tier_and_no_staff_on_anonymous(
        client, session, make_staff):
    who, survey = await _survey(session, make_staff)
    r = await client.post(_url(survey), headers=who.headers, json={
        "channel": "interview", "answers": ANSWERS, "consent": True, "group": "senioren",
        "tier": 3, "language": "tr"})
    assert r.status_code == 201, r.text
    assert r.json()["channel"] == "interview" and r.json()["status"] == "submitted"
    [row] = await _responses(session, survey.id)
    # Anonymous: group, tier and channel, no language and no staff member on or next to it.
    assert (row.channel, row.group_key, row.reach_tier, row.language) == (
        "interview", "senioren", 3, None)
    assert await _count(session, SurveyResponseEntry,
                        SurveyResponseEntry.response_id == row.id) == 0
    counted = await session.scalar(select(SurveyEntryCount.entries).where(
        SurveyEntryCount.survey_id == survey.id, SurveyEntryCount.user_id == who.user_id,
        SurveyEntryCount.channel == "interview"))
    assert counted == 1


async def test_identified_interview_keeps_language_and_who_entered_it(
        client, session, make_staff):
    who, survey = await _survey(session, make_staff, role=Role.coordinator,
                                anonymity="identified")
    r = await client.post(_url(survey), headers=who.headers, json={
        "channel": "interview", "answers": ANSWERS, "consent": True, "language": "ar"})
    assert r.status_code == 201, r.text
    [row] = await _responses(session, survey.id)
    assert (row.channel, row.group_key, row.reach_tier, row.language) == (
        "interview", None, None, "ar")
    entry = await session.get(SurveyResponseEntry, row.id)
    assert entry is not None and entry.user_id == who.user_id


async def test_consent_group_and_answers_are_checked_and_nothing_stored(
        client, session, make_staff):
    who, survey = await _survey(session, make_staff)
    r = await client.post(_url(survey), headers=who.headers,
                          json={"channel": "interview", "answers": ANSWERS})
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_entry"
    assert [d["field"] for d in err["details"]] == ["consent"]
    r = await client.post(_url(survey), headers=who.headers, json={
        "channel": "interview", "answers": ANSWERS, "consent": True, "group": "unbekannt"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "group"
    # Validated exactly like a participant's answer: the missing required question is named.
    r = await client.post(_url(survey), headers=who.headers, json={
        "channel": "interview", "answers": {"erreichbarkeit": "kaum"}, "consent": True})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_answers"
    assert [d["field"] for d in r.json()["error"]["details"]] == ["integration"]
    r = await client.post(_url(survey), headers=who.headers, json={
        "channel": "interview", "answers": ANSWERS, "consent": True, "tier": 9})
    assert r.status_code == 422
    r = await client.post(_url(survey), headers=who.headers,
                          json={"channel": "paper", "answers": ANSWERS})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "code"
    assert await _responses(session, survey.id) == []
    assert await _count(session, SurveyEntryCount, SurveyEntryCount.survey_id == survey.id) == 0


async def test_form_number_is_entered_once_and_an_unissued_one_is_refused(
        client, session, make_staff):
    who, survey = await _survey(session, make_staff)
    assert await assisted.issue_form_numbers(session, survey.id, 3) == [1, 2, 3]
    assert await assisted.issue_form_numbers(session, survey.id, 2) == [4, 5]
    body = {"channel": "paper", "answers": ANSWERS, "form_number": 2, "group": "jugend",
            "tier": 2}
    r = await client.post(_url(survey), headers=who.headers, json=body)
    assert r.status_code == 201 and r.json()["form_number"] == 2, r.text
    r = await client.post(_url(survey), headers=who.headers, json=body)
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "form_already_entered"
    assert "Nr. 2 wurde bereits erfasst" in r.json()["error"]["message"]
    r = await client.post(_url(survey), headers=who.headers, json={**body, "form_number": 6})
    assert r.status_code == 422 and r.json()["error"]["code"] == "form_number_unknown"
    assert r.json()["error"]["details"][0]["field"] == "form_number"
    # Nothing stored twice: one response, on paper, with the chosen group and tier.
    [row] = await _responses(session, survey.id)
    assert (row.channel, row.group_key, row.reach_tier) == ("paper", "jugend", 2)


async def test_personal_form_by_code_link_or_token_is_entered_once(
        client, session, make_staff, settings):
    who, survey = await _survey(session, make_staff, anonymity="identified")
    campaign = await make_campaign(session, survey)
    first, second, third = await make_invites(session, campaign, 3, group="senioren", tier=2,
                                              language="uk")
    code = await assisted.paper_code_for(session, first.invitation)
    assert len(code) == 8 and not set(code) & set("0O1I")
    assert await assisted.paper_code_for(session, first.invitation) == code  # kept
    body = {"channel": "paper", "answers": ANSWERS}
    # The code as typed from the sheet (lower case, with a space).
    r = await client.post(_url(survey), headers=who.headers,
                          json={**body, "code": f"{code[:4].lower()} {code[4:]}"})
    assert r.status_code == 201, r.text
    # The same invitation again, now by its link (the QR code): refused, nothing stored.
    r = await client.post(_url(survey), headers=who.headers,
                          json={**body, "token": f"{settings.public_url}/t/{first.token}"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "sheet_already_entered"
    # Another invitation by its bare token, one by its link.
    r = await client.post(_url(survey), headers=who.headers, json={**body, "token": second.token})
    assert r.status_code == 201, r.text
    r = await client.post(_url(survey), headers=who.headers,
                          json={**body, "code": f"http://testserver/t/{third.token}"})
    assert r.status_code == 201, r.text
    r = await client.post(_url(survey), headers=who.headers,
                          json={**body, "code": "ABCDEFGH"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "sheet_unknown"
    assert r.json()["error"]["details"][0]["field"] == "code"

    rows = await _responses(session, survey.id)
    assert len(rows) == 3
    # The invitation's group and tier and language; linked like a participant's answer.
    assert {(x.channel, x.group_key, x.reach_tier, x.language) for x in rows} == {
        ("paper", "senioren", 2, "uk")}
    assert await _count(session, SurveyResponseLink,
                        SurveyResponseLink.response_id.in_([x.id for x in rows])) == 3
    await session.refresh(first.invitation)
    assert first.invitation.status == "responded"


async def test_answered_online_cannot_be_entered_on_paper(client, session, make_staff):
    who, survey = await _survey(session, make_staff)
    campaign = await make_campaign(session, survey)
    [invite] = await make_invites(session, campaign)
    r = await client.post(f"/api/v1/participation/{invite.token}/response",
                          json={"answers": ANSWERS})
    assert r.status_code in (200, 201), r.text
    r = await client.post(_url(survey), headers=who.headers,
                          json={"channel": "paper", "answers": ANSWERS, "token": invite.token})
    assert r.status_code == 409 and r.json()["error"]["code"] == "sheet_already_entered"
    assert len(await _responses(session, survey.id)) == 1


async def test_a_form_of_another_survey_is_refused(client, session, make_staff):
    who, survey = await _survey(session, make_staff)
    process = await make_process(session, who.org_id)
    other = await make_survey(session, process, from_template=GUIDE)
    [invite] = await make_invites(session, await make_campaign(session, other))
    r = await client.post(_url(survey), headers=who.headers,
                          json={"channel": "paper", "answers": ANSWERS, "token": invite.token})
    assert r.status_code == 422 and r.json()["error"]["code"] == "sheet_other_survey"
    await session.refresh(invite.invitation)
    assert invite.invitation.status == "sent"


async def test_roles_and_another_organisations_survey(client, session, make_staff):
    who, survey = await _survey(session, make_staff)
    body = {"channel": "interview", "answers": ANSWERS, "consent": True}
    other = await make_staff(role=Role.coordinator)
    r = await client.post(_url(survey), headers=other.headers, json=body)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    for role in (Role.steering, Role.clerk):
        member = await make_staff(role=role, org_slug=who.org_slug)
        r = await client.post(_url(survey), headers=member.headers, json=body)
        assert r.status_code == 403, (role, r.text)
    for role in (Role.admin, Role.coordinator, Role.interviewer):
        member = await make_staff(role=role, org_slug=who.org_slug)
        r = await client.post(_url(survey), headers=member.headers, json=body)
        assert r.status_code == 201, (role, r.text)
    # The interviewer enters answers, nothing else: no campaign (not even its audience
    # preview; starting one needs Temporal before the role is checked), no survey change.
    r = await client.post(f"/api/v1/processes/{survey.process_id}/campaigns/audience",
                          headers=who.headers, json={})
    assert r.status_code == 403, r.text
    r = await client.post(f"/api/v1/surveys/{survey.id}/close", headers=who.headers)
    assert r.status_code == 403, r.text
    assert len(await _responses(session, survey.id)) == 3


async def test_forms_and_interviews_are_entered_up_to_two_weeks_after_the_close(
        client, session, make_staff, settings):
    """Paper forms come back by the deadline and are keyed in afterwards: for LATE_ENTRY
    after the close (and after a personal form's link expired), then refused with 410."""
    who, survey = await _survey(session, make_staff, role=Role.coordinator,
                                anonymity="identified")
    [sheet] = await make_invites(session, await make_campaign(session, survey), 1)
    r = await client.post(f"/api/v1/surveys/{survey.id}/close", headers=who.headers)
    assert r.status_code == 200, r.text
    sheet.invitation.expires_at = datetime.now(UTC) - timedelta(hours=1)
    await session.flush()
    interview = {"channel": "interview", "answers": ANSWERS, "consent": True}
    r = await client.post(_url(survey), headers=who.headers, json=interview)
    assert r.status_code == 201, r.text
    r = await client.post(_url(survey), headers=who.headers,
                          json={"channel": "paper", "answers": ANSWERS, "token": sheet.token})
    assert r.status_code == 201, r.text
    client.cookies.set(SESSION_COOKIE, who.token)
    page = await client.get(f"/app/orgs/{who.org_slug}/erfassen")
    assert f"/app/surveys/{survey.id}/erfassen" in page.text  # still offered for entry
    survey.closes_at = datetime.now(UTC) - assisted.LATE_ENTRY - timedelta(minutes=1)
    await session.flush()
    r = await client.post(_url(survey), headers=who.headers, json=interview)
    assert r.status_code == 410 and r.json()["error"]["code"] == "survey_closed"
    page = await client.get(f"/app/orgs/{who.org_slug}/erfassen")
    assert f"/app/surveys/{survey.id}/erfassen" not in page.text
    assert len(await _responses(session, survey.id)) == 2


async def test_admin_can_give_the_interviewer_role(client, session, make_staff):
    admin = await make_staff(role=Role.admin)
    client.cookies.set(SESSION_COOKIE, admin.token)
    page = await client.get(f"/app/orgs/{admin.org_slug}/staff")
    assert page.status_code == 200 and 'value="interviewer"' in page.text
    assert "Interviews und Papierbögen</option>" in page.text
    member = await make_staff(role=Role.coordinator, org_slug=admin.org_slug)
    r = await client.get(f"/api/v1/orgs/{admin.org_slug}/staff", headers=admin.headers)
    assert r.status_code == 200, r.text
    r = await client.patch(f"/api/v1/orgs/{admin.org_slug}/staff/{member.user_id}",
                           headers=admin.headers, json={"role": "interviewer"})
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "interviewer"
