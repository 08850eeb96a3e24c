"""OParl 1.1: the objects validate against typed models of the OParl fields (required `id`,
`type`, `accessUrl`; `created`/`modified` everywhere, embedded objects too), and a client
crawls from /oparl/v1/system through bodies and paged paper lists to every file."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Literal

import pytest
from httpx import ASGITransport, AsyncClient
from pydantic import BaseModel, ConfigDict, HttpUrl

from tests.support.resolutions import council, submitted

S = "https://schema.oparl.org/1.1/"


class OParlObject(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: HttpUrl
    type: str
    created: datetime
    modified: datetime


class System(OParlObject):
    type: Literal["https://schema.oparl.org/1.1/System"]
    oparlVersion: Literal["https://schema.oparl.org/1.1/"]  # noqa: N815
    body: HttpUrl


class Body(OParlObject):
    type: Literal["https://schema.oparl.org/1.1/Body"]
    name: str
    organization: HttpUrl
    person: HttpUrl
    meeting: HttpUrl
    paper: HttpUrl
    legislativeTerm: list[dict]  # type: ignore[type-arg]  # noqa: N815


class File(OParlObject):
    type: Literal["https://schema.oparl.org/1.1/File"]
    accessUrl: HttpUrl  # noqa: N815
    downloadUrl: HttpUrl  # noqa: N815
    mimeType: str  # noqa: N815
    size: int
    sha512Checksum: str  # noqa: N815
    fileName: str  # noqa: N815


class Consultation(OParlObject):
    type: Literal["https://schema.oparl.org/1.1/Consultation"]
    paper: HttpUrl
    organization: list[HttpUrl]
    authoritative: bool
    role: str


class Organization(OParlObject):
    type: Literal["https://schema.oparl.org/1.1/Organization"]
    name: str
    body: HttpUrl


class Paper(OParlObject):
    type: Literal["https://schema.oparl.org/1.1/Paper"]
    body: HttpUrl
    name: str
    reference: str
    date: str
    paperType: Literal["Beschlussvorlage"]  # noqa: N815
    mainFile: File  # noqa: N815
    auxiliaryFile: list[File]  # noqa: N815
    underDirectionOf: list[HttpUrl]  # noqa: N815
    consultation: list[Consultation]


class Pagination(BaseModel):
    totalElements: int  # noqa: N815
    elementsPerPage: int  # noqa: N815
    currentPage: int  # noqa: N815
    totalPages: int  # noqa: N815


class Links(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first: HttpUrl
    last: HttpUrl
    self: HttpUrl
    next: HttpUrl | None = None
    prev: HttpUrl | None = None


class PagedList(BaseModel):
    data: list[dict]  # type: ignore[type-arg]
    pagination: Pagination
    links: Links


@pytest.fixture
async def api(papp) -> AsyncIterator[AsyncClient]:  # type: ignore[no-untyped-def]
    async with AsyncClient(transport=ASGITransport(app=papp), base_url="http://testserver") as c:
        yield c


async def get(api: AsyncClient, url: object) -> dict:  # type: ignore[type-arg]
    r = await api.get(str(url))
    assert r.status_code == 200, (url, r.text)
    return r.json()  # type: ignore[no-any-return]


async def pages(api: AsyncClient, url: object) -> list[dict]:  # type: ignore[type-arg]
    """Every item of an OParl list, following `links.next`."""
    items: list[dict] = []  # type: ignore[type-arg]
    seen = set()
    next_url: object | None = url
    while next_url is not None:
        assert str(next_url) not in seen
        seen.add(str(next_url))
        page = PagedList.model_validate(await get(api, next_url))
        items.extend(page.data)
        next_url = page.links.next
    return items


async def test_crawl_from_system_to_every_file(  # type: ignore[no-untyped-def]
        api, worker, time_skipping_env, make_committed_staff):
    c = await council(api, make_committed_staff)
    rid = await submitted(api, c)
    # A compiled, not submitted version is not published.
    system = System.model_validate(await get(api, "/oparl/v1/system"))
    bodies = [Body.model_validate(b) for b in await pages(api, system.body)]
    ours = [b for b in bodies if b.shortName == c.org.slug]  # type: ignore[attr-defined]
    assert len(ours) == 1
    body = Body.model_validate(await get(api, ours[0].id))
    papers = [Paper.model_validate(p) for p in await pages(api, body.paper)]
    assert len(papers) == 1
    paper = papers[0]
    assert str(paper.id).endswith(f"/papers/{rid}")
    assert Paper.model_validate(await get(api, paper.id)) == paper
    assert [(x.role, x.authoritative) for x in paper.consultation] == [
        ("Vorberatung", False), ("Entscheidung", True)]
    for cons in paper.consultation:
        for org_url in cons.organization:
            assert Organization.model_validate(await get(api, org_url)).name in (
                "Sozialausschuss", "Stadtverordnetenversammlung")
    lead = Organization.model_validate(await get(api, paper.underDirectionOf[0]))
    assert lead.name == "Fachbereich Gesellschaft und Bildung"
    orgs = [Organization.model_validate(o) for o in await pages(api, body.organization)]
    assert {o.name for o in orgs} >= {lead.name, "Sozialausschuss"}
    await pages(api, body.person)
    await pages(api, body.meeting)
    files = [paper.mainFile, *paper.auxiliaryFile]
    assert paper.mainFile.mimeType == "application/pdf"
    for f in files:
        assert File.model_validate(await get(api, f.id)) == f
        download = await api.get(str(f.downloadUrl))
        assert download.status_code == 200
        assert download.headers["content-disposition"].startswith("attachment;")
        access = await api.get(str(f.accessUrl))
        assert access.status_code == 200
        assert "attachment" not in access.headers.get("content-disposition", "")
        assert len(download.content) == f.size
        assert hashlib.sha512(download.content).hexdigest() == f.sha512Checksum
        assert download.content.startswith(b"%PDF")

    # The clerk's step moves the paper's `modified`, embedded objects too.
    await time_skipping_env.sleep(timedelta(days=1))
    r = await api.post(f"/api/v1/resolutions/{rid}/received", headers=c.clerk.headers)
    assert r.status_code == 200
    later = Paper.model_validate(await get(api, paper.id))
    assert later.modified > paper.modified and later.created == paper.created
    assert later.consultation[0].modified > paper.consultation[0].modified
    # The coordinator's per-version OParl file is the same Paper.
    own = Paper.model_validate(await get_auth(api, f"{c.base}/resolution/drafts/1.oparl.json",
                                              c.coord))
    assert own.id == later.id


async def get_auth(api: AsyncClient, url: str, headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
    r = await api.get(url, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_unknown_and_unpublished_are_404(api, worker, make_committed_staff):  # type: ignore[no-untyped-def]
    c = await council(api, make_committed_staff)
    from tests.support.resolutions import draft_body

    await api.put(f"{c.base}/resolution/draft", headers=c.coord, json=draft_body())
    v = (await api.post(f"{c.base}/resolution/draft", headers=c.coord)).json()
    assert (await api.get(f"/oparl/v1/papers/{v['id']}")).status_code == 404
    assert (await api.get("/oparl/v1/bodies/gibt-es-nicht")).status_code == 404
    assert (await api.get("/oparl/v1/papers/not-a-uuid")).status_code == 422
    assert (await api.get("/oparl/v1/bodies?page=0")).status_code == 422
    listing = PagedList.model_validate(await get(api, f"/oparl/v1/bodies/{c.org.slug}/papers"))
    assert listing.data == [] and listing.pagination.totalElements == 0
