"""Print runs of paper forms (services/surveys/paper_print.py): the numbers and codes on the
printed sheets are the ones assisted entry then accepts, once; through the API and the survey
page, on the real database."""

from __future__ import annotations

import io
import re
import uuid

import pypdf
from sqlalchemy import select

from api.deps import SESSION_COOKIE
from services.campaigns.tokens import hash_token, invitation_token
from services.models.campaign import Invitation
from services.models.organisation import Role
from services.models.survey import SurveyResponse
from services.surveys import paper_print
from tests.support.forms import form_token
from tests.support.surveys import make_campaign, make_process, make_survey

GUIDE = "bergkamen-interviewleitfaden"
ANSWERS = {"integration": "Dazugehören, mitreden können.", "erreichbarkeit": "kaum"}


def _text(pdf: bytes) -> str:
    return " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)


async def _survey(session, make_staff, *, role=Role.coordinator, **body):
    who = await make_staff(role=role)
    process = await make_process(session, who.org_id)
    return who, await make_survey(session, process, from_template=GUIDE, **body)


async def _invitations(session, campaign, secret_key: str, n: int, status: str = "sent"):
    """Invitations whose token is the derived one, as the campaign's own (the sheet's link)."""
    out = []
    for _ in range(n):
        inv_id = uuid.uuid4()
        inv = Invitation(id=inv_id, campaign_id=campaign.id,
                         organisation_id=campaign.organisation_id, status=status,
                         token_hash=hash_token(invitation_token(secret_key, inv_id)),
                         group_key="buerger", reach_tier=1, language="de", batch_no=0)
        session.add(inv)
        out.append(inv)
    await session.flush()
    return out


def _api(survey) -> str:
    return f"/api/v1/surveys/{survey.id}/paper-forms"


async def test_numbered_forms_carry_fresh_numbers_that_are_entered_once(
        client, session, make_staff):
    who, survey = await _survey(session, make_staff, role=Role.interviewer)
    r = await client.post(_api(survey), headers=who.headers,
                          json={"kind": "numbered", "count": 2})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert "nummeriert" in r.headers["content-disposition"]
    first = _text(r.content)
    assert "0001" in first and "0002" in first and "0003" not in first
    r = await client.post(_api(survey), headers=who.headers,
                          json={"kind": "numbered", "count": 1, "language": "en"})
    assert r.status_code == 200 and "0003" in _text(r.content)  # the next free number
    entry = f"/api/v1/surveys/{survey.id}/assisted-responses"
    body = {"channel": "paper", "answers": ANSWERS, "form_number": 3}
    assert (await client.post(entry, headers=who.headers, json=body)).status_code == 201
    assert (await client.post(entry, headers=who.headers, json=body)).status_code == 409
    r = await client.post(entry, headers=who.headers, json={**body, "form_number": 4})
    assert r.status_code == 422 and r.json()["error"]["code"] == "form_number_unknown"


async def test_bad_print_requests_are_422_and_issue_nothing(client, session, make_staff):
    who, survey = await _survey(session, make_staff)
    for body, field in (({"kind": "numbered"}, None),
                        ({"kind": "numbered", "count": paper_print.PRINT_LIMIT + 1}, "count"),
                        ({"kind": "numbered", "count": 2, "language": "xx"}, "language"),
                        ({"kind": "personal"}, None),
                        ({"kind": "scan", "count": 1}, "kind")):
        r = await client.post(_api(survey), headers=who.headers, json=body)
        assert r.status_code == 422, (body, r.text)
        if field:
            assert field in r.text
    r = await client.post(_api(survey), headers=who.headers, json={"kind": "numbered",
                                                                 "count": 1})
    assert "0001" in _text(r.content)  # nothing was issued by the refused requests


async def test_personal_forms_print_open_invitations_with_code_and_link(
        client, session, make_staff, settings):
    who, survey = await _survey(session, make_staff, anonymity="identified")
    key = settings.resolved_secret_key()
    campaign = await make_campaign(session, survey)
    open_ones = await _invitations(session, campaign, key, 2)
    [answered] = await _invitations(session, campaign, key, 1, status="responded")
    r = await client.post(_api(survey), headers=who.headers,
                          json={"kind": "personal", "campaign_id": str(campaign.id)})
    assert r.status_code == 200, r.text
    assert r.headers["x-print-parts"] == "1"
    text = _text(r.content)
    reader = pypdf.PdfReader(io.BytesIO(r.content))
    for inv in open_ones:
        await session.refresh(inv)
        assert inv.paper_code and inv.paper_code in text
        # The sheet's link is the invitation's own: it opens its participant page.
        token = invitation_token(key, inv.id)
        assert token in re.sub(r"\s+", "", text)
    await session.refresh(answered)
    assert answered.paper_code is None  # answered already: no sheet printed for it
    assert len(reader.pages) == 2 * len(pypdf.PdfReader(io.BytesIO((await client.post(
        _api(survey), headers=who.headers, json={"kind": "numbered", "count": 1})).content)).pages)
    # The code on the sheet is what the staff type: entered once.
    entry = f"/api/v1/surveys/{survey.id}/assisted-responses"
    body = {"channel": "paper", "answers": ANSWERS, "code": open_ones[0].paper_code}
    assert (await client.post(entry, headers=who.headers, json=body)).status_code == 201
    assert (await client.post(entry, headers=who.headers, json=body)).status_code == 409
    rows = list(await session.scalars(select(SurveyResponse).where(
        SurveyResponse.survey_id == survey.id)))
    assert [x.channel for x in rows] == ["paper"]
    # Printed again: the answered invitation is no longer among the sheets.
    r = await client.post(_api(survey), headers=who.headers,
                          json={"kind": "personal", "campaign_id": str(campaign.id)})
    again = _text(r.content)
    assert open_ones[1].paper_code in again and open_ones[0].paper_code not in again


async def test_personal_forms_are_for_coordinators_and_this_surveys_campaigns(
        client, session, make_staff, settings):
    who, survey = await _survey(session, make_staff)
    campaign = await make_campaign(session, survey)
    await _invitations(session, campaign, settings.resolved_secret_key(), 1)
    interviewer = await make_staff(role=Role.interviewer, org_slug=who.org_slug)
    body = {"kind": "personal", "campaign_id": str(campaign.id)}
    r = await client.post(_api(survey), headers=interviewer.headers, json=body)
    assert r.status_code == 403, r.text  # the sheets carry participant links
    _, other_survey = await _survey(session, make_staff)
    r = await client.post(_api(other_survey), headers=who.headers, json=body)
    assert r.status_code == 404, r.text  # another organisation's survey
    same_org_survey = await make_survey(session, await make_process(session, who.org_id),
                                        from_template=GUIDE)
    r = await client.post(_api(same_org_survey), headers=who.headers, json=body)
    assert r.status_code == 404, r.text  # a campaign of another survey
    r = await client.post(_api(survey), headers=who.headers, json={**body, "part": 2})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "part"


async def test_survey_page_prints_and_shows_a_refusal_at_the_form(client, session,
                                                                  make_staff):
    who, survey = await _survey(session, make_staff)
    client.cookies.set(SESSION_COOKIE, who.token)
    page_url = f"/app/surveys/{survey.id}/bearbeiten"
    page = await client.get(page_url)
    assert f'action="/app/surveys/{survey.id}/papierbogen/nummeriert"' in page.text
    assert "sobald zu dieser Umfrage eingeladen wurde" in page.text
    token = await form_token(client, page_url)
    r = await client.post(f"/app/surveys/{survey.id}/papierbogen/nummeriert",
                          data={"anzahl": "2", "sprache": "de", "csrf_token": token})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert "0002" in _text(r.content)
    r = await client.post(f"/app/surveys/{survey.id}/papierbogen/nummeriert",
                          data={"anzahl": "0", "sprache": "de", "csrf_token": token})
    assert r.status_code == 422 and "text/html" in r.headers["content-type"]
    assert 'id="papier"' in r.text and "1 bis 100 Bögen" in r.text
