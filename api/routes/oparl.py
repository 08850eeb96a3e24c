"""The read-only OParl 1.1 endpoint: /oparl/v1/system -> bodies -> papers -> files.

Public, as OParl is meant to be (council information systems and portals crawl it without an
account); it shows only what reached the clerk's office. `accessUrl` answers inline,
`downloadUrl` with `Content-Disposition: attachment`.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import SessionDep
from services.errors import NotFound
from services.resolutions import oparl

router = APIRouter(prefix="/oparl/v1", tags=["oparl"])
Page = Annotated[int, Query(ge=1, le=100_000)]


@router.get("/system")
async def system() -> dict[str, Any]:
    return oparl.system()


@router.get("/bodies")
async def bodies(session: SessionDep, page: Page = 1) -> dict[str, Any]:
    return await oparl.bodies(session, page)


@router.get("/bodies/{slug}")
async def body(slug: str, session: SessionDep) -> dict[str, Any]:
    return oparl.body(await oparl.org_by_slug(session, slug))


@router.get("/bodies/{slug}/papers")
async def papers(slug: str, session: SessionDep, page: Page = 1) -> dict[str, Any]:
    return await oparl.papers(session, await oparl.org_by_slug(session, slug), page)


@router.get("/bodies/{slug}/organizations")
async def organizations(slug: str, session: SessionDep, page: Page = 1) -> dict[str, Any]:
    return await oparl.organizations(session, await oparl.org_by_slug(session, slug), page)


@router.get("/bodies/{slug}/people")
async def people(slug: str, session: SessionDep, page: Page = 1) -> dict[str, Any]:
    org = await oparl.org_by_slug(session, slug)
    # Mitwirken publishes no persons (council members live in the council's own system).
    return oparl.paged([], url=f"{oparl.body_url(org)}/people", page=page, total=0)


@router.get("/bodies/{slug}/meetings")
async def meetings(slug: str, session: SessionDep, page: Page = 1) -> dict[str, Any]:
    org = await oparl.org_by_slug(session, slug)
    return oparl.paged([], url=f"{oparl.body_url(org)}/meetings", page=page, total=0)


@router.get("/papers/{paper_id}")
async def paper(paper_id: uuid.UUID, session: SessionDep) -> dict[str, Any]:
    return await oparl.paper(session, await oparl.public_version(session, paper_id))


@router.get("/papers/{paper_id}/organizations/{key}")
async def paper_organization(paper_id: uuid.UUID, key: str,
                             session: SessionDep) -> dict[str, Any]:
    version = await oparl.public_version(session, paper_id)
    org = await oparl.org_by_id(session, version.organisation_id)
    for o in oparl.organizations_of(version, org):
        if o["id"].endswith(f"/organizations/{key}"):
            return o
    raise NotFound("Diese Organisation gibt es nicht.", code="organization_not_found")


@router.get("/papers/{paper_id}/consultations/{n:int}")
async def consultation(paper_id: uuid.UUID, n: int, session: SessionDep) -> dict[str, Any]:
    data = await oparl.paper(session, await oparl.public_version(session, paper_id))
    for c in data["consultation"]:
        if c["id"].endswith(f"/consultations/{n}"):
            return c  # type: ignore[no-any-return]
    raise NotFound("Diese Beratung gibt es nicht.", code="consultation_not_found")


@router.get("/files/{file_id}")
async def file(file_id: uuid.UUID, session: SessionDep) -> dict[str, Any]:
    f, version = await oparl.public_file(session, file_id)
    return oparl.file_object(f, version)


@router.get("/files/{file_id}/access")
async def access(file_id: uuid.UUID, session: SessionDep) -> Response:
    f, _ = await oparl.public_file(session, file_id)
    return Response(f.data, media_type=f.mime_type)


@router.get("/files/{file_id}/download")
async def download(file_id: uuid.UUID, session: SessionDep) -> Response:
    f, _ = await oparl.public_file(session, file_id)
    return Response(f.data, media_type=f.mime_type, headers={
        "Content-Disposition": f'attachment; filename="{f.file_name}"'})
