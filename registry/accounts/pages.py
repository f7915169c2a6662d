"""Account pages: sign in and out, second factor, passwords, your account, staff administration."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_401_UNAUTHORIZED,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
)

from registry.accounts import service, totp
from registry.accounts.auth import SESSION_COOKIE, CurrentUser, client_address
from registry.accounts.roles import ROLE_LABELS, STAFF_ROLES, Role
from registry.accounts.schemas import (
    ChangePasswordForm,
    CodeForm,
    EmailForm,
    NewPasswordForm,
    RolesForm,
    SignInForm,
    StaffInviteForm,
    TokenForm,
)
from registry.config import Settings
from registry.errors import Conflict, InvalidInput, RegistryError
from registry.web.forms import FormErrors, errors_from, read_form, validate

AnyRequest = Request[Any, Any, Any]
SEE_OTHER: Literal[303] = 303


def _settings(request: AnyRequest) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _user(request: AnyRequest) -> CurrentUser:
    return request.scope["user"]  # type: ignore[no-any-return]


def _safe_next(target: str) -> str:
    """Only a path on this site: never an open redirect to somewhere else.

    Browsers drop tabs and newlines from a URL, so ``/<tab>/evil.example`` would become
    ``//evil.example``: a target with any control character is refused.
    """
    if target.startswith("/") and not target.startswith(("//", "/\\")) and target.isprintable():
        return target
    return ""


def _session_cookie(request: AnyRequest, token: str, *, expire: bool = False) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_settings(request).secure_cookies,
        max_age=0 if expire else None,
    )


def _page(template: str, status: int = 200, **context: Any) -> Template:
    return Template(f"accounts/{template}", context=context, status_code=status)


def _form_page(template: str, errors: FormErrors, status: int, **context: Any) -> Template:
    return _page(template, status=status, **errors.context(), **context)


def _role_items(selected: frozenset[Role] | set[Role] = frozenset()) -> list[dict[str, Any]]:
    return [
        {"value": role.value, "text": ROLE_LABELS[role], "checked": role in selected}
        for role in Role
    ]


class SignInPages(Controller):
    include_in_schema = False

    @get("/sign-in", name="sign_in")
    async def sign_in(
        self, next_page: Annotated[str, QueryParameter(name="next")] = ""
    ) -> Template:
        return _page("sign_in.html", values={"next": _safe_next(next_page)})

    @post("/sign-in", name="sign_in_submit")
    async def sign_in_submit(self, request: AnyRequest) -> Template | Redirect:
        values = await read_form(request)
        form, errors = validate(SignInForm, values)
        if form is None:
            return _form_page("sign_in.html", errors, HTTP_422_UNPROCESSABLE_ENTITY, values=values)
        try:
            account = await service.authenticate(
                form.email, form.password, client_address(request.scope)
            )
        except service.LockedOut as locked:
            return _form_page(
                "sign_in.html",
                errors_from(locked, "email"),
                HTTP_429_TOO_MANY_REQUESTS,
                values=values,
            )
        except service.InvalidCredentials as wrong:
            return _form_page(
                "sign_in.html", errors_from(wrong, "email"), HTTP_401_UNAUTHORIZED, values=values
            )
        previous = request.scope.get("user")
        if previous is not None and previous.session_id is not None:
            await service.end_session(previous.session_id)
        token = await service.start_session(
            account, client_address(request.scope), request.headers.get("user-agent", "")
        )
        target = _after_password(account, _safe_next(form.next))
        return Redirect(target, status_code=SEE_OTHER, cookies=[_session_cookie(request, token)])

    @get("/sign-in/two-factor", name="two_factor_prompt")
    async def two_factor_prompt(
        self, request: AnyRequest, next_page: Annotated[str, QueryParameter(name="next")] = ""
    ) -> Template | Redirect:
        user = _user(request)
        if user.fully_signed_in:
            return Redirect(_safe_next(next_page) or "/account", status_code=SEE_OTHER)
        if not user.totp_enabled:
            return Redirect("/account/two-factor/setup", status_code=SEE_OTHER)
        return _page("two_factor.html", next=_safe_next(next_page))

    @post("/sign-in/two-factor", name="two_factor_submit")
    async def two_factor_submit(self, request: AnyRequest) -> Template | Redirect:
        user = _user(request)
        values = await read_form(request)
        next_page = _safe_next(str(values.get("next", "")))
        form, errors = validate(CodeForm, values)
        if form is not None and user.session_id is not None:
            # Every refusal (a wrong code, a locked account) is answered beside the code box.
            with errors.catch(RegistryError, field="code"):
                await service.verify_second_factor(
                    user.id, user.session_id, form.code, _settings(request).secret_key
                )
                return Redirect(next_page or "/account", status_code=SEE_OTHER)
        return _form_page("two_factor.html", errors, HTTP_422_UNPROCESSABLE_ENTITY, next=next_page)

    @get("/account/two-factor/setup", name="two_factor_setup")
    async def two_factor_setup(self, request: AnyRequest) -> Template | Redirect:
        user = _user(request)
        if user.totp_enabled:
            return Redirect("/account", status_code=SEE_OTHER)
        return await _setup_page(request, user, FormErrors(), 200)

    @post("/account/two-factor/setup", name="two_factor_setup_submit")
    async def two_factor_setup_submit(self, request: AnyRequest) -> Template:
        user = _user(request)
        form, errors = validate(CodeForm, await read_form(request))
        if form is not None and user.session_id is not None:
            with errors.catch(InvalidInput, Conflict, field="code"):
                codes = await service.confirm_totp_enrolment(
                    user.id, user.session_id, form.code, _settings(request).secret_key
                )
                return _page("recovery_codes.html", codes=codes)
            if errors.status == HTTP_409_CONFLICT:
                return _form_page("two_factor_setup.html", errors, HTTP_409_CONFLICT)
        return await _setup_page(
            request, user, errors, HTTP_422_UNPROCESSABLE_ENTITY, keep_secret=True
        )

    @post("/sign-out", name="sign_out")
    async def sign_out(self, request: AnyRequest) -> Redirect:
        user = _user(request)
        if user.session_id is not None:
            await service.end_session(user.session_id)
        return Redirect(
            "/sign-in?signed_out=1",
            status_code=SEE_OTHER,
            cookies=[_session_cookie(request, "", expire=True)],
        )


def _after_password(account: service.Account, next_page: str) -> str:
    if account.needs_second_factor and account.totp_enabled:
        # The page they were after waits until the code is in.
        return "/sign-in/two-factor" + (f"?{urlencode({'next': next_page})}" if next_page else "")
    if account.needs_second_factor:
        return "/account/two-factor/setup"
    return next_page or "/account"


async def _setup_page(
    request: AnyRequest,
    user: CurrentUser,
    errors: FormErrors,
    status: int,
    *,
    keep_secret: bool = False,
) -> Template:
    # A new secret each time the page is opened: only a confirmed one is ever switched on. After a
    # mistyped code the same one again, since the person's app already holds it.
    key = _settings(request).secret_key
    if keep_secret:
        secret = await service.pending_totp_secret(user.id, key)
    else:
        secret = await service.begin_totp_enrolment(user.id, key)
    uri = totp.provisioning_uri(secret, user.email)
    return _form_page(
        "two_factor_setup.html",
        errors,
        status,
        qr_code=totp.qr_code_svg_data_uri(uri),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    )


class PasswordPages(Controller):
    include_in_schema = False

    @get("/forgotten-password", name="forgotten_password")
    async def forgotten_password(self) -> Template:
        return _page("forgotten_password.html")

    @post("/forgotten-password", name="forgotten_password_submit")
    async def forgotten_password_submit(self, request: AnyRequest) -> Template:
        values = await read_form(request)
        form, errors = validate(EmailForm, values)
        if form is None:
            return _form_page(
                "forgotten_password.html", errors, HTTP_422_UNPROCESSABLE_ENTITY, values=values
            )
        # The same answer whether or not the address has an account.
        await service.request_password_reset(form.email)
        return _page("reset_link_sent.html", email=form.email)

    @get("/reset-password", name="reset_password")
    async def reset_password(self, token: FromQuery[str] = "") -> Template:
        errors = FormErrors()
        with errors.catch(field="token"):
            await service.check_reset_token(token)
            return _page("reset_password.html", token=token)
        return _form_page("reset_password.html", errors, errors.status, expired=True)

    @post("/reset-password", name="reset_password_submit")
    async def reset_password_submit(self, request: AnyRequest) -> Template | Redirect:
        values = await read_form(request)
        token = str(values.get("token", ""))
        form, errors = validate(NewPasswordForm, values)
        if form is not None:
            with errors.catch(field="password"):
                await service.reset_password(token, form.password)
                return Redirect("/sign-in?password_reset=1", status_code=SEE_OTHER)
        expired = "token" in errors.by_field
        return _form_page(
            "reset_password.html",
            errors,
            HTTP_422_UNPROCESSABLE_ENTITY,
            token=token,
            expired=expired,
        )


class AccountPages(Controller):
    include_in_schema = False

    @get("/account", name="account")
    async def account(self, request: AnyRequest) -> Template:
        return await _account_page(request, FormErrors(), 200)

    @post("/account/password", name="account_password")
    async def account_password(self, request: AnyRequest) -> Template:
        user = _user(request)
        form, errors = validate(ChangePasswordForm, await read_form(request))
        if form is not None:
            with errors.catch(field="password"):
                await service.change_password(
                    user.id, form.current_password, form.password, user.session_id
                )
                return await _account_page(
                    request, FormErrors(), 200, notice="Your password has been changed"
                )
        return await _account_page(request, errors, HTTP_422_UNPROCESSABLE_ENTITY)

    @post("/account/tokens", name="account_token_create")
    async def account_token_create(self, request: AnyRequest) -> Template:
        user = _user(request)
        form, errors = validate(TokenForm, await read_form(request))
        if form is not None:
            with errors.catch(field="name"):
                summary, token = await service.issue_api_token(user.id, form.name)
                return _page("token_created.html", token=token, summary=summary)
        return await _account_page(request, errors, HTTP_422_UNPROCESSABLE_ENTITY)

    @post("/account/tokens/{token_id:int}/revoke", name="account_token_revoke")
    async def account_token_revoke(self, request: AnyRequest, token_id: FromPath[int]) -> Template:
        await service.revoke_api_token(_user(request).id, token_id)
        return await _account_page(request, FormErrors(), 200, notice="The token has been revoked")


async def _account_page(
    request: AnyRequest, errors: FormErrors, status: int, notice: str = ""
) -> Template:
    user = _user(request)
    account = await service.get_account(user.id)
    return _form_page(
        "account.html",
        errors,
        status,
        account=account,
        role_labels=[ROLE_LABELS[role] for role in sorted(account.roles)],
        tokens=await service.list_api_tokens(user.id),
        recovery_codes_left=await service.unused_recovery_codes(user.id)
        if account.totp_enabled
        else None,
        notice=notice,
    )


class StaffAdminPages(Controller):
    include_in_schema = False
    path = "/admin/users"

    @get("/", name="admin_users")
    async def users(
        self, role: FromQuery[str] = "", q: FromQuery[str] = "", page: FromQuery[int] = 1
    ) -> Template:
        chosen = Role(role) if role in Role.__members__ else None
        accounts, total = await service.list_accounts(role=chosen, search=q, page=max(page, 1))
        return _page(
            "admin_users.html",
            accounts=accounts,
            total=total,
            role=role,
            q=q,
            page=max(page, 1),
            role_labels=ROLE_LABELS,
            role_options=[{"value": "", "text": "All roles"}]
            + [
                {"value": r.value, "text": ROLE_LABELS[r], "selected": r.value == role}
                for r in Role
            ],
        )

    @get("/new", name="admin_user_new")
    async def new_user(self) -> Template:
        return _page(
            "admin_user_new.html", role_items=_role_items({Role.registrar} & STAFF_ROLES), values={}
        )

    @post("/new", name="admin_user_new_submit")
    async def new_user_submit(self, request: AnyRequest) -> Template | Redirect:
        values = await read_form(request)
        form, errors = validate(StaffInviteForm, values)
        if form is not None:
            # A second account for an address is shown as the typing mistake it usually is.
            with errors.catch(InvalidInput, Conflict, field="email"):
                account = await service.invite_user(
                    form.email,
                    form.display_name,
                    service.parse_roles(form.roles),
                    invited_by=_user(request).display_name,
                )
                return Redirect(f"/admin/users/{account.id}?invited=1", status_code=SEE_OTHER)
        chosen = (
            {Role(r) for r in values.get("roles", []) if r in Role.__members__}
            if isinstance(values.get("roles"), list)
            else ({Role(values["roles"])} if values.get("roles") in Role.__members__ else set())
        )
        return _form_page(
            "admin_user_new.html",
            errors,
            HTTP_422_UNPROCESSABLE_ENTITY,
            role_items=_role_items(chosen),
            values=values,
        )

    @get("/{user_id:int}", name="admin_user")
    async def user(self, user_id: FromPath[int], invited: FromQuery[bool] = False) -> Template:
        return await _admin_user_page(
            user_id, FormErrors(), 200, notice="Invitation sent" if invited else ""
        )

    @post("/{user_id:int}/roles", name="admin_user_roles_submit")
    async def roles_submit(self, request: AnyRequest, user_id: FromPath[int]) -> Template:
        form, errors = validate(RolesForm, await read_form(request))
        if form is not None:
            with errors.catch(InvalidInput, Conflict, field="roles"):
                await service.set_roles(
                    user_id, service.parse_roles(form.roles), by_user_id=_user(request).id
                )
                return await _admin_user_page(user_id, FormErrors(), 200, notice="Roles updated")
        return await _admin_user_page(user_id, errors, errors.status)

    @post("/{user_id:int}/active", name="admin_user_active_submit")
    async def active_submit(self, request: AnyRequest, user_id: FromPath[int]) -> Template:
        values = await read_form(request)
        active = values.get("active") == "yes"
        errors = FormErrors()
        with errors.catch(Conflict):
            await service.set_active(user_id, active, by_user_id=_user(request).id)
            return await _admin_user_page(
                user_id,
                errors,
                200,
                notice="Account reactivated" if active else "Account deactivated",
            )
        return await _admin_user_page(user_id, errors, errors.status)


async def _admin_user_page(
    user_id: int, errors: FormErrors, status: int, notice: str = ""
) -> Template:
    account = await service.get_account(user_id)
    return _form_page(
        "admin_user.html",
        errors,
        status,
        account=account,
        role_items=_role_items(account.roles),
        role_labels=[ROLE_LABELS[role] for role in sorted(account.roles)],
        notice=notice,
    )
