"""The accounts API: your own account and tokens, and user administration for admins."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from registry.accounts import tokens, users
from registry.accounts.auth import SignedInRequest
from registry.accounts.roles import Role
from registry.accounts.schemas import (
    AccountOut,
    AccountPage,
    IssuedTokenOut,
    TokenIn,
    TokenOut,
    UserIn,
    UserPatch,
)
from registry.web.inputs import PageNumber, RowId


def account_out(account: users.Account) -> AccountOut:
    return AccountOut(
        id=account.id,
        email=account.email,
        display_name=account.display_name,
        roles=sorted(account.roles),
        active=account.active,
        two_factor_enabled=account.totp_enabled,
        created_at=account.created_at,
        last_login_at=account.last_login_at,
    )


def token_out(summary: tokens.TokenSummary) -> TokenOut:
    return TokenOut(
        id=summary.id,
        name=summary.name,
        prefix=summary.prefix,
        created_at=summary.created_at,
        last_used_at=summary.last_used_at,
        revoked_at=summary.revoked_at,
        expires_at=summary.expires_at,
    )


class MeController(Controller):
    path = "/me"
    tags = ["Your account"]

    @get("/", name="api_me", summary="The account the bearer token belongs to")
    async def me(self, request: SignedInRequest) -> AccountOut:
        return account_out(await users.get_account(request.user.id))

    @get("/tokens", name="api_tokens_list", summary="Your personal API tokens (never their values)")
    async def tokens(self, request: SignedInRequest) -> list[TokenOut]:
        return [token_out(t) for t in await tokens.list_api_tokens(request.user.id)]

    @post(
        "/tokens",
        name="api_tokens_create",
        status_code=HTTP_201_CREATED,
        summary="Create a token; shown once",
    )
    async def create_token(
        self, request: SignedInRequest, data: JSONBody[TokenIn]
    ) -> IssuedTokenOut:
        summary, token = await tokens.issue_api_token(request.user.id, data.name)
        return IssuedTokenOut(**token_out(summary).model_dump(), token=token)

    @delete(
        "/tokens/{token_id:int}",
        name="api_tokens_revoke",
        status_code=HTTP_204_NO_CONTENT,
        summary="Revoke one of your tokens",
    )
    async def revoke_token(self, request: SignedInRequest, token_id: RowId) -> None:
        await tokens.revoke_api_token(request.user.id, token_id)


class UsersController(Controller):
    path = "/admin/users"
    tags = ["User administration"]

    @get("/", name="api_admin_users_list", summary="Users, filtered by role or by name and email")
    async def list_users(
        self,
        role: FromQuery[Role | None] = None,
        q: Annotated[str, QueryParameter(max_length=100)] = "",
        page: PageNumber = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> AccountPage:
        accounts, total = await users.list_accounts(
            role=role, search=q, page=page, page_size=page_size
        )
        return AccountPage(
            items=[account_out(a) for a in accounts], total=total, page=page, page_size=page_size
        )

    @post("/", name="api_admin_users_create", status_code=HTTP_201_CREATED, summary="Invite a user")
    async def create_user(self, request: SignedInRequest, data: JSONBody[UserIn]) -> AccountOut:
        account = await users.invite_user(
            data.email, data.display_name, data.roles, invited_by=request.user.display_name
        )
        return account_out(account)

    @patch(
        "/{user_id:int}",
        name="api_admin_user_update",
        summary="Change a user's roles or deactivate them",
    )
    async def update_user(
        self, request: SignedInRequest, user_id: RowId, data: JSONBody[UserPatch]
    ) -> AccountOut:
        account = await users.update_user(
            user_id, roles=data.roles, active=data.active, by_user_id=request.user.id
        )
        return account_out(account)
