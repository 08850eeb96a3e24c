"""The prologue every staff page shares, in one place: who is signed in (else the login page),
the organisation and the role in it (else an error page), the object of that organisation
(else its 404 page).

- `StaffUser`: the signed-in principal; someone not signed in is sent to the login page
  (`SignInRequired`, answered by `install_staff_pages`) before the handler runs.
- `org_for`: an organisation by its slug, with the principal's role in it checked.
- `shown_as_page`: a load that fails (403, 404) ends the handler with the staff pages' own
  error page (surveys/error.html) rather than the generic one, also for a client that does not
  ask for HTML (the pages that use it did so before).
- `time_zone_of`: the organisation's zone as a ZoneInfo for the templates.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import OptionalUser
from api.errors import error_headers
from api.pages.login import login_redirect
from services.errors import DomainError
from services.identity.service import Principal, get_organisation, organisation_time_zone
from services.models.organisation import Organisation, Role


class SignInRequired(Exception):
    """A staff page opened without a sign-in: answered with the redirect to the login page."""


async def require_staff(principal: OptionalUser) -> Principal:
    if principal is None:
        raise SignInRequired
    return principal


StaffUser = Annotated[Principal, Depends(require_staff)]


class StaffPageRefused(Exception):
    """A staff page's object that this user may not see or that does not exist."""

    def __init__(self, principal: Principal, error: DomainError) -> None:
        super().__init__(error.message)
        self.principal = principal
        self.error = error


@contextmanager
def shown_as_page(principal: Principal) -> Iterator[None]:
    """Within it, a DomainError ends the request with the staff error page (its status)."""
    try:
        yield
    except DomainError as exc:
        raise StaffPageRefused(principal, exc) from exc


def staff_error_page(request: Request, principal: Principal, exc: DomainError) -> Response:
    from api.templating import templates

    return templates.TemplateResponse(request, "surveys/error.html", {
        "principal": principal, "status": exc.status_code, "message": exc.message,
    }, status_code=exc.status_code, headers=error_headers(exc))


async def org_for(session: AsyncSession, principal: Principal, slug: str,
                  *roles: Role) -> Organisation:
    """The organisation of `slug` (404), for a member with one of `roles` (404 for someone
    outside it, 403 for another role; admins pass every check). Its membership entry is
    `principal.orgs[org.id]`."""
    org = await get_organisation(session, slug)
    principal.require(org.id, *roles)
    return org


async def time_zone_of(session: AsyncSession, organisation_id: uuid.UUID) -> ZoneInfo:
    return ZoneInfo(await organisation_time_zone(session, organisation_id))


def install_staff_pages(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        return login_redirect(request)

    @app.exception_handler(StaffPageRefused)
    async def _refused(request: Request, exc: StaffPageRefused) -> Response:
        return staff_error_page(request, exc.principal, exc.error)
