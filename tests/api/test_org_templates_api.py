"""An organisation's own templates: uploaded as YAML, versioned, visible only to its members,
used exactly like a shipped one. Against real PostgreSQL (committed) and the time-skipping
Temporal server with the process worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import yaml
from httpx import ASGITransport, AsyncClient

from services.models.organisation import Role
from tests.api.test_processes_api import error_code, poll
from tests.support.process_harness import make_org

SHIPPED = "weltoffene-kommune-selbstcheck"
YAML = {"Content-Type": "application/yaml"}


@pytest.fixture
async def api(papp) -> AsyncIterator[AsyncClient]:  # type: ignore[no-untyped-def]
    async with AsyncClient(transport=ASGITransport(app=papp), base_url="http://testserver") as c:
        yield c


async def upload(api: AsyncClient, slug: str, headers: dict[str, str], data: Any,
                 kind: str = "process") -> Any:
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True,
                                                             sort_keys=False)
    return await api.post(f"/api/v1/orgs/{slug}/templates?kind={kind}",
                          headers=headers | YAML, content=text.encode())


def own_survey(shipped_yaml: str) -> dict[str, Any]:
    """The town's own survey, copied from a shipped one with a question of its own."""
    data = yaml.safe_load(shipped_yaml)
    data.update(key="musterstadt-buergerumfrage", derived_from="weiterstadt-bedarfe-und-wuensche",
                title={"de": "Bürgerumfrage Musterstadt"})
    data["questions"] = data["questions"][:2] + [
        {"id": "treffpunkt", "kind": "text", "text": "Wo treffen Sie Ihre Nachbarn?"}]
    return data


def own_process(shipped_yaml: str) -> dict[str, Any]:
    """A process copied from a shipped one: other phases, a survey of its own."""
    data = yaml.safe_load(shipped_yaml)
    phases = {p["key"]: p for p in data["phases"]}
    survey_phase = {"key": "buergerumfrage", "title": "Bürgerumfrage", "kind": "participation",
                    "window": {"start": "P1M", "end": "P2M"}}
    auswertung = phases["auswertung"] | {"window": {"start": "P2M", "end": "P3M"},
                                         "gate": {"rule": "any", "deadline_days": 10}}
    massnahmen = phases["massnahmen"] | {"window": {"start": "P3M", "end": "P4M"}}
    massnahmen.pop("gate")
    data.update(key="musterstadt-dialog", derived_from=SHIPPED, title="Musterstadt im Dialog",
                phases=[phases["vorbereitung"], survey_phase, auswertung, massnahmen],
                surveys=[{"key": "buergerumfrage", "survey": "musterstadt-buergerumfrage",
                          "title": "Bürgerumfrage", "phase": "buergerumfrage"}],
                events=[], draft_sections=data["draft_sections"][:2])
    return data


async def test_an_organisation_runs_a_process_from_its_own_template(  # type: ignore[no-untyped-def]
        api, worker, make_committed_staff):
    org = await make_org(make_committed_staff, steering=1)
    admin = await make_committed_staff(role=Role.admin, org_slug=org.slug)
    h = org.coordinator.headers

    # Starting points: the shipped files, downloaded as they are.
    r = await api.get(f"/api/v1/templates/{SHIPPED}.yaml", headers=admin.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/yaml")
    shipped_process = r.text
    r = await api.get("/api/v1/templates/weiterstadt-bedarfe-und-wuensche.yaml?kind=survey",
                      headers=admin.headers)
    assert r.status_code == 200
    survey = own_survey(r.text)
    process_template = own_process(shipped_process)

    # The process names a survey that does not exist yet: refused, naming the path.
    r = await upload(api, org.slug, admin.headers, process_template)
    assert r.status_code == 422 and error_code(r) == "invalid_template"
    assert {"field": "surveys[0] (buergerumfrage).survey",
            "message": "es gibt keine Umfragevorlage 'musterstadt-buergerumfrage'"} in (
        r.json()["error"]["details"])
    # Only the organisation's admin uploads.
    assert (await upload(api, org.slug, h, survey, kind="survey")).status_code == 403

    r = await upload(api, org.slug, admin.headers, survey, kind="survey")
    assert r.status_code == 201, r.text
    b = r.json()
    assert (b["key"], b["version"], b["origin"], b["questions"]) == (
        "musterstadt-buergerumfrage", 1, "organisation", 3)
    r = await upload(api, org.slug, admin.headers, process_template)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["key"], body["version"], body["phases"], body["gates"]) == (
        "musterstadt-dialog", 1, 4, 1)
    assert body["derived_from"] == SHIPPED and body["created_by"] == admin.email
    # The same file again stores nothing new; a changed one is the next version.
    r = await upload(api, org.slug, admin.headers, process_template)
    assert r.status_code == 200 and r.json()["version"] == 1 and r.json()["created"] is False
    process_template["title"] = "Musterstadt im Dialog 2027"
    r = await upload(api, org.slug, admin.headers, process_template)
    assert r.status_code == 201 and r.json()["version"] == 2

    # Members see it beside the shipped ones, coordinators and steering alike.
    listed = (await api.get("/api/v1/templates", headers=h)).json()
    own = [t for t in listed if t["key"] == "musterstadt-dialog"]
    assert [(t["origin"], t["version"]) for t in own] == [("organisation", 2)]
    assert SHIPPED in {t["key"] for t in listed}
    detail = (await api.get("/api/v1/templates/musterstadt-dialog",
                            headers=org.steering[0].headers)).json()
    assert [p["key"] for p in detail["phases"]] == [
        "vorbereitung", "buergerumfrage", "auswertung", "massnahmen"]
    surveys = (await api.get("/api/v1/survey-templates", headers=h)).json()
    assert "musterstadt-buergerumfrage" in {t["key"] for t in surveys}
    r = await api.get("/api/v1/templates/musterstadt-buergerumfrage?kind=survey", headers=h)
    assert r.status_code == 200 and r.json()["questions"][-1]["id"] == "treffpunkt"
    stranger = await make_committed_staff(role=Role.admin)
    r = await api.get("/api/v1/templates/musterstadt-buergerumfrage?kind=survey",
                      headers=stranger.headers)
    assert r.status_code == 404 and error_code(r) == "template_not_found"
    surveys = (await api.get("/api/v1/survey-templates", headers=stranger.headers)).json()
    assert "musterstadt-buergerumfrage" not in {t["key"] for t in surveys}
    versions = (await api.get(f"/api/v1/orgs/{org.slug}/templates", headers=h)).json()
    assert [(t["key"], t["version"]) for t in versions] == [
        ("musterstadt-dialog", 2), ("musterstadt-dialog", 1), ("musterstadt-buergerumfrage", 1)]

    # Started like a shipped one.
    r = await api.post(f"/api/v1/orgs/{org.slug}/processes", headers=h, json={
        "template": "musterstadt-dialog", "title": "Musterstadt redet mit",
        "starts_on": "2027-02-01"})
    assert r.status_code == 201, r.text
    process = r.json()
    pid, base = process["id"], f"/api/v1/processes/{process['id']}"
    assert process["template"] == "musterstadt-dialog" and process["template_version"] == 2
    assert [p["key"] for p in process["phases"]] == [
        "vorbereitung", "buergerumfrage", "auswertung", "massnahmen"]
    assert process["phases"][1]["planned_start"] == "2027-03-01"

    # A new version later does not change the running process (it keeps its snapshot).
    process_template["phases"] = process_template["phases"][:2]
    r = await upload(api, org.slug, admin.headers, process_template)
    assert r.status_code == 201 and r.json()["version"] == 3

    # The survey the template names starts from the organisation's own survey template.
    r = await api.post(f"{base}/surveys", headers=h, json={"from_template": "buergerumfrage"})
    assert r.status_code == 201, r.text
    assert r.json()["phase"] == "buergerumfrage"
    assert r.json()["title"]["de"] == "Bürgerumfrage Musterstadt"
    assert r.json()["template_key"] == "musterstadt-buergerumfrage"
    assert [q["id"] for q in r.json()["questions"]][-1] == "treffpunkt"

    # Through every phase to the end.
    for item in ("projektteam", "fachbereiche"):
        r = await api.post(f"{base}/phases/vorbereitung/checklist/{item}", headers=h,
                           json={"done": True})
        assert r.status_code == 200, r.text
    r = await api.post(f"{base}/advance", headers=h, json={"expected_current": "vorbereitung"})
    assert r.status_code == 200 and r.json()["current_phase"] == "buergerumfrage", r.text
    r = await api.post(f"{base}/advance", headers=h, json={"expected_current": "buergerumfrage"})
    assert r.status_code == 200 and r.json()["current_phase"] == "auswertung", r.text
    for item in ("punktwerte", "staerken-schwaechen"):
        await api.post(f"{base}/phases/auswertung/checklist/{item}", headers=h,
                       json={"done": True})
    r = await api.post(f"{base}/advance", headers=h, json={"expected_current": "auswertung"})
    assert r.status_code == 200 and r.json()["status"] == "awaiting_approval", r.text
    a_url = f"/api/v1/approvals/{r.json()['approval_id']}"
    steering = org.steering[0].headers
    await poll(api, a_url, steering, lambda b: len(b.get("voters", [])) == 1)
    r = await api.post(f"{a_url}/decision", headers=steering, json={"decision": "approve"})
    assert r.status_code == 200, r.text
    await poll(api, base, h, lambda b: b["current_phase"] == "massnahmen")
    for item in ("massnahmenplan", "vorlage"):
        await api.post(f"{base}/phases/massnahmen/checklist/{item}", headers=h,
                       json={"done": True})
    r = await api.post(f"{base}/advance", headers=h, json={"expected_current": "massnahmen"})
    assert r.status_code == 200, r.text
    done = await poll(api, base, h, lambda b: b["status"] == "completed")
    assert done["current_phase"] is None
    assert {p["key"]: p["status"] for p in done["phases"]} == {
        "vorbereitung": "completed", "buergerumfrage": "completed", "auswertung": "completed",
        "massnahmen": "completed"}
    assert pid == done["id"]


async def test_another_organisation_never_sees_them(api, worker, make_committed_staff):  # type: ignore[no-untyped-def]
    mine = await make_committed_staff(role=Role.admin)
    other = await make_committed_staff(role=Role.admin)
    r = await api.get(f"/api/v1/templates/{SHIPPED}.yaml", headers=mine.headers)
    data = yaml.safe_load(r.text) | {"key": "nur-fuer-uns"}
    assert (await upload(api, mine.org_slug, mine.headers, data)).status_code == 201

    for url in ("/api/v1/templates/nur-fuer-uns", "/api/v1/templates/nur-fuer-uns.yaml",
                f"/api/v1/orgs/{mine.org_slug}/templates",
                f"/api/v1/templates?org={mine.org_slug}"):
        r = await api.get(url, headers=other.headers)
        assert r.status_code == 404, (url, r.text)
    listed = (await api.get("/api/v1/templates", headers=other.headers)).json()
    assert "nur-fuer-uns" not in {t["key"] for t in listed}
    assert (await upload(api, mine.org_slug, other.headers, data)).status_code == 404
    r = await api.post(f"/api/v1/orgs/{other.org_slug}/processes", headers=other.headers,
                       json={"template": "nur-fuer-uns", "title": "x", "starts_on": "2027-02-01"})
    assert r.status_code == 422 and error_code(r) == "unknown_template"
    # The owner starts it.
    r = await api.post(f"/api/v1/orgs/{mine.org_slug}/processes", headers=mine.headers,
                       json={"template": "nur-fuer-uns", "title": "x", "starts_on": "2027-02-01"})
    assert r.status_code == 201, r.text


async def test_the_platform_admin_shares_a_template(api, make_committed_staff):  # type: ignore[no-untyped-def]
    root = await make_committed_staff(role=Role.admin, platform_admin=True)
    member = await make_committed_staff(role=Role.coordinator)
    r = await api.get(f"/api/v1/templates/{SHIPPED}.yaml", headers=root.headers)
    text = r.text.replace(f"key: {SHIPPED}", "key: geteilt-fuer-alle", 1)
    r = await api.post("/api/v1/templates", headers=member.headers | YAML, content=text)
    assert r.status_code == 403
    r = await api.post("/api/v1/templates", headers=root.headers | YAML, content=text)
    assert r.status_code == 201 and r.json()["origin"] == "platform", r.text
    listed = (await api.get("/api/v1/templates", headers=member.headers)).json()
    assert ("geteilt-fuer-alle", "platform") in {(t["key"], t["origin"]) for t in listed}
    r = await api.get("/api/v1/templates/geteilt-fuer-alle", headers=member.headers)
    assert r.status_code == 200 and r.json()["key"] == "geteilt-fuer-alle"


@pytest.mark.parametrize(("text", "field", "message"), [
    ("key: [unclosed", "Zeile 1, Spalte 15", "kein gültiges YAML"),
    ("- nur\n- eine Liste\n", "", "YAML-Objekt"),
    ("a: &x [1, 2]\nb: *x\n", "Zeile 1, Spalte 4", "Anker und Verweise"),
    ('key: "a\\0b"\n', "Zeile 1, Spalte 6", "Nullzeichen"),
    ("!!python/object/apply:os.system ['true']\n", "", "kein gültiges YAML"),
])
async def test_bad_files_are_422_naming_where(api, make_committed_staff, text, field,  # type: ignore[no-untyped-def]
                                              message):
    admin = await make_committed_staff(role=Role.admin)
    r = await upload(api, admin.org_slug, admin.headers, text)
    assert r.status_code == 422 and error_code(r) == "invalid_template", r.text
    detail = r.json()["error"]["details"][0]
    assert detail["field"].startswith(field) and message in detail["message"], detail


async def test_a_yaml_bomb_and_a_huge_file_are_refused(api, make_committed_staff):  # type: ignore[no-untyped-def]
    admin = await make_committed_staff(role=Role.admin)
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}]\n" for i in range(9))
    r = await upload(api, admin.org_slug, admin.headers, bomb)
    assert r.status_code == 422 and "Anker" in r.json()["error"]["details"][0]["message"]
    many = "questions:\n" + "  - 1\n" * 25_000
    r = await upload(api, admin.org_slug, admin.headers, many, kind="survey")
    assert r.status_code == 422 and "zu groß" in r.json()["error"]["details"][0]["message"]
    huge = "title: " + "x" * 300_000
    r = await upload(api, admin.org_slug, admin.headers, huge)
    assert r.status_code == 413 and error_code(r) == "template_too_large"
    r = await api.post(f"/api/v1/orgs/{admin.org_slug}/templates?kind=vorlage",
                       headers=admin.headers | YAML, content=b"key: x")
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "kind"


async def test_survey_template_errors_name_the_question(api, make_committed_staff):  # type: ignore[no-untyped-def]
    admin = await make_committed_staff(role=Role.admin)
    data = {"key": "kaputt", "title": "Kaputt", "questions": [
        {"id": "eins", "kind": "likert", "text": "Gut?", "requird": True},
        {"id": "zwei", "kind": "single", "text": "Welche?", "options": [
            {"value": "a", "label": "A", "farbe": "rot"}]},
        {"id": "drei", "kind": "raten", "text": "?"},
        {"id": "eins", "kind": "text", "text": "Noch einmal?"}], "farbe": "blau"}
    r = await upload(api, admin.org_slug, admin.headers, data, kind="survey")
    assert r.status_code == 422, r.text
    fields = {d["field"]: d["message"] for d in r.json()["error"]["details"]}
    assert "mindestens zwei Antwortmöglichkeiten" in fields["questions[1] (zwei)"]
    assert "questions[2] (drei).kind" in fields
    assert fields["farbe"] == "unbekanntes Feld"
    # Typos inside questions are named too, not dropped without a word.
    assert fields["questions[0] (eins).requird"] == "unbekanntes Feld"
    assert fields["questions[1] (zwei).options[0].farbe"] == "unbekanntes Feld"
    assert fields["questions[3] (eins).id"] == "Kennung 'eins' kommt doppelt vor"
