"""Account pages: sign in and out, second factor, passwords, your account, staff administration."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_401_UNAUTHORIZED,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
)

from registry.accounts import (
    password_changes,
    password_links,
    second_factor,
    sign_in,
    tokens,
    totp,
    urls,
    users,
)
from registry.accounts.auth import (
    SESSION_COOKIE,
    CurrentUser,
    SignedInRequest,
    VisitorRequest,
    client_address,
)
from registry.accounts.roles import ROLE_LABELS, Role
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
from registry.core import clock
from registry.core.domain import landing_page
from registry.errors import Conflict, InvalidInput, RegistryError
from registry.web.forms import FormErrors, errors_from, read_form, validate
from registry.web.inputs import PageNumber

AnyRequest = Request[Any, Any, Any]
SEE_OTHER: Literal[303] = 303


def _settings(request: AnyRequest) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


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

    @get(urls.SIGN_IN, name="sign_in")
    async def sign_in(
        self, next_page: Annotated[str, QueryParameter(name="next")] = ""
    ) -> Template:
        return _page("sign_in.html", values={"next": _safe_next(next_page)})

    @post(urls.SIGN_IN, name="sign_in_submit")
    async def sign_in_submit(self, request: VisitorRequest) -> Template | Redirect:
        values = await read_form(request)
        form, errors = validate(SignInForm, values)
        if form is None:
            return _form_page("sign_in.html", errors, HTTP_422_UNPROCESSABLE_ENTITY, values=values)
        try:
            account = await sign_in.authenticate(
                form.email, form.password, client_address(request.scope)
            )
        except sign_in.LockedOut as locked:
            return _form_page(
                "sign_in.html",
                errors_from(locked, "email"),
                HTTP_429_TOO_MANY_REQUESTS,
                values=values,
            )
        except sign_in.InvalidCredentials as wrong:
            return _form_page(
                "sign_in.html", errors_from(wrong, "email"), HTTP_401_UNAUTHORIZED, values=values
            )
        previous = request.user
        if previous is not None and previous.session_id is not None:
            await sign_in.end_session(previous.session_id)
        token = await sign_in.start_session(
            account, client_address(request.scope), request.headers.get("user-agent", "")
        )
        target = await _after_password(account, _safe_next(form.next))
        return Redirect(target, status_code=SEE_OTHER, cookies=[_session_cookie(request, token)])

    @get(urls.TWO_FACTOR, name="two_factor_prompt")
    async def two_factor_prompt(
        self, request: SignedInRequest, next_page: Annotated[str, QueryParameter(name="next")] = ""
    ) -> Template | Redirect:
        user = request.user
        if user.fully_signed_in:
            return Redirect(_safe_next(next_page) or urls.ACCOUNT, status_code=SEE_OTHER)
        if not user.totp_enabled:
            return Redirect(urls.TWO_FACTOR_SETUP, status_code=SEE_OTHER)
        return _page("two_factor.html", next=_safe_next(next_page))

    @post(urls.TWO_FACTOR, name="two_factor_submit")
    async def two_factor_submit(self, request: SignedInRequest) -> Template | Redirect:
        user = request.user
        values = await read_form(request)
        next_page = _safe_next(str(values.get("next", "")))
        form, errors = validate(CodeForm, values)
        if form is not None and user.session_id is not None:
            # Every refusal (a wrong code, a locked account) is answered beside the code box.
            with errors.catch(RegistryError, field="code"):
                await second_factor.verify_second_factor(
                    user.id, user.session_id, form.code, _settings(request).secret_key
                )
                return Redirect(next_page or urls.ACCOUNT, status_code=SEE_OTHER)
        return _form_page("two_factor.html", errors, HTTP_422_UNPROCESSABLE_ENTITY, next=next_page)

    @get(urls.TWO_FACTOR_SETUP, name="two_factor_setup")
    async def two_factor_setup(self, request: SignedInRequest) -> Template | Redirect:
        user = request.user
        if user.totp_enabled:
            return Redirect(urls.ACCOUNT, status_code=SEE_OTHER)
        return await _setup_page(request, user, FormErrors(), 200)

    @post(urls.TWO_FACTOR_SETUP, name="two_factor_setup_submit")
    async def two_factor_setup_submit(self, request: SignedInRequest) -> Template:
        user = request.user
        form, errors = validate(CodeForm, await read_form(request))
        if form is not None and user.session_id is not None:
            with errors.catch(InvalidInput, Conflict, field="code"):
                codes = await second_factor.confirm_totp_enrolment(
                    user.id, user.session_id, form.code, _settings(request).secret_key
                )
                return _page("recovery_codes.html", codes=codes)
            if errors.status == HTTP_409_CONFLICT:
                return _form_page("two_factor_setup.html", errors, HTTP_409_CONFLICT)
        return await _setup_page(
            request, user, errors, HTTP_422_UNPROCESSABLE_ENTITY, keep_secret=True
        )

    @post(urls.SIGN_OUT, name="sign_out")
    async def sign_out(self, request: SignedInRequest) -> Redirect:
        user = request.user
        if user.session_id is not None:
            await sign_in.end_session(user.session_id)
        return Redirect(
            urls.SIGN_IN_AFTER_SIGN_OUT,
            status_code=SEE_OTHER,
            cookies=[_session_cookie(request, "", expire=True)],
        )


async def _after_password(account: users.Account, next_page: str) -> str:
    if account.needs_second_factor and account.totp_enabled:
        # The page they were after waits until the code is in.
        return urls.two_factor_prompt(next_page)
    if account.needs_second_factor:
        return urls.TWO_FACTOR_SETUP
    # What they came for: the page they asked for, or what their domains say is theirs.
    return next_page or await landing_page(account) or urls.ACCOUNT


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
        secret = await second_factor.pending_totp_secret(user.id, key)
    else:
        secret = await second_factor.begin_totp_enrolment(user.id, key)
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

    @get(urls.FORGOTTEN_PASSWORD, name="forgotten_password")
    async def forgotten_password(self) -> Template:
        return _page("forgotten_password.html")

    @post(urls.FORGOTTEN_PASSWORD, name="forgotten_password_submit")
    async def forgotten_password_submit(self, request: AnyRequest) -> Template:
        values = await read_form(request)
        form, errors = validate(EmailForm, values)
        if form is None:
            return _form_page(
                "forgotten_password.html", errors, HTTP_422_UNPROCESSABLE_ENTITY, values=values
            )
        # The same answer whether or not the address has an account, and in the same time: the
        # link is made after the answer has gone, so how long it takes tells nothing.
        answer = _page("reset_link_sent.html", email=form.email)
        answer.background = BackgroundTask(password_links.request_password_reset, form.email)
        return answer

    @get(urls.RESET_PASSWORD, name="reset_password")
    async def reset_password(self, token: FromQuery[str] = "") -> Template:
        errors = FormErrors()
        with errors.catch(field="token"):
            await password_links.check_reset_token(token)
            return _page("reset_password.html", token=token)
        return _form_page("reset_password.html", errors, errors.status, expired=True)

    @post(urls.RESET_PASSWORD, name="reset_password_submit")
    async def reset_password_submit(self, request: AnyRequest) -> Template | Redirect:
        values = await read_form(request)
        token = str(values.get("token", ""))
        form, errors = validate(NewPasswordForm, values)
        if form is not None:
            with errors.catch(field="password"):
                await password_changes.reset_password(token, form.password)
                return Redirect(urls.SIGN_IN_AFTER_RESET, status_code=SEE_OTHER)
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

    @get(urls.ACCOUNT, name="account")
    async def account(self, request: SignedInRequest) -> Template:
        return await _account_page(request, FormErrors(), 200)

    @post(urls.ACCOUNT_PASSWORD, name="account_password")
    async def account_password(self, request: SignedInRequest) -> Template:
        user = request.user
        form, errors = validate(ChangePasswordForm, await read_form(request))
        if form is not None:
            with errors.catch(field="password"):
                await password_changes.change_password(
                    user.id, form.current_password, form.password, user.session_id
                )
                return await _account_page(
                    request, FormErrors(), 200, notice="Your password has been changed"
                )
        return await _account_page(request, errors, HTTP_422_UNPROCESSABLE_ENTITY)

    @post(urls.ACCOUNT_TOKENS, name="account_token_create")
    async def account_token_create(self, request: SignedInRequest) -> Template:
        user = request.user
        form, errors = validate(TokenForm, await read_form(request))
        if form is not None:
            with errors.catch(field="name"):
                summary, token = await tokens.issue_api_token(user.id, form.name)
                return _page("token_created.html", token=token, summary=summary)
        return await _account_page(request, errors, HTTP_422_UNPROCESSABLE_ENTITY)

    @post(urls.ACCOUNT_TOKENS + "/{token_id:int}/revoke", name="account_token_revoke")
    async def account_token_revoke(
        self, request: SignedInRequest, token_id: FromPath[int]
    ) -> Template:
        await tokens.revoke_api_token(request.user.id, token_id)
        return await _account_page(request, FormErrors(), 200, notice="The token has been revoked")


async def _account_page(
    request: SignedInRequest, errors: FormErrors, status: int, notice: str = ""
) -> Template:
    user = request.user
    account = await users.get_account(user.id)
    return _form_page(
        "account.html",
        errors,
        status,
        account=account,
        role_labels=[ROLE_LABELS[role] for role in sorted(account.roles)],
        tokens=await tokens.list_api_tokens(user.id),
        now=clock.now(),
        recovery_codes_left=await second_factor.unused_recovery_codes(user.id)
        if account.totp_enabled
        else None,
        notice=notice,
    )


class StaffAdminPages(Controller):
    include_in_schema = False
    path = urls.ADMIN_USERS

    @get("/", name="admin_users")
    async def users(
        self, role: FromQuery[str] = "", q: FromQuery[str] = "", page: PageNumber = 1
    ) -> Template:
        chosen = Role(role) if role in Role.__members__ else None
        accounts, total = await users.list_accounts(role=chosen, search=q, page=max(page, 1))
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
        return _page("admin_user_new.html", role_items=_role_items(), values={})

    @post("/new", name="admin_user_new_submit")
    async def new_user_submit(self, request: SignedInRequest) -> Template | Redirect:
        values = await read_form(request)
        form, errors = validate(StaffInviteForm, values)
        if form is not None:
            # A second account for an address is shown as the typing mistake it usually is.
            with errors.catch(InvalidInput, Conflict, field="email"):
                account = await users.invite_user(
                    form.email,
                    form.display_name,
                    users.parse_roles(form.roles),
                    invited_by=request.user.display_name,
                )
                return Redirect(urls.admin_user(account.id, invited="1"), status_code=SEE_OTHER)
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
    async def roles_submit(self, request: SignedInRequest, user_id: FromPath[int]) -> Template:
        form, errors = validate(RolesForm, await read_form(request))
        if form is not None:
            with errors.catch(InvalidInput, Conflict, field="roles"):
                await users.set_roles(
                    user_id, users.parse_roles(form.roles), by_user_id=request.user.id
                )
                return await _admin_user_page(user_id, FormErrors(), 200, notice="Roles updated")
        return await _admin_user_page(user_id, errors, errors.status)

    @post("/{user_id:int}/active", name="admin_user_active_submit")
    async def active_submit(self, request: SignedInRequest, user_id: FromPath[int]) -> Template:
        values = await read_form(request)
        active = values.get("active") == "yes"
        errors = FormErrors()
        with errors.catch(Conflict):
            await users.set_active(user_id, active, by_user_id=request.user.id)
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
    account = await users.get_account(user_id)
    return _form_page(
        "admin_user.html",
        errors,
        status,
        account=account,
        role_items=_role_items(account.roles),
        role_labels=[ROLE_LABELS[role] for role in sorted(account.roles)],
        notice=notice,
    )
