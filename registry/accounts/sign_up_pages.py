"""Create an account (the GOV.UK pattern): one page of questions, then "Check your email", then
the confirmation link. The answer is the same whether or not the address has an account."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_ENTITY

from registry.accounts import sign_up, urls, users
from registry.accounts.auth import SignedInRequest, VisitorRequest, client_address
from registry.accounts.schemas import CreateAccountForm
from registry.errors import InvalidInput
from registry.web.forms import errors_from, read_form, validate

SEE_OTHER: Literal[303] = 303


def _page(template: str, status: int = 200, **context: object) -> Template:
    return Template(f"accounts/{template}", context=context, status_code=status)


class SignUpPages(Controller):
    include_in_schema = False

    @get(urls.CREATE_ACCOUNT, name="create_account")
    async def create_account(self) -> Template:
        return _page("create_account.html", values={})

    @post(urls.CREATE_ACCOUNT, name="create_account_submit")
    async def create_account_submit(self, request: VisitorRequest) -> Template | Redirect:
        values = await read_form(request)
        values.pop("password_confirmation", None)
        form, errors = validate(CreateAccountForm, values)
        shown = {key: value for key, value in values.items() if key != "password"}
        if form is None:
            return _page(
                "create_account.html",
                HTTP_422_UNPROCESSABLE_ENTITY,
                values=shown,
                **errors.context(),
            )
        try:
            answers = sign_up.check_sign_up(form.email, form.display_name, form.password)
        except InvalidInput as problem:
            failed = errors_from(problem, "email")
            return _page(
                "create_account.html",
                HTTP_422_UNPROCESSABLE_ENTITY,
                values=shown,
                **failed.context(),
            )
        if not form.website:  # a bot filled in the honeypot: answer as ever, do nothing
            await sign_up.request_account(answers, client_address(request.scope))
        return Redirect(
            urls.with_query(urls.CREATE_ACCOUNT_CHECK_EMAIL, email=answers.email),
            status_code=SEE_OTHER,
        )

    @get(urls.CREATE_ACCOUNT_CHECK_EMAIL, name="create_account_check_email")
    async def check_email(
        self, email: Annotated[str, QueryParameter(max_length=254)] = ""
    ) -> Template:
        return _page("create_account_check_email.html", email=email)

    @get(urls.CONFIRM_EMAIL, name="confirm_email")
    async def confirm(self, token: Annotated[str, QueryParameter(max_length=200)] = "") -> Template:
        # A button, not the link itself, confirms: mail scanners open links before people do.
        return _page("confirm_email.html", token=token)

    @post(urls.CONFIRM_EMAIL, name="confirm_email_submit")
    async def confirm_submit(self, request: VisitorRequest) -> Template:
        values = await read_form(request)
        try:
            await sign_up.confirm_email(str(values.get("token", "")))
        except InvalidInput as failed:
            return _page("email_link_failed.html", HTTP_409_CONFLICT, detail=failed.detail)
        return _page("email_confirmed.html")

    @post(urls.RESEND_CONFIRMATION, name="resend_confirmation")
    async def resend(self, request: SignedInRequest) -> Redirect:
        account = await users.get_account(request.user.id)
        await sign_up.resend_confirmation(account)
        return Redirect(
            urls.with_query(urls.CREATE_ACCOUNT_CHECK_EMAIL, email=account.email),
            status_code=SEE_OTHER,
        )
