"""Issue 12: stakeholders in the six participant languages, by code or by name, on import and
in the single create; anything else is refused naming the field."""

from __future__ import annotations

from sqlalchemy import select

from services.models.organisation import Role
from services.models.stakeholder import Stakeholder
from tests.api.test_stakeholders_import import HEADER, _prepare, _upload


async def test_import_and_create_take_the_six_languages(client, session, make_staff):
    staff = await make_staff(role=Role.coordinator)
    await _prepare(client, make_staff, staff, groups=("politik",))
    cells = {"tr": "tr", "ar": "Arabisch", "uk": "uk-UA", "de-x-ls": "Leichte Sprache",
             "en": "EN", "de": ""}
    csv = HEADER + "".join(f"P {lang},{lang}@example.org,person,politik,1,,{cell}\n"
                           for lang, cell in cells.items()) + \
        "Fritz,fritz@example.org,person,politik,1,,fr\n"
    r = await client.post(f"/api/v1/orgs/{staff.org_slug}/stakeholders/import",
                          files=_upload("liste.csv", csv.encode()), headers=staff.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["created"] == 6
    assert [(x["row"], x["field"]) for x in body["rejected"]] == [(8, "language")]
    stored = dict((await session.execute(select(Stakeholder.email, Stakeholder.language).where(
        Stakeholder.organisation_id == staff.org_id))).all())
    assert stored == {f"{lang}@example.org": lang for lang in cells}

    r = await client.post(f"/api/v1/orgs/{staff.org_slug}/stakeholders", headers=staff.headers,
                          json={"name": "Lea", "email": "lea@example.org", "group": "politik",
                                "language": "de-x-ls"})
    assert r.status_code == 201, r.text
    assert r.json()["language"] == "de-x-ls"
    bad = await client.post(f"/api/v1/orgs/{staff.org_slug}/stakeholders", headers=staff.headers,
                            json={"name": "Fritz", "email": "f2@example.org", "group": "politik",
                                  "language": "fr"})
    assert bad.status_code == 422 and "language" in bad.text
