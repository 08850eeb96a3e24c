"""The staff download of a survey's blank paper form (issue 12): GET
/app/surveys/{id}/papierbogen.pdf?sprache=..., staff of the survey's organisation only, linked
from the survey's page in each of its languages."""

from __future__ import annotations

import io

import pypdf

from api.deps import SESSION_COOKIE
from services.models.organisation import Role
from tests.support.surveys import make_process, make_survey

TEMPLATE = "vielfaltsmanager-feedback"


async def _survey(session, make_staff, **staff):  # type: ignore[no-untyped-def]
    who = await make_staff(**staff)
    survey = await make_survey(session, await make_process(session, who.org_id),
                               from_template=TEMPLATE)
    return who, survey


async def test_staff_download_the_blank_form_in_a_language(client, session, make_staff):  # type: ignore[no-untyped-def]
    # Any member of the organisation, not only its coordinators.
    staff, survey = await _survey(session, make_staff, role=Role.clerk)
    client.cookies.set(SESSION_COOKIE, staff.token)
    path = f"/app/surveys/{survey.id}/papierbogen.pdf"
    r = await client.get(path)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == \
        f'attachment; filename="papierbogen-{survey.id}-de.pdf"'
    reader = pypdf.PdfReader(io.BytesIO(r.content))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())  # wrapped lines
    assert reader.trailer["/Root"]["/Lang"] == "de" and survey.title["de"] in text
    assert "So füllen Sie den Bogen aus" in text and "Bogen-Nr. (trägt die Verwaltung ein)" in text

    r = await client.get(path, params={"sprache": "EN"})  # spelled as a person might
    assert r.status_code == 200 and 'filename="papierbogen-' in r.headers["content-disposition"]
    reader = pypdf.PdfReader(io.BytesIO(r.content))
    assert reader.trailer["/Root"]["/Lang"] == "en"
    assert "How to fill in this form" in reader.pages[0].extract_text()

    r = await client.get(path, params={"sprache": "klingonisch"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "Diese Sprache gibt es nicht" in r.text

    # The survey's page links the form in German and each of its languages (all six here).
    page = await client.get(f"/app/surveys/{survey.id}/bearbeiten")
    for code in ("de", "en", "tr", "ar", "uk", "de-x-ls"):
        assert f'href="{path}?sprache={code}"' in page.text, code


async def test_other_organisations_and_strangers_get_no_form(client, session, make_staff):  # type: ignore[no-untyped-def]
    _, survey = await _survey(session, make_staff)
    path = f"/app/surveys/{survey.id}/papierbogen.pdf"
    r = await client.get(path)  # not signed in: the login page, as every staff page
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    stranger = await make_staff()
    client.cookies.set(SESSION_COOKIE, stranger.token)
    r = await client.get(path)
    assert r.status_code == 404 and "application/pdf" not in r.headers["content-type"]
    assert "Nicht gefunden" in r.text
