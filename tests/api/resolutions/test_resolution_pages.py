"""The German resolution pages: the coordinator edits, compiles, asks for approval and submits;
the clerk sees the inbox and, on a version's page, only the steps allowed now."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient

from api.deps import SESSION_COOKIE
from services.models.organisation import Role
from tests.support.forms import form_token
from tests.support.resolutions import council, poll


def browser(app, staff) -> AsyncClient:  # type: ignore[no-untyped-def]
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver",
                       cookies={SESSION_COOKIE: staff.token})


@pytest.fixture
async def api(papp) -> AsyncIterator[AsyncClient]:  # type: ignore[no-untyped-def]
    async with AsyncClient(transport=ASGITransport(app=papp), base_url="http://testserver") as c:
        yield c


def edit_form(csrf: str, **over: str) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "csrf_token": csrf, "betreff": "Vielfaltsstrategie <i>WIRkt!</i>",
        "beschluss_intro": "Die Stadtverordnetenversammlung beschließt:",
        "beschlussvorschlag": "Die Strategie wird beschlossen.\nBericht jährlich.",
        "sv_key": ["leitlinien", "buendnis-fuer-vielfalt", "vielfaltsmanagement"],
        "sv_title_leitlinien": "Leitlinien – konzeptioneller Rahmen",
        "sv_text_leitlinien": "Rahmen",
        "sv_title_buendnis-fuer-vielfalt": "Bündnis für Vielfalt – Vernetzung",
        "sv_text_buendnis-fuer-vielfalt": "Bündnis",
        "sv_title_vielfaltsmanagement": "Vielfaltsmanagement – Diversity Management",
        "sv_text_vielfaltsmanagement": "Management",
        "finanzielle_auswirkungen": "Keine.", "bf_rows": "3",
        "bf_body_0": "Sozialausschuss", "bf_role_0": "vorberatung", "bf_date_0": "2027-11-10",
        "bf_body_1": "Stadtverordnetenversammlung", "bf_role_1": "entscheidung",
        "bf_date_1": "2027-12-02", "bf_body_2": "", "bf_role_2": "vorberatung", "bf_date_2": "",
        "federfuehrung": "Fachbereich Gesellschaft und Bildung", "anlagen": "Strategiepapier"}
    form.update(over)
    return form


async def test_coordinator_and_clerk_pages(papp, api, worker, make_committed_staff):  # type: ignore[no-untyped-def]
    c = await council(api, make_committed_staff)
    url = f"/app/processes/{c.process_id}/resolution"
    async with browser(papp, c.org.coordinator) as web:
        detail = await web.get(f"/app/processes/{c.process_id}")
        assert f'href="{url}"' in detail.text
        page = await web.get(url)
        assert page.status_code == 200
        assert "Noch keine Fassung erstellt." in page.text
        assert '<label for="sv-leitlinien">Leitlinien – konzeptioneller Rahmen</label>' in page.text
        csrf = await form_token(web, url)
        # Two deciding bodies: the form comes back with the error and the typed values.
        r = await web.post(f"{url}/draft", data=edit_form(csrf, bf_role_0="entscheidung"))
        assert r.status_code == 422 and 'class="error-summary"' in r.text
        assert "genau ein entscheidendes Gremium" in r.text
        assert 'value="Vielfaltsstrategie &lt;i&gt;WIRkt!&lt;/i&gt;"' in r.text
        r = await web.post(f"{url}/draft", data=edit_form(csrf))
        assert r.status_code == 303 and r.headers["location"].endswith("ok=saved")
        preview = await web.get(f"{url}/preview")
        assert preview.status_code == 200 and "&lt;i&gt;WIRkt!&lt;/i&gt;" in preview.text
        r = await web.post(f"{url}/compile", data={"csrf_token": csrf})
        assert r.status_code == 303
        page = await web.get(r.headers["location"])
        assert "Eine neue Fassung wurde erstellt." in page.text
        assert "beschlussvorlage-1.pdf" in page.text and "nicht angefragt" in page.text
        assert "Freigabe von Fassung 1 bei der Steuerungsgruppe anfragen" in page.text
        assert "an den Sitzungsdienst übergeben</button>" not in page.text
        r = await web.post(f"{url}/versions/1/approval", data={"csrf_token": csrf})
        assert r.status_code == 303
        body = (await api.get(f"{c.base}/resolution", headers=c.coord)).json()
        approval_id = body["versions"][0]["approval_id"]
    async with browser(papp, c.org.steering[0]) as web:
        a_url = f"/app/approvals/{approval_id}"
        token = await form_token(web, a_url)
        r = await web.post(f"{a_url}/decision", data={"csrf_token": token,
                                                      "decision": "approve"})
        assert r.status_code == 303, r.text
    await poll(api, f"{c.base}/resolution", c.coord,
               lambda b: b["versions"][0]["approval_status"] == "approved")
    async with browser(papp, c.org.coordinator) as web:
        page = await web.get(url)
        assert "Fassung 1 an den Sitzungsdienst übergeben</button>" in page.text
        csrf = await form_token(web, url)
        r = await web.post(f"{url}/submit", data={"csrf_token": csrf})
        assert r.status_code == 303
        page = await web.get(r.headers["location"])
        assert "beim Sitzungsdienst eingegangen" in page.text
        assert "Vorlage bearbeiten" not in page.text
        rid = (await api.get(f"{c.base}/resolution", headers=c.coord)).json()["versions"][0]["id"]
        # A coordinator sees the clerk's page without its actions.
        page = await web.get(f"/app/clerk/resolutions/{rid}")
        assert page.status_code == 200 and "Eingang bestätigen" not in page.text

    v_url = f"/app/clerk/resolutions/{rid}"
    async with browser(papp, c.clerk) as web:
        home = await web.get("/app")
        assert 'href="/app/clerk"' in home.text
        inbox = await web.get("/app/clerk")
        assert "Neu eingegangen" in inbox.text and f'href="{v_url}"' in inbox.text
        page = await web.get(v_url)
        assert "Eingang bestätigen</button>" in page.text
        assert "Sitzung eintragen" not in page.text and "Ergebnis der Sitzung" not in page.text
        assert "beschlussvorlage-1.docx" in page.text
        token = await form_token(web, v_url)
        r = await web.post(f"{v_url}/received", data={"csrf_token": token})
        assert r.status_code == 303
        page = await web.get(v_url)
        assert "Eingang bestätigen</button>" not in page.text and "Sitzung eintragen" in page.text
        assert 'value="Stadtverordnetenversammlung"' in page.text  # the deciding body
        assert "Ergebnis der Sitzung" not in page.text
        r = await web.post(f"{v_url}/scheduled", data={"csrf_token": token,
                                                       "body": "Stadtverordnetenversammlung",
                                                       "meeting_date": "kein Datum"})
        assert r.status_code == 422 and "JJJJ-MM-TT" in r.text
        r = await web.post(f"{v_url}/scheduled", data={"csrf_token": token,
                                                       "body": "Stadtverordnetenversammlung",
                                                       "meeting_date": "2027-12-02"})
        assert r.status_code == 303
        inbox = await web.get("/app/clerk")
        assert "Warten auf eine Sitzung" in inbox.text and "02.12.2027" in inbox.text
        page = await web.get(v_url)
        assert "Ergebnis der Sitzung" in page.text
        r = await web.post(f"{v_url}/outcome", data={"csrf_token": token, "outcome": "amended",
                                                     "decided_on": "2027-12-02"})
        assert r.status_code == 422 and "beschlossenen Wortlaut" in r.text
        r = await web.post(f"{v_url}/outcome", data={"csrf_token": token, "outcome": "adopted",
                                                     "decided_on": "2027-12-02",
                                                     "minutes_ref": "SVV 12/2027"})
        assert r.status_code == 303
        page = await web.get(v_url)
        assert "Beschlossen am 02.12.2027 (Niederschrift SVV 12/2027)" in page.text
        assert "Ergebnis der Sitzung" not in page.text and "Sitzung eintragen" not in page.text
    await poll(api, c.base, c.coord, lambda b: b["status"] == "completed")
    async with browser(papp, c.org.coordinator) as web:
        timeline = (await web.get(f"/app/processes/{c.process_id}")).text
        for label in ("Beschlussvorlage an den Sitzungsdienst übergeben",
                      "Sitzungsdienst: Eingang bestätigt", "Beschluss des Rates"):
            assert label in timeline, label

    other = await make_committed_staff(role=Role.clerk)
    async with browser(papp, other) as web:
        assert (await web.get(v_url)).status_code == 404
        assert (await web.get(url)).status_code == 404
        assert rid not in (await web.get("/app/clerk")).text


async def test_clerk_form_values_beyond_the_columns_are_422(papp, api, worker,  # type: ignore[no-untyped-def]
                                                             make_committed_staff):
    """The page's form has no length limit of its own: a body or minutes reference longer than
    its column is refused with the error summary (it used to reach the workflow, whose write
    then failed on every retry and held the clerk's request until Temporal gave up)."""
    from tests.support.resolutions import submitted

    c = await council(api, make_committed_staff)
    rid = await submitted(api, c)
    v_url = f"/app/clerk/resolutions/{rid}"
    async with browser(papp, c.clerk) as web:
        token = await form_token(web, v_url)
        assert (await web.post(f"{v_url}/received", data={"csrf_token": token})).status_code == 303
        r = await web.post(f"{v_url}/scheduled", data={"csrf_token": token, "body": "G" * 301,
                                                       "meeting_date": "2027-12-02"})
        assert r.status_code == 422 and "Höchstens 300 Zeichen." in r.text
        r = await web.post(f"{v_url}/scheduled", data={"csrf_token": token, "body": "SVV",
                                                       "meeting_date": "2027-12-02"})
        assert r.status_code == 303
        r = await web.post(f"{v_url}/outcome", data={"csrf_token": token, "outcome": "adopted",
                                                     "decided_on": "2027-12-02",
                                                     "minutes_ref": "N" * 301})
        assert r.status_code == 422 and "Höchstens 300 Zeichen." in r.text
        r = await web.post(f"{v_url}/outcome", data={"csrf_token": token, "outcome": "adopted",
                                                     "decided_on": "2027-12-02"})
        assert r.status_code == 303
