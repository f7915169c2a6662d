"""The accounts API as a program meets it, on both engines: bearer tokens in, JSON or
problem+json out, and nothing changed by a request that is refused."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from registry.accounts import sign_in, tokens, users
from registry.accounts.auth import SESSION_COOKIE
from registry.accounts.roles import Role
from registry.accounts.tables import ApiToken, PasswordResetToken, User
from registry.audit import service as audit
from registry.audit.tables import AuditEntry
from tests.accounts.helpers import SignedIn, user_signed_in_as

PROBLEM_JSON = "application/problem+json"


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem of ``status`` that says what went wrong."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["instance"] == response.request.url.path
    return body


async def admin(email: str = "ada@regulator.example") -> SignedIn:
    return await user_signed_in_as(Role.admin, email)


async def unchanged_since(users: int, entries: int) -> bool:
    return bool(await User.count() == users and await AuditEntry.count() == entries)


# --- who is calling ---------------------------------------------------------------------------


async def test_me_describes_the_tokens_owner(client: httpx.AsyncClient) -> None:
    signed_in = await user_signed_in_as(Role.practitioner, "pat@example.org")

    response = await client.get("/api/v1/me", headers=signed_in.bearer())

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == signed_in.account.id
    assert body["email"] == "pat@example.org"
    assert body["roles"] == ["practitioner"]
    assert body["active"] is True
    assert body["two_factor_enabled"] is False
    assert not {key for key in body if "password" in key or "secret" in key or "hash" in key}


NO_TOKEN = "Bearer"
INVALID_TOKEN = 'Bearer error="invalid_token", error_description="The token is not valid"'


@pytest.mark.parametrize(
    ("authorization", "challenge"),
    [
        (None, NO_TOKEN),
        ("Basic cGF0OnBhc3N3b3Jk", NO_TOKEN),
        ("Bearer ", NO_TOKEN),
        ("Bearer prr_" + "x" * 43, INVALID_TOKEN),
        ("Bearer not-a-token", INVALID_TOKEN),
    ],
)
async def test_no_valid_token_is_a_401_problem_with_a_bearer_challenge(
    client: httpx.AsyncClient, authorization: str | None, challenge: str
) -> None:
    headers = {"authorization": authorization} if authorization else {}

    response = await client.get("/api/v1/me", headers=headers)

    body = assert_problem(response, 401)
    assert response.headers["www-authenticate"] == challenge
    assert "Send an API token in the Authorization header: Bearer prr_…" in body["detail"]
    assert "Sign in" not in body["detail"]
    if challenge == INVALID_TOKEN:
        assert body["detail"].startswith("That API token is not valid")


async def test_the_api_never_accepts_a_session_cookie(client: httpx.AsyncClient) -> None:
    signed_in = await user_signed_in_as(Role.practitioner)

    response = await client.get(
        "/api/v1/me", headers={"cookie": f"{SESSION_COOKIE}={signed_in.session_token}"}
    )

    assert_problem(response, 401)


async def test_a_page_never_accepts_a_bearer_token(client: httpx.AsyncClient) -> None:
    signed_in = await user_signed_in_as(Role.practitioner)

    response = await client.get("/account", headers=signed_in.bearer())

    assert response.status_code == 401
    assert "www-authenticate" not in response.headers  # pages ask people to sign in instead


async def test_a_deactivated_users_token_stops_working(client: httpx.AsyncClient) -> None:
    signed_in = await user_signed_in_as(Role.employer)
    await users.set_active(signed_in.account.id, False)

    response = await client.get("/api/v1/me", headers=signed_in.bearer())
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == INVALID_TOKEN


async def test_a_caller_without_the_role_gets_a_403_problem(client: httpx.AsyncClient) -> None:
    registrar = await user_signed_in_as(Role.registrar)
    users = await User.count()

    listed = await client.get("/api/v1/admin/users", headers=registrar.bearer())
    created = await client.post(
        "/api/v1/admin/users",
        headers=registrar.bearer(),
        json={"email": "x@example.org", "display_name": "X", "roles": ["admin"]},
    )

    assert_problem(listed, 403)
    assert_problem(created, 403)
    assert await User.count() == users


# --- your tokens ------------------------------------------------------------------------------


async def test_a_token_is_created_listed_without_its_value_and_revoked(
    client: httpx.AsyncClient,
) -> None:
    signed_in = await user_signed_in_as(Role.employer)

    created = await client.post(
        "/api/v1/me/tokens", headers=signed_in.bearer(), json={"name": "nightly check"}
    )
    assert created.status_code == 201
    issued = created.json()
    token = issued["token"]
    assert token.startswith("prr_")
    assert token.startswith(issued["prefix"])
    assert issued["revoked_at"] is None
    new_bearer = {"authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/me", headers=new_bearer)).status_code == 200

    listed = await client.get("/api/v1/me/tokens", headers=signed_in.bearer())
    assert listed.status_code == 200
    assert token not in listed.text
    names = {item["name"]: item for item in listed.json()}
    assert set(names) == {"tests", "nightly check"}
    assert "token" not in names["nightly check"]
    assert names["nightly check"]["last_used_at"] is not None

    revoked = await client.delete(f"/api/v1/me/tokens/{issued['id']}", headers=signed_in.bearer())
    assert revoked.status_code == 204
    refused = await client.get("/api/v1/me", headers=new_bearer)
    assert_problem(refused, 401)
    assert refused.headers["www-authenticate"] == INVALID_TOKEN
    after = {
        item["name"]: item
        for item in (await client.get("/api/v1/me/tokens", headers=signed_in.bearer())).json()
    }
    assert after["nightly check"]["revoked_at"] is not None
    actions = [entry.action for entry in (await audit.search(action="accounts.token")).entries]
    assert sorted(actions) == [
        "accounts.token_issued",
        "accounts.token_issued",
        "accounts.token_revoked",
    ]


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "x" * 81}, {"name": "export", "expires": "never"}, {"name": 7}],
)
async def test_a_token_request_that_does_not_fit_is_a_422_problem(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    signed_in = await user_signed_in_as(Role.employer)

    response = await client.post("/api/v1/me/tokens", headers=signed_in.bearer(), json=body)

    problem = assert_problem(response, 422)
    assert problem["errors"]
    assert await ApiToken.count() == 1


async def test_a_blank_token_name_is_refused(client: httpx.AsyncClient) -> None:
    signed_in = await user_signed_in_as(Role.employer)

    response = await client.post(
        "/api/v1/me/tokens", headers=signed_in.bearer(), json={"name": "   "}
    )

    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "name"
    assert await ApiToken.count() == 1


async def test_someone_elses_token_is_not_found(client: httpx.AsyncClient) -> None:
    owner = await user_signed_in_as(Role.employer, "owner@example.org")
    other = await user_signed_in_as(Role.employer, "other@example.org")
    owners_token = (await tokens.list_api_tokens(owner.account.id))[0]
    entries = await AuditEntry.count()

    response = await client.delete(f"/api/v1/me/tokens/{owners_token.id}", headers=other.bearer())

    assert_problem(response, 404)
    assert (await client.get("/api/v1/me", headers=owner.bearer())).status_code == 200
    assert await AuditEntry.count() == entries


async def test_the_api_needs_no_csrf_token(client: httpx.AsyncClient) -> None:
    signed_in = await user_signed_in_as(Role.employer)
    await client.get("/sign-in")  # even holding a CSRF cookie, no token need be echoed

    response = await client.post(
        "/api/v1/me/tokens", headers=signed_in.bearer(), json={"name": "script"}
    )

    assert response.status_code == 201


# --- user administration ----------------------------------------------------------------------


async def test_an_admin_invites_a_user(client: httpx.AsyncClient) -> None:
    ada = await admin()

    response = await client.post(
        "/api/v1/admin/users",
        headers=ada.bearer(),
        json={
            "email": "Sam@Regulator.example",
            "display_name": "Sam Okoro",
            "roles": ["registrar"],
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "sam@regulator.example"
    assert body["roles"] == ["registrar"]
    invited = await users.get_account(body["id"])
    assert not invited.has_password
    # Invited, as on the page: a link to choose a password exists for the invitation to carry.
    assert await PasswordResetToken.count().where(PasswordResetToken.user == invited.id) == 1
    entry = (await audit.search(action="accounts.user_created")).entries[0]
    assert entry.actor_id == ada.account.id
    assert entry.target_id == str(invited.id)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {
                "email": "sam@regulator.example",
                "display_name": "Sam",
                "roles": ["registrar"],
                "password": "x",
            },
            "password",
        ),
        ({"email": "sam@regulator.example", "display_name": "Sam", "roles": []}, "roles"),
        ({"email": "sam@regulator.example", "display_name": "Sam", "roles": ["root"]}, "roles"),
        ({"email": "sam@regulator.example", "roles": ["registrar"]}, "display_name"),
        ({"email": "sam-at-regulator", "display_name": "Sam", "roles": ["registrar"]}, "email"),
    ],
)
async def test_a_user_that_does_not_fit_is_a_422_problem_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    ada = await admin()
    users, entries = await User.count(), await AuditEntry.count()

    response = await client.post("/api/v1/admin/users", headers=ada.bearer(), json=body)

    problem = assert_problem(response, 422)
    assert [error["field"].split(".")[0] for error in problem["errors"]] == [field]
    assert await unchanged_since(users, entries)


async def test_a_body_that_is_not_json_is_a_400_problem(client: httpx.AsyncClient) -> None:
    ada = await admin()
    users, entries = await User.count(), await AuditEntry.count()

    response = await client.post(
        "/api/v1/admin/users",
        headers={**ada.bearer(), "content-type": "application/json"},
        content=b'{"email": "sam@regulator.example",',
    )

    assert_problem(response, 400)
    assert await unchanged_since(users, entries)


async def test_a_second_account_for_an_address_is_a_409_problem(client: httpx.AsyncClient) -> None:
    ada = await admin()
    users, entries = await User.count(), await AuditEntry.count()

    response = await client.post(
        "/api/v1/admin/users",
        headers=ada.bearer(),
        json={"email": "ADA@regulator.example", "display_name": "Ada again", "roles": ["admin"]},
    )

    problem = assert_problem(response, 409)
    assert problem["detail"] == "There is already an account for ada@regulator.example"
    assert await unchanged_since(users, entries)


async def test_an_unknown_user_is_a_404_problem(client: httpx.AsyncClient) -> None:
    ada = await admin()
    entries = await AuditEntry.count()

    response = await client.patch(
        "/api/v1/admin/users/987654", headers=ada.bearer(), json={"roles": ["registrar"]}
    )

    problem = assert_problem(response, 404)
    assert problem["detail"] == "There is no user with id 987654"
    assert await AuditEntry.count() == entries


@pytest.mark.parametrize(
    "body", [{"roles": []}, {"roles": ["root"]}, {"active": "perhaps"}, {"email": "x@example.org"}]
)
async def test_a_change_that_does_not_fit_is_a_422_problem(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    ada = await admin()
    staff = await user_signed_in_as(Role.registrar, "reg@regulator.example")
    entries = await AuditEntry.count()

    response = await client.patch(
        f"/api/v1/admin/users/{staff.account.id}", headers=ada.bearer(), json=body
    )

    assert_problem(response, 422)
    assert await users.get_account(staff.account.id) == staff.account
    assert await AuditEntry.count() == entries


async def test_an_admin_lists_users_by_role_and_by_name(client: httpx.AsyncClient) -> None:
    ada = await admin()
    await user_signed_in_as(Role.registrar, "reg@regulator.example")
    await user_signed_in_as(Role.practitioner, "pat@example.org")

    by_role = await client.get("/api/v1/admin/users?role=registrar", headers=ada.bearer())
    by_text = await client.get("/api/v1/admin/users?q=PAT", headers=ada.bearer())
    bad_role = await client.get("/api/v1/admin/users?role=root", headers=ada.bearer())

    assert [user["email"] for user in by_role.json()["items"]] == ["reg@regulator.example"]
    assert by_text.json()["total"] == 1
    assert by_text.json()["items"][0]["email"] == "pat@example.org"
    assert_problem(bad_role, 422)


async def test_an_admin_changes_roles_and_deactivates(client: httpx.AsyncClient) -> None:
    ada = await admin()
    staff = await user_signed_in_as(Role.registrar, "reg@regulator.example")
    path = f"/api/v1/admin/users/{staff.account.id}"

    changed = await client.patch(path, headers=ada.bearer(), json={"roles": ["caseworker"]})
    assert changed.status_code == 200
    assert changed.json()["roles"] == ["caseworker"]

    deactivated = await client.patch(path, headers=ada.bearer(), json={"active": False})
    assert deactivated.status_code == 200
    assert deactivated.json()["active"] is False
    assert_problem(await client.get("/api/v1/me", headers=staff.bearer()), 401)
    assert await sign_in.session_for(staff.session_token) is None


async def test_an_admin_cannot_deactivate_themselves_even_with_another_change(
    client: httpx.AsyncClient,
) -> None:
    ada = await admin()
    entries = await AuditEntry.count()

    response = await client.patch(
        f"/api/v1/admin/users/{ada.account.id}",
        headers=ada.bearer(),
        json={"roles": ["registrar"], "active": False},
    )

    problem = assert_problem(response, 409)
    assert problem["detail"] == "You cannot deactivate your own account"
    assert await users.get_account(ada.account.id) == ada.account  # roles untouched too
    assert await AuditEntry.count() == entries
