"""Staff pages German first, English available (issue 13): the catalog covers every marked
text, an English page carries lang="en" and no marked German text, the switch keeps the
choice in its cookie, and without one the browser's Accept-Language decides."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from babel.dates import format_date

from api import staff_language
from api.deps import SESSION_COOKIE
from api.presentation import local_datetime
from api.staff_language import COOKIE, catalog, from_accept_language
from services.models.organisation import Role
from services.models.process import Process
from tests.api.staff_texts import (
    PLACEHOLDERS,
    german_left,
    python_messages,
    template_messages,
    text_nodes,
)
from tests.api.test_campaigns_api import _invitation, _process
from tests.support.campaigns import audience_of_one
from tests.support.surveys import make_survey


def test_every_marked_text_has_its_english_and_none_is_stale() -> None:
    marked = {text for _, _, text in template_messages()} | python_messages()
    english = catalog()
    where = {text: f"{name}:{line}" for name, line, text in template_messages()}
    missing = sorted(f"{where.get(t, 'api/pages')}: {t}" for t in marked - english.keys())
    assert missing == [], "texts without English in api/locale/en.yaml:\n" + "\n".join(missing)
    stale = sorted(english.keys() - marked)
    assert stale == [], "entries no page uses any more:\n" + "\n".join(stale)
    # The same values and markup on both sides (a shifted line would show here).
    for german, value in english.items():
        for text in ([value] if isinstance(value, str) else list(value.values())):
            assert sorted(PLACEHOLDERS.findall(german)) == sorted(PLACEHOLDERS.findall(text)), \
                (german, text)


def test_the_catalog_test_sees_a_template_text_and_a_python_label() -> None:
    """The extraction finds what it must (an empty result would let the test above pass)."""
    texts = {text for _, _, text in template_messages()}
    assert {"Phasen", "%(num)s Phase", "%(num)s Phasen",
            "Vorlage %(template)s (Fassung %(version)s), Beginn %(start)s",
            "[Beschlussvorlage] Vorlage"} <= texts  # a text in a context (pgettext)
    assert {"wartet auf Freigabe", "Beteiligungsprozesse", "Seite nicht gefunden"} \
        <= python_messages()


@pytest.mark.parametrize(("header", "expected"), [
    ("en-GB,en;q=0.9,de;q=0.8", "en"), ("de-DE,de;q=0.9,en;q=0.8", "de"),
    ("fr-FR,fr;q=0.9,en;q=0.5,de;q=0.4", "en"), ("de;q=0.2,en;q=0.7", "en"),
    ("fr, tr", None), ("", None), (None, None), ("en;q=0", None), ("en;q=abc, de", "de"),
])
def test_accept_language_picks_the_first_of_german_and_english(header, expected) -> None:  # type: ignore[no-untyped-def]
    assert from_accept_language(header) == expected


def test_plural_forms() -> None:
    assert staff_language.translate_plural("en", "%(num)s Phase", "%(num)s Phasen", 1) \
        == "%(num)s phase"
    assert staff_language.translate_plural("en", "%(num)s Phase", "%(num)s Phasen", 3) \
        == "%(num)s phases"
    # German has one word for both counts, English two.
    assert staff_language.translate_plural("en", "%(num)s Treffer", "%(num)s Treffer", 1) \
        == "%(num)s match"
    assert staff_language.translate_plural("en", "%(num)s Treffer", "%(num)s Treffer", 2) \
        == "%(num)s matches"
    assert staff_language.translate_plural("de", "%(num)s Phase", "%(num)s Phasen", 2) \
        == "%(num)s Phasen"


async def _pages(client, session, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff(role=Role.coordinator)
    steering = await make_staff(role=Role.steering, org_slug=staff.org_slug)
    admin = await make_staff(role=Role.admin, org_slug=staff.org_slug)
    clerk = await make_staff(role=Role.clerk, org_slug=staff.org_slug)
    process_id = await _process(session, staff.org_id)
    process = await session.get_one(Process, process_id)
    survey = await make_survey(session, process, from_template="weiterstadt-bedarfe-und-wuensche")
    person = await audience_of_one(session, staff.org_id)
    _, _, _, campaign = await _invitation(session, staff.org_id)
    campaign.process_id = process_id
    await session.flush()
    pages = {
        f"/app/processes/{process_id}": (staff, "Phases"),
        f"/app/orgs/{staff.org_slug}/stakeholders": (staff, "Search and filter"),
        f"/app/surveys/{survey.id}/bearbeiten": (staff, "Questions"),
        f"/app/processes/{process_id}/campaigns/new": (staff, "Send invitations"),
        f"/app/surveys/{survey.id}/results": (staff, "Results per question"),
        f"/app/campaigns/{campaign.id}": (staff, "Campaign progress"),
        "/app/approvals": (steering, "Approvals waiting for you"),
        "/app": (staff, "Your organisations"),
        # The rest of the staff pages, each by a heading of its own.
        "/app/processes": (staff, "Start a process from a template"),
        f"/app/processes/{process_id}/surveys": (staff, "Create a new survey"),
        f"/app/processes/{process_id}/surveys/new": (staff, "Create survey"),
        f"/app/surveys/{survey.id}/neue-frage?typ=single": (staff, "Add question"),
        f"/app/surveys/{survey.id}/multiplikatoren": (staff, "New link"),
        f"/app/processes/{process_id}/campaigns": (staff, "Invitations"),
        f"/app/campaigns/{campaign.id}/cancel": (staff, "Yes, cancel the campaign"),
        f"/app/processes/{process_id}/events": (staff, "New event"),
        f"/app/processes/{process_id}/resolution": (staff, "Edit the draft"),
        f"/app/orgs/{staff.org_slug}/stakeholders/import": (admin, "Upload list"),
        f"/app/orgs/{staff.org_slug}/stakeholders/new": (admin,
                                                         "Create a person or organisation"),
        f"/app/orgs/{staff.org_slug}/stakeholders/{person.id}": (admin, "Save changes"),
        f"/app/orgs/{staff.org_slug}/stakeholders/{person.id}/erase": (admin,
                                                                        "Delete for good"),
        f"/app/orgs/{staff.org_slug}/staff": (admin, "Invite a colleague"),
        f"/app/orgs/{staff.org_slug}/templates": (admin, "Upload template"),
        f"/app/orgs/{staff.org_slug}/rechtliches": (admin, "Represented by (required)"),
        "/app/surveys": (admin, "Your organisations' surveys"),
        "/app/passwort": (staff, "Current password"),
        "/app/clerk": (clerk, "Newly received"),
        # Assisted entry: the form (its questions are the survey's, as participants see them)
        # and the organisation's list of open surveys.
        f"/app/surveys/{survey.id}/erfassen": (staff, "Save answer"),
        f"/app/orgs/{staff.org_slug}/erfassen": (staff, "Enter interviews and paper forms"),
    }
    return pages, {process.title, "Erika Muster"}


async def test_staff_pages_in_english(client, session, make_staff):  # type: ignore[no-untyped-def]
    pages, data = await _pages(client, session, make_staff)
    for url, (staff, heading) in pages.items():
        client.cookies.set(SESSION_COOKIE, staff.token)
        client.cookies.set(COOKIE, "en")
        r = await client.get(url)
        assert r.status_code == 200, (url, r.status_code)
        assert '<html lang="en" dir="ltr">' in r.text, url
        assert heading in text_nodes(r.text), (url, heading)
        assert german_left(r.text, data) == set(), url
        # The same page in German (no choice, no Accept-Language) is the source text.
        client.cookies.delete(COOKIE)
        german = await client.get(url)
        assert '<html lang="de" dir="ltr">' in german.text, url
        assert heading not in text_nodes(german.text), (url, heading)


async def test_switch_keeps_the_choice_and_accept_language_is_the_default(  # type: ignore[no-untyped-def]
        client, make_staff):
    staff = await make_staff(role=Role.coordinator)
    client.cookies.set(SESSION_COOKIE, staff.token)
    # No choice: the browser's language.
    r = await client.get("/app", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en"' in r.text and "Your organisations" in r.text
    r = await client.get("/app", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert '<html lang="de"' in r.text and "Ihre Organisationen" in r.text
    # The switch on the page: a link per language, back to this page.
    assert 'href="/sprache?lang=en&amp;next=%2Fapp"' in r.text
    assert 'lang="de" hreflang="de" dir="ltr" aria-current="true">Deutsch</a>' in r.text
    chosen = await client.get("/sprache?lang=en&next=/app")
    assert chosen.status_code == 303 and chosen.headers["location"] == "/app"
    cookie = chosen.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=en;") and "Path=/;" in cookie and "HttpOnly" in cookie
    # Kept: later pages (and a German browser) stay English until switched back.
    for url in ("/app", "/app/passwort", "/app/processes"):
        r = await client.get(url, headers={"Accept-Language": "de-DE"})
        assert '<html lang="en"' in r.text, url
    back = await client.get("/sprache?lang=de&next=/app/processes")
    assert back.headers["location"] == "/app/processes"
    r = await client.get("/app", headers={"Accept-Language": "en"})
    assert '<html lang="de"' in r.text and "Ihre Organisationen" in r.text
    # The login page before signing in speaks the choice too (the cookie is site-wide).
    client.cookies.delete(SESSION_COOKIE)
    await client.get("/sprache?lang=en&next=/login")
    login = await client.get("/login")
    assert '<html lang="en"' in login.text and ">Sign in</h1>" in login.text


async def test_switch_is_no_open_redirect_and_ignores_unknown_languages(client) -> None:  # type: ignore[no-untyped-def]
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        r = await client.get("/sprache", params={"lang": "en", "next": target})
        assert r.status_code == 303 and r.headers["location"] == "/app", target
    r = await client.get("/sprache", params={"lang": "tr", "next": "/app"})
    assert "set-cookie" not in r.headers


async def test_error_page_chrome_in_english(client) -> None:  # type: ignore[no-untyped-def]
    client.cookies.set(COOKIE, "en")
    r = await client.get("/app/does-not-exist", headers={"Accept": "text/html"})
    assert r.status_code == 404 and '<html lang="en"' in r.text
    assert "Page not found" in r.text and "Seite nicht gefunden" not in r.text
    # A refusal with a text of its own (api/errors.py CODE_TEXTS): the cross-origin check's.
    r = await client.post("/login", data={"email": "x", "password": "x"},
                          headers={"Accept": "text/html", "Origin": "https://evil.example"})
    assert r.status_code == 403 and "Request from another site" in r.text
    assert "Anfrage von einer anderen Seite" not in r.text


def test_dates_follow_the_page_language() -> None:
    moment = datetime(2026, 12, 1, 22, 59, tzinfo=UTC)
    assert local_datetime(moment, "de") == "01.12.2026, 23:59 Uhr"
    assert local_datetime(moment, "en") == "1 Dec 2026, 23:59"
    assert format_date(moment.date(), "d MMM yyyy", locale="en_GB") == "1 Dec 2026"


async def test_staff_page_dates_in_the_chosen_language(client, session, make_staff):  # type: ignore[no-untyped-def]
    """The Babel filters of api/presentation.py read the staff language when the page sets
    none itself: the process start reads "1 Feb 2026" in English, "01.02.2026" in German."""
    staff = await make_staff(role=Role.coordinator)
    process_id = await _process(session, staff.org_id)  # starts on 2026-02-01
    await session.flush()
    client.cookies.set(SESSION_COOKIE, staff.token)
    client.cookies.set(COOKIE, "en")
    english = (await client.get(f"/app/processes/{process_id}")).text
    assert "start 1 Feb 2026" in english
    client.cookies.set(COOKIE, "de")
    german = (await client.get(f"/app/processes/{process_id}")).text
    assert "Beginn 01.02.2026" in german


async def test_survey_preview_frame_in_the_staff_language(client, session, make_staff):  # type: ignore[no-untyped-def]
    """The preview speaks the participant's language (as asked), its note the staff's."""
    staff = await make_staff(role=Role.coordinator)
    process = await session.get_one(Process, await _process(session, staff.org_id))
    survey = await make_survey(session, process, from_template="weiterstadt-bedarfe-und-wuensche")
    await session.flush()
    client.cookies.set(SESSION_COOKIE, staff.token)
    client.cookies.set(COOKIE, "en")
    page = (await client.get(f"/app/surveys/{survey.id}/vorschau")).text
    assert '<html lang="de"' in page  # the German form, as participants see it
    assert '<div class="notice" lang="en" id="vorschau">' in page
    assert "Preview in English" in page and "Back to the survey" in page
    client.cookies.set(COOKIE, "de")
    page = (await client.get(f"/app/surveys/{survey.id}/vorschau?lang=en")).text
    assert '<html lang="en"' in page
    assert '<div class="notice" lang="de" id="vorschau">' in page
    assert "Vorschau auf Deutsch" in page and "Zurück zur Umfrage" in page


async def test_survey_times_in_the_chosen_language_and_the_organisations_zone(  # type: ignore[no-untyped-def]
        client, session, make_staff):
    staff = await make_staff(role=Role.coordinator)
    process = await session.get_one(Process, await _process(session, staff.org_id))
    survey = await make_survey(session, process, from_template="weiterstadt-bedarfe-und-wuensche")
    survey.opens_at = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
    await session.flush()
    client.cookies.set(SESSION_COOKIE, staff.token)
    for lang, shown in (("de", "01.03.2026, 09:00 Uhr"), ("en", "1 Mar 2026, 09:00")):
        client.cookies.set(COOKIE, lang)
        editor = (await client.get(f"/app/surveys/{survey.id}/bearbeiten")).text
        listing = (await client.get(f"/app/processes/{process.id}/surveys")).text
        assert shown in editor and shown in listing, lang


async def test_german_only_public_page_keeps_german_and_has_no_staff_switch(client) -> None:  # type: ignore[no-untyped-def]
    """A partner organisation's page (German only, not a staff page) is not turned into an
    English-labelled German page by the browser's Accept-Language."""
    r = await client.get("/m/unknown-secret/ergebnis", headers={"Accept-Language": "en"})
    assert r.status_code == 404
    assert '<html lang="de"' in r.text and "/sprache?" not in r.text
