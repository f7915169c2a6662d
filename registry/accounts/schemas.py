"""What crosses the edge for accounts: forms posted by pages and JSON for the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from registry.accounts.roles import Role
from registry.accounts.users import normalise_email
from registry.errors import InvalidInput
from registry.web.forms import Form
from registry.web.inputs import Text


def _as_list(value: Any) -> Any:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def _some_role(value: list[str]) -> list[str]:
    if not value:
        raise ValueError("Choose at least one role")
    return value


# Checkboxes: absent when none is ticked, a single value when one is.
RoleChoices = Annotated[list[str], BeforeValidator(_as_list), AfterValidator(_some_role)]


def _required(message: str) -> Any:
    def check(value: str) -> str:
        if not value:
            raise ValueError(message)
        return value

    return check


def _email_format(value: str) -> str:
    # An address that cannot be anyone's is a typing mistake: say so, rather than "not recognised".
    try:
        normalise_email(value)
    except InvalidInput as error:
        raise ValueError(error.detail) from None
    return value


class SignInForm(Form):
    email: Text = ""
    password: str = ""
    next: str = ""

    _email = field_validator("email")(_required("Enter your email address"))
    _email_format = field_validator("email")(_email_format)
    _password = field_validator("password")(_required("Enter your password"))


class CodeForm(Form):
    code: Text = ""
    next: str = ""

    _code = field_validator("code")(_required("Enter the code from your authenticator app"))


class EmailForm(Form):
    email: Text = ""

    _email = field_validator("email")(_required("Enter your email address"))
    _email_format = field_validator("email")(_email_format)


class CreateAccountForm(Form):
    display_name: Text = ""
    email: Text = ""
    password: str = ""
    website: str = ""  # the honeypot: people leave it empty

    _name = field_validator("display_name")(_required("Enter your full name"))
    _email = field_validator("email")(_required("Enter your email address"))
    _email_format = field_validator("email")(_email_format)
    _password = field_validator("password")(_required("Create a password"))


def _matches_password(value: str, info: ValidationInfo) -> str:
    # Only once a new password was given: an empty form needs one message, not two.
    if "password" in info.data and value != info.data["password"]:
        raise ValueError("Passwords do not match")
    return value


class NewPasswordForm(Form):
    password: str = ""
    confirm_password: str = ""

    _password = field_validator("password")(_required("Enter a new password"))
    _confirm = field_validator("confirm_password")(_matches_password)


class ChangePasswordForm(Form):
    # Declared in the page's order, which is the order of the error summary.
    current_password: str = ""
    password: str = ""
    confirm_password: str = ""

    _current = field_validator("current_password")(_required("Enter your current password"))
    _password = field_validator("password")(_required("Enter a new password"))
    _confirm = field_validator("confirm_password")(_matches_password)


class TokenForm(Form):
    name: Text = ""

    _name = field_validator("name")(
        _required("Enter a name for the token, like 'case system export'")
    )


class StaffInviteForm(Form):
    email: Text = ""
    display_name: Text = ""
    roles: RoleChoices = []

    _email = field_validator("email")(_required("Enter an email address"))
    _name = field_validator("display_name")(_required("Enter the person's name"))


class RolesForm(Form):
    roles: RoleChoices = []


# --- API ----------------------------------------------------------------------------------


class AccountOut(BaseModel):
    id: int
    email: str
    display_name: str
    roles: list[Role]
    active: bool
    two_factor_enabled: bool
    created_at: datetime
    last_login_at: datetime | None


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Text = Field(min_length=1, max_length=80, description="What the token is for")


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None = Field(
        default=None, description="When the token stops working; null for one that never does"
    )


class IssuedTokenOut(TokenOut):
    token: str = Field(description="The whole token. It is shown once: store it now.")


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Text = Field(min_length=3, max_length=254, json_schema_extra={"format": "email"})
    display_name: Text = Field(min_length=1, max_length=120)
    roles: list[Role] = Field(min_length=1)


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[Role] | None = Field(default=None, min_length=1)
    active: bool | None = None


class AccountPage(BaseModel):
    items: list[AccountOut]
    total: int
    page: int
    page_size: int
