"""OParl 1.1 objects of submitted resolutions (https://oparl.org/spezifikation/).

Read-only and public, as OParl is: a System; each organisation a Body; each version that reached
the clerk a Paper (paperType "Beschlussvorlage") with its Files (mainFile: the PDF;
auxiliaryFile: the participation report) and one Consultation per body of the Beratungsfolge
(the deciding one `authoritative`); the Federführung and the bodies as Organizations. Every
object, embedded ones too, carries `created` and `modified`; a paper's `modified` moves with
every step at the clerk's office. Lists are paged as OParl prescribes (data, pagination, links).
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from infra.config import get_settings
from services.errors import NotFound
from services.identity.repository import IdentityRepository
from services.models.organisation import Organisation
from services.models.process import Process
from services.models.resolution import ResolutionFile, ResolutionVersion
from services.processes.repository import ProcessRepository
from services.resolutions.repository import DELIVERED, ResolutionRepository
from services.resolutions.schemas import ROLE_LABELS

SCHEMA = "https://schema.oparl.org/1.1/"
PAGE_SIZE = 20


def base() -> str:
    return get_settings().public_url.rstrip("/") + "/oparl/v1"


def _t(kind: str) -> str:
    return SCHEMA + kind


def _ts(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def body_url(org: Organisation) -> str:
    return f"{base()}/bodies/{org.slug}"


def paper_url(version_id: uuid.UUID) -> str:
    return f"{base()}/papers/{version_id}"


def system() -> dict[str, Any]:
    settings = get_settings()
    now = _ts(datetime(2026, 1, 1).astimezone())
    return {
        "id": f"{base()}/system", "type": _t("System"), "oparlVersion": SCHEMA,
        "name": "Mitwirken – Beteiligungsprozesse", "body": f"{base()}/bodies",
        "website": settings.public_url, "product": "https://github.com/mitwirken",
        "created": now, "modified": now,
    }


def paged(items: list[dict[str, Any]], *, url: str, page: int, total: int,
          per_page: int = PAGE_SIZE) -> dict[str, Any]:
    pages = max(1, math.ceil(total / per_page))
    links = {"first": f"{url}?page=1", "last": f"{url}?page={pages}",
             "self": f"{url}?page={page}"}
    if page > 1:
        links["prev"] = f"{url}?page={page - 1}"
    if page < pages:
        links["next"] = f"{url}?page={page + 1}"
    return {"data": items, "links": links,
            "pagination": {"totalElements": total, "elementsPerPage": per_page,
                           "currentPage": page, "totalPages": pages}}


def body(org: Organisation, modified: datetime | None = None) -> dict[str, Any]:
    url = body_url(org)
    return {
        "id": url, "type": _t("Body"), "system": f"{base()}/system", "name": org.name,
        "shortName": org.slug, "organization": f"{url}/organizations",
        "person": f"{url}/people", "meeting": f"{url}/meetings", "paper": f"{url}/papers",
        "legislativeTerm": [], "created": _ts(org.created_at),
        "modified": _ts(max(org.created_at, modified) if modified else org.created_at),
    }


async def bodies(session: AsyncSession, page: int) -> dict[str, Any]:
    orgs = await IdentityRepository.from_session(session).all_orgs()
    chunk = orgs[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    return paged([body(o) for o in chunk], url=f"{base()}/bodies", page=page, total=len(orgs))


async def org_by_slug(session: AsyncSession, slug: str) -> Organisation:
    org = await IdentityRepository.from_session(session).org_by_slug(slug)
    if org is None:
        raise NotFound("Diese Körperschaft gibt es nicht.", code="body_not_found")
    return org


def _organization(version: ResolutionVersion, key: str, name: str,
                  org: Organisation) -> dict[str, Any]:
    return {"id": f"{paper_url(version.id)}/organizations/{key}", "type": _t("Organization"),
            "body": body_url(org), "name": name, "created": _ts(version.created_at),
            "modified": _ts(version.created_at)}


def organizations_of(version: ResolutionVersion, org: Organisation) -> list[dict[str, Any]]:
    """The Federführung ("lead") and each body of the Beratungsfolge ("c1", "c2", ...)."""
    s = version.content["sections"]
    out = [_organization(version, "lead", s.get("federfuehrung") or "Federführung", org)]
    for n, c in enumerate(s.get("beratungsfolge", []), start=1):
        out.append(_organization(version, f"c{n}", c["body"], org))
    return out


def file_object(f: ResolutionFile, version: ResolutionVersion) -> dict[str, Any]:
    url = f"{base()}/files/{f.id}"
    name = ("Beteiligungsbericht" if f.kind == "report"
            else f"Beschlussvorlage, Fassung {version.number}")
    return {
        "id": url, "type": _t("File"), "name": name, "fileName": f.file_name,
        "mimeType": f.mime_type, "size": f.size, "sha512Checksum": f.sha512,
        "date": version.created_at.date().isoformat(),
        "accessUrl": f"{url}/access", "downloadUrl": f"{url}/download",
        "paper": [paper_url(version.id)],
        "created": _ts(f.created_at), "modified": _ts(f.created_at),
    }


async def paper(session: AsyncSession, version: ResolutionVersion,
                process: Process | None = None) -> dict[str, Any]:
    org = await IdentityRepository.from_session(session).org_by_id(version.organisation_id)
    assert org is not None
    if process is None:
        process = await ProcessRepository.from_session(session).get(version.process_id)
        assert process is not None
    files = {f.kind: f for f in await ResolutionRepository.from_session(session).files(
        [version.id])}
    s = version.content["sections"]
    url = paper_url(version.id)
    consultations = []
    for n, c in enumerate(s.get("beratungsfolge", []), start=1):
        consultations.append({
            "id": f"{url}/consultations/{n}", "type": _t("Consultation"), "paper": url,
            "organization": [f"{url}/organizations/c{n}"],
            "authoritative": c["role"] == "entscheidung", "role": ROLE_LABELS[c["role"]],
            "created": _ts(version.created_at), "modified": _ts(version.modified_at),
        })
    out: dict[str, Any] = {
        "id": url, "type": _t("Paper"), "body": body_url(org),
        "name": s.get("betreff") or process.title,
        "reference": version.content["meta"]["reference"],
        "date": version.created_at.date().isoformat(), "paperType": "Beschlussvorlage",
        "underDirectionOf": [f"{url}/organizations/lead"],
        "consultation": consultations,
        "created": _ts(version.created_at), "modified": _ts(version.modified_at),
    }
    if "pdf" in files:
        out["mainFile"] = file_object(files["pdf"], version)
    if "report" in files:
        out["auxiliaryFile"] = [file_object(files["report"], version)]
    if version.based_on is not None:
        out["relatedPaper"] = [paper_url(version.based_on)]
    if version.outcome:
        out["keyword"] = [version.outcome]
    return out


async def papers(session: AsyncSession, org: Organisation, page: int) -> dict[str, Any]:
    rows, total = await ResolutionRepository.from_session(session).papers(
        org.id, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return paged([await paper(session, v) for v in rows], url=f"{body_url(org)}/papers",
                 page=page, total=total)


async def org_by_id(session: AsyncSession, org_id: uuid.UUID) -> Organisation:
    org = await IdentityRepository.from_session(session).org_by_id(org_id)
    if org is None:
        raise NotFound("Diese Körperschaft gibt es nicht.", code="body_not_found")
    return org


async def public_version(session: AsyncSession, version_id: uuid.UUID) -> ResolutionVersion:
    version = await ResolutionRepository.from_session(session).version(version_id)
    if version is None or version.status not in DELIVERED:
        raise NotFound("Diese Drucksache gibt es nicht.", code="paper_not_found")
    return version


async def organizations(session: AsyncSession, org: Organisation, page: int) -> dict[str, Any]:
    rows, _ = await ResolutionRepository.from_session(session).papers(
        org.id, limit=10_000, offset=0)
    items = [o for v in rows for o in organizations_of(v, org)]
    chunk = items[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    return paged(chunk, url=f"{body_url(org)}/organizations", page=page, total=len(items))


async def public_file(session: AsyncSession,
                      file_id: uuid.UUID) -> tuple[ResolutionFile, ResolutionVersion]:
    f = await ResolutionRepository.from_session(session).file_by_id(file_id)
    if f is None or f.kind == "docx":
        raise NotFound("Diese Datei gibt es nicht.", code="file_not_found")
    return f, await public_version(session, f.version_id)
