"""Bearer tokens for API clients."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from api.deps import CurrentUser, SessionDep, SettingsDep, SignerDep, token_from
from api.schemas import MeOut, TokenRequest, TokenResponse
from api.signin import sign_in, sign_out

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=TokenResponse,
             responses={429: {"description": "too many failed sign-ins (Retry-After)"}})
async def issue_token(
    body: TokenRequest, request: Request, session: SessionDep, signer: SignerDep,
    settings: SettingsDep,
) -> TokenResponse:
    token = await sign_in(request, session, signer, settings, body.email, body.password)
    return TokenResponse(access_token=token, expires_in=settings.token_ttl_seconds)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, session: SessionDep, signer: SignerDep) -> Response:
    """Revokes the sign-in of the bearer token (or session cookie) sent with the request."""
    await sign_out(session, signer, token_from(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=MeOut)
async def me(principal: CurrentUser) -> MeOut:
    return MeOut(
        id=principal.user_id,
        email=principal.email,
        display_name=principal.display_name,
        organisations=[
            {"slug": o.slug, "name": o.name, "role": o.role.value} for o in principal.orgs.values()
        ],
    )
