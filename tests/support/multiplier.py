"""Helpers for the multiplier link tests: a partner organisation, a link, answering it as a
browser does (form, review, final submit)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.models.stakeholder import Stakeholder
from services.models.survey import Survey
from services.surveys import multiplier
from services.surveys.multiplier import MultiplierLinkCreate

# vielfaltsmanager-feedback, every required question answered (as in test_submit_hot_path).
ANSWERS: dict[str, Any] = {"tag": "tag1", "gesamt": 4, "inputs": 5, "austausch": 3,
                           "multiplikator": 4, "einflussbereich": 7, "mitnehmen": "Viel gelernt."}
FORM = {f"q_{k}": str(v) for k, v in ANSWERS.items()}
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


async def make_partner(session: AsyncSession, org_id: uuid.UUID, *, kind: str = "organisation",
                       group: str = "migrantenorganisationen", tier: int = 3) -> Stakeholder:
    partner = Stakeholder(organisation_id=org_id, kind=kind, name="Kulturverein Nord",
                          email=f"{uuid.uuid4().hex[:8]}@verein.example", group_key=group,
                          reach_tier=tier)
    session.add(partner)
    await session.flush()
    return partner


async def make_link(session: AsyncSession, survey: Survey, partner: Stakeholder,
                    secret_key: str, **body: Any) -> tuple[uuid.UUID, str, str]:
    """(link id, answer secret, results secret); `secret_key`: the app settings' one."""
    link = await multiplier.create_link(
        session, survey, MultiplierLinkCreate(partner_id=partner.id, **body),
        secret_key=secret_key, actor="test@example.org")
    return (link.id, multiplier.link_secret(secret_key, link.id),
            multiplier.results_secret(secret_key, link.id))


def csrf_of(html: str) -> dict[str, str]:
    """The form's CSRF field, where the page has one (it has when it set the seed cookie)."""
    match = _CSRF.search(html)
    return {"csrf_token": match.group(1)} if match else {}


async def answer(web: AsyncClient, secret: str, form: dict[str, str] | None = None) -> Response:
    """Open the link, fill the form, confirm on the review page: the final response (303 to
    the thanks page, or the refusal)."""
    page = await web.get(f"/m/{secret}")
    if page.status_code != 200 or 'id="antworten"' not in page.text:
        return page
    r = await web.post(f"/m/{secret}", data={**(form or FORM), **csrf_of(page.text),
                                             "aktion": "pruefen"})
    if r.status_code != 303:
        return r
    review = await web.get(r.headers["location"])
    if review.status_code != 200 or "/absenden" not in review.text:
        return review
    return await web.post(f"/m/{secret}/absenden", data=csrf_of(review.text))
