"""Bearer tokens for API clients."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser, SessionDep, SettingsDep, SignerDep
from api.schemas import MeOut, TokenRequest, TokenResponse
from services.identity.service import authenticate

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=TokenResponse)
async def issue_token(
    body: TokenRequest, session: SessionDep, signer: SignerDep, settings: SettingsDep
) -> TokenResponse:
    user = await authenticate(session, body.email, body.password)
    return TokenResponse(access_token=signer.issue(user.id), expires_in=settings.token_ttl_seconds)


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
