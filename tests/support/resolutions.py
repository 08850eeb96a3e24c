"""Helpers for the council-resolution tests: a process in its Beschlussphase, a complete draft,
an approved version, submitted to the clerk (through the real API and workflows)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from httpx import AsyncClient

from services.models.organisation import Role
from tests.support.process_harness import TestOrg, make_org

WEITERSTADT = "weiterstadt-vielfaltsstrategie"
EARLIER = ["planung", "kick-off", "beteiligung-1", "bergfest", "beteiligung-2", "abschluss"]


def draft_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "betreff": "Kommunale Vielfalts- und Integrationsstrategie „WIRkt!“",
        "beschluss_intro": "Die Stadtverordnetenversammlung beschließt:",
        "beschlussvorschlag": ["Die Strategie wird beschlossen.",
                               "Der Magistrat berichtet jährlich."],
        "sachverhalt": [
            {"key": "leitlinien", "title": "Leitlinien – konzeptioneller Rahmen",
             "text": "Leitlinien für die Zusammenarbeit."},
            {"key": "buendnis-fuer-vielfalt", "title": "Bündnis für Vielfalt – Vernetzung",
             "text": "Ein Bündnis aller Akteure."},
            {"key": "vielfaltsmanagement", "title": "Vielfaltsmanagement – Diversity Management",
             "text": "Steuerung der Umsetzung."}],
        "finanzielle_auswirkungen": "Keine zusätzlichen Mittel.",
        "beratungsfolge": [
            {"body": "Sozialausschuss", "role": "vorberatung", "date": "2027-11-10"},
            {"body": "Stadtverordnetenversammlung", "role": "entscheidung",
             "date": "2027-12-02"}],
        "federfuehrung": "Fachbereich Gesellschaft und Bildung",
        "anlagen": ["Strategiepapier"],
    }
    body.update(overrides)
    return body


@dataclass
class Council:
    org: TestOrg
    clerk: Any
    process_id: str

    @property
    def coord(self) -> dict[str, str]:
        return self.org.coordinator.headers  # type: ignore[no-any-return]

    @property
    def base(self) -> str:
        return f"/api/v1/processes/{self.process_id}"


async def council(api: AsyncClient, make_staff: Any, steering: int = 1) -> Council:
    """A Weiterstadt process skipped to its Beschlussphase, with a clerk in the organisation."""
    org = await make_org(make_staff, steering=steering)
    clerk = await make_staff(role=Role.clerk, org_slug=org.slug)
    r = await api.post(f"/api/v1/orgs/{org.slug}/processes", headers=org.coordinator.headers,
                       json={"template": WEITERSTADT, "title": "Weiterstadt WIRkt!",
                             "starts_on": "2027-02-01"})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    for key in EARLIER:
        r = await api.post(f"/api/v1/processes/{pid}/phases/{key}/skip",
                           headers=org.coordinator.headers, json={"reason": "im Test"})
        assert r.status_code == 200, r.text
    assert r.json()["current_phase"] == "beschluss"
    return Council(org, clerk, pid)


async def approved_version(api: AsyncClient, c: Council, **draft: Any) -> dict[str, Any]:
    r = await api.put(f"{c.base}/resolution/draft", headers=c.coord, json=draft_body(**draft))
    assert r.status_code == 200, r.text
    r = await api.post(f"{c.base}/resolution/draft", headers=c.coord)
    assert r.status_code == 201, r.text
    version = r.json()
    r = await api.post(f"{c.base}/resolution/drafts/{version['number']}/approval",
                       headers=c.coord)
    assert r.status_code == 201, r.text
    approval_id = r.json()["approval_id"]
    for member in c.org.steering:
        r = await api.post(f"/api/v1/approvals/{approval_id}/decision", headers=member.headers,
                           json={"decision": "approve", "comment": "Gute Vorlage"})
        assert r.status_code == 200, r.text
    await poll(api, f"{c.base}/resolution", c.coord,
               lambda b: b["versions"][version["number"] - 1]["approval_status"] == "approved")
    return version


async def submitted(api: AsyncClient, c: Council, **draft: Any) -> str:
    version = await approved_version(api, c, **draft)
    r = await api.post(f"{c.base}/resolution/submit", headers=c.coord, json={})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "submitted"
    rid = r.json()["id"]
    assert rid == version["id"]
    return rid  # type: ignore[no-any-return]


async def poll(api: AsyncClient, url: str, headers: dict[str, str], pred: Any,
               timeout: float = 15) -> Any:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        body = (await api.get(url, headers=headers)).json()
        if pred(body):
            return body
        assert loop.time() < end, body
        await asyncio.sleep(0.05)


def new_id() -> str:
    return str(uuid.uuid4())
