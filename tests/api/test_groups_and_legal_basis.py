"""An organisation's known groups and every stakeholder's legal basis, through the API: the
import rejects unknown groups (naming the known ones) unless asked to create them, and rows
without a legal basis."""

from __future__ import annotations

from datetime import date

from services.models.organisation import Role
from services.processes.service import create_process
from services.stakeholders.service import list_groups


def _csv(*rows: str, header: str = "name,email,group") -> dict:
    return {"file": ("liste.csv", ("\n".join((header, *rows)) + "\n").encode(), "text/csv")}


async def _org(client, make_staff, *groups: str, public_task: str | None = None):  # type: ignore[no-untyped-def]
    staff = await make_staff(role=Role.coordinator)
    for label in groups:
        r = await client.post(f"/api/v1/orgs/{staff.org_slug}/groups", json={"label": label},
                              headers=staff.headers)
        assert r.status_code == 201, r.text
    if public_task:
        admin = await make_staff(role=Role.admin, org_slug=staff.org_slug)
        r = await client.patch(f"/api/v1/orgs/{staff.org_slug}", headers=admin.headers,
                               json={"public_task_basis": public_task})
        assert r.status_code == 200 and r.json()["public_task_basis"] == public_task, r.text
    return staff


async def test_import_rejects_an_unknown_group_naming_the_known_ones(client, make_staff):
    staff = await _org(client, make_staff, "Politik", "Verwaltung", public_task="§ 5 HGO")
    url = f"/api/v1/orgs/{staff.org_slug}/stakeholders/import"
    r = await client.post(url, files=_csv("Anna,anna@example.org,Politik",
                                          "Zork,zork@example.org,Marsianer"),
                          headers=staff.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["created"] == 1 and body["updated"] == 0
    assert body["rejected"] == [{
        "row": 3, "field": "group", "column": "group",
        "message": "Unbekannte Gruppe 'marsianer'. Bekannte Gruppen: politik, verwaltung."}]
    groups = (await client.get(f"/api/v1/orgs/{staff.org_slug}/groups",
                               headers=staff.headers)).json()
    assert [g["key"] for g in groups] == ["politik", "verwaltung"]  # no phantom group

    # Asked for (form field): the import creates the group, labelled as the file wrote it.
    r = await client.post(url, files=_csv("Zork,zork@example.org,Marsianer"),
                          data={"create_groups": "true"}, headers=staff.headers)
    assert r.json() == {"created": 1, "updated": 0, "rejected": []}
    groups = (await client.get(f"/api/v1/orgs/{staff.org_slug}/groups",
                               headers=staff.headers)).json()
    assert {"key": "marsianer", "label": "Marsianer", "source": "import"} in groups


async def test_single_create_rejects_an_unknown_group(client, make_staff):
    staff = await _org(client, make_staff, "Politik", public_task="§ 5 HGO")
    r = await client.post(f"/api/v1/orgs/{staff.org_slug}/stakeholders", headers=staff.headers,
                          json={"name": "Zork", "email": "zork@example.org",
                                "group": "Marsianer"})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "unknown_group" and "Bekannte Gruppen: politik" in error["message"]
    assert error["details"][0]["field"] == "group"


async def test_groups_api(client, make_staff):
    staff = await _org(client, make_staff, "Jugendforum")
    r = await client.post(f"/api/v1/orgs/{staff.org_slug}/groups", headers=staff.headers,
                          json={"label": "Jugendforum"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "group_exists"
    r = await client.post(f"/api/v1/orgs/{staff.org_slug}/groups", headers=staff.headers,
                          json={"label": ""})
    assert r.status_code == 422
    steering = await make_staff(role=Role.steering, org_slug=staff.org_slug)
    r = await client.get(f"/api/v1/orgs/{staff.org_slug}/groups", headers=steering.headers)
    assert r.json() == [{"key": "jugendforum", "label": "Jugendforum", "source": "manual"}]
    r = await client.post(f"/api/v1/orgs/{staff.org_slug}/groups", headers=steering.headers,
                          json={"label": "Anderes"})
    assert r.status_code == 403
    other = await make_staff(role=Role.coordinator)
    r = await client.get(f"/api/v1/orgs/{staff.org_slug}/groups", headers=other.headers)
    assert r.status_code == 404


async def test_a_process_makes_its_templates_groups_known(session, make_staff):
    from services.models.organisation import Organisation

    staff = await make_staff(role=Role.coordinator)
    org = await session.get_one(Organisation, staff.org_id)
    await create_process(session, org, template_key="weiterstadt-vielfaltsstrategie",
                         title="WIRkt!", starts_on=date(2027, 2, 1), actor=None)
    groups = await list_groups(session, org.id)
    assert {g.key for g in groups} >= {"engagierte-buergerinnen", "verwaltung", "politik",
                                       "zivilgesellschaft-mandat", "zivilgesellschaft",
                                       "lokale-kooperationspartner",
                                       "regionale-kooperationspartner"}
    assert {g.source for g in groups} == {"template"}


async def test_import_records_a_legal_basis_per_row(client, make_staff):
    staff = await _org(client, make_staff, "Politik")
    url = f"/api/v1/orgs/{staff.org_slug}/stakeholders/import"
    header = "name,email,group,legal_basis,consent_at"
    r = await client.post(url, headers=staff.headers, files=_csv(
        "Ohne,ohne@example.org,Politik,,",                               # row 2: none
        "Mit,mit@example.org,Politik,,2026-02-03",                       # row 3: consent
        "Aufgabe,aufgabe@example.org,Politik,public_task,",              # row 4: not declared
        "Datum fehlt,datum@example.org,Politik,Einwilligung,",           # row 5: no date
        "Unsinn,unsinn@example.org,Politik,weil ich es will,",           # row 6: no such basis
        header=header))
    body = r.json()
    assert body["created"] == 1, body
    assert {(x["row"], x["field"]) for x in body["rejected"]} == {
        (2, "legal_basis"), (4, "legal_basis"), (5, "consent_at"), (6, "legal_basis")}
    listed = (await client.get(f"/api/v1/orgs/{staff.org_slug}/stakeholders",
                               headers=staff.headers)).json()["items"]
    assert [(i["email"], i["legal_basis"]) for i in listed] == [("mit@example.org", "consent")]

    # Once the organisation declares its public task, that is the default for rows without
    # consent; only an admin declares it.
    r = await client.patch(f"/api/v1/orgs/{staff.org_slug}", headers=staff.headers,
                           json={"public_task_basis": "§ 5 HGO"})
    assert r.status_code == 403
    admin = await make_staff(role=Role.admin, org_slug=staff.org_slug)
    r = await client.patch(f"/api/v1/orgs/{staff.org_slug}", headers=admin.headers,
                           json={"public_task_basis": "§ 5 HGO"})
    assert r.status_code == 200
    r = await client.post(url, headers=staff.headers, files=_csv(
        "Ohne,ohne@example.org,Politik,,", "Aufgabe,aufgabe@example.org,Politik,public_task,",
        header=header))
    assert r.json() == {"created": 2, "updated": 0, "rejected": []}
    r = await client.post(f"/api/v1/orgs/{staff.org_slug}/stakeholders", headers=staff.headers,
                          json={"name": "Einzeln", "email": "einzeln@example.org",
                                "group": "politik"})
    assert r.status_code == 201 and r.json()["legal_basis"] == "public_task"


async def test_single_create_without_legal_basis_is_422(client, make_staff):
    staff = await _org(client, make_staff, "Politik")
    r = await client.post(f"/api/v1/orgs/{staff.org_slug}/stakeholders", headers=staff.headers,
                          json={"name": "Ohne", "email": "ohne@example.org", "group": "politik"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "legal_basis_missing"
    assert r.json()["error"]["details"][0]["field"] == "legal_basis"
