"""Employer pages: asking for an account, a registrar's decision, the organisation's members
and keys, and checks by pasted numbers or a CSV file with a CSV download."""

from __future__ import annotations

import csv
import io
import re

import httpx

from registry.employers.tables import ApiKey, BulkCheck, Organisation
from tests.accounts.helpers import SignedIn, csrf_headers, sign_in
from tests.employers.helpers import employer, every_status, registrar

HTML = {"accept": "text/html"}


async def _as(client: httpx.AsyncClient, person: SignedIn) -> dict[str, str]:
    client.cookies.update(person.cookies())
    return HTML | await csrf_headers(client)


async def test_asking_for_an_account_and_a_registrar_approving_it(
    client: httpx.AsyncClient,
) -> None:
    headers = HTML | await csrf_headers(client)
    form = await client.get("/employers/request", headers=headers)
    assert form.status_code == 200
    wrong = await client.post(
        "/employers/request",
        data={"name": "", "contact_name": "Wendy West", "contact_email": "nope"},
        headers=headers,
    )
    assert wrong.status_code == 422
    assert "govuk-error-summary" in wrong.text
    assert "Enter the organisation" in wrong.text
    assert await Organisation.count() == 0
    sent = await client.post(
        "/employers/request",
        data={
            "name": "Western Trust",
            "contact_name": "Wendy West",
            "contact_email": "wendy@west.example.org",
            "about": "Forty officers",
        },
        headers=headers,
    )
    assert sent.status_code == 303
    assert (await client.get(sent.headers["location"], headers=headers)).status_code == 200
    staff = await sign_in(await registrar())
    headers = await _as(client, staff)
    listed = await client.get("/registrar/employers", headers=headers)
    assert "Western Trust" in listed.text
    organisation_id = int(re.findall(r"/registrar/employers/(\d+)", listed.text)[0])
    page = await client.get(f"/registrar/employers/{organisation_id}", headers=headers)
    assert "Forty officers" in page.text
    no_reason = await client.post(
        f"/registrar/employers/{organisation_id}/approve", data={"reason": ""}, headers=headers
    )
    assert no_reason.status_code == 422
    assert "Give the reason" in no_reason.text
    approved = await client.post(
        f"/registrar/employers/{organisation_id}/approve",
        data={"reason": "A known trust"},
        headers=headers,
    )
    assert approved.status_code == 303
    shown = await client.get(approved.headers["location"], headers=headers)
    assert "Organisation approved" in shown.text
    missing = await client.get("/registrar/employers/987654", headers=headers)
    assert missing.status_code == 404


async def test_staff_add_an_organisation(client: httpx.AsyncClient) -> None:
    headers = await _as(client, await sign_in(await registrar()))
    wrong = await client.post(
        "/registrar/employers/new",
        data={"name": "East", "contact_name": "", "contact_email": "e@east.example.org"},
        headers=headers,
    )
    assert wrong.status_code == 422
    made = await client.post(
        "/registrar/employers/new",
        data={"name": "East", "contact_name": "Ed East", "contact_email": "e@east.example.org"},
        headers=headers,
    )
    assert made.status_code == 303
    assert "Organisation created" in (await client.get(made.headers["location"])).text


async def test_an_administrator_invites_and_makes_and_revokes_a_key(
    client: httpx.AsyncClient,
) -> None:
    north = await employer()
    headers = await _as(client, north.admin)
    page = await client.get("/organisation", headers=headers)
    assert page.status_code == 200
    assert "Northern Probation Trust" in page.text
    invited = await client.post(
        "/organisation/members",
        data={"display_name": "Colin North", "email": "colin@north.example.org", "admin": "yes"},
        headers=headers,
    )
    assert invited.status_code == 303
    assert "Colin North" in (await client.get("/organisation", headers=headers)).text
    nameless = await client.post(
        "/organisation/keys", data={"key_name": "", "scopes": "verify"}, headers=headers
    )
    assert nameless.status_code == 422
    assert 'href="#key_name"' in nameless.text
    made = await client.post(
        "/organisation/keys", data={"key_name": "HR system", "scopes": "verify"}, headers=headers
    )
    assert made.status_code == 200
    secret = re.findall(r"ppr_live_[A-Za-z0-9_-]{43}", made.text)[0]
    again = await client.get("/organisation", headers=headers)
    assert secret not in again.text
    assert secret[:15] in again.text
    key_id = (await ApiKey.select(ApiKey.id).first() or {})["id"]
    revoked = await client.post(f"/organisation/keys/{key_id}/revoke", headers=headers)
    assert revoked.status_code == 303
    assert "Key revoked" in (await client.get(revoked.headers["location"], headers=headers)).text
    south = await employer("Southern Trust", "south")
    await south.key()
    theirs = (await ApiKey.select(ApiKey.id).where(ApiKey.revoked_at.is_null()).first() or {})["id"]
    refused = await client.post(f"/organisation/keys/{theirs}/revoke", headers=headers)
    assert refused.status_code == 404


async def test_checking_pasted_numbers_and_downloading_the_results(
    client: httpx.AsyncClient,
) -> None:
    register = await every_status()
    north = await employer()
    headers = await _as(client, north.admin)
    form = await client.get("/organisation/checks", headers=headers)
    assert form.status_code == 200
    empty = await client.post("/organisation/checks", data={"numbers": "  \n "}, headers=headers)
    assert empty.status_code == 422
    assert "govuk-error-summary" in empty.text
    pasted = f"{register.numbers['registered']}\n\n nonsense \n{register.numbers['lapsed']}\n"
    checked = await client.post("/organisation/checks", data={"numbers": pasted}, headers=headers)
    assert checked.status_code == 200
    assert "Results of your check" in checked.text
    assert "Ada Lovelace" in checked.text
    assert "Lapsed" in checked.text
    assert "Not a registration number" in checked.text
    download = await client.post(
        "/organisation/checks", data={"numbers": pasted, "format": "csv"}, headers=headers
    )
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [r["status"] for r in rows] == ["registered", "malformed", "lapsed"]
    assert await BulkCheck.count() == 2


async def test_checking_a_csv_file(client: httpx.AsyncClient) -> None:
    register = await every_status()
    north = await employer()
    headers = await _as(client, north.admin)
    data = f"name,Registration Number\nAda,{register.numbers['registered']}\n".encode()
    checked = await client.post(
        "/organisation/checks",
        data={"column": "registration number"},
        files={"file": ("staff.csv", data, "text/csv")},
        headers=headers,
    )
    assert checked.status_code == 200
    assert "Ada Lovelace" in checked.text
    wrong = await client.post(
        "/organisation/checks",
        data={"column": "number"},
        files={"file": ("staff.csv", data, "text/csv")},
        headers=headers,
    )
    assert wrong.status_code == 422
    assert "no column named" in wrong.text
    latin = await client.post(
        "/organisation/checks",
        files={"file": ("staff.csv", "registration_number\nZoë\n".encode("latin-1"), "text/csv")},
        headers=headers,
    )
    assert latin.status_code == 422
    assert "UTF-8" in latin.text
    too_many = await client.post(
        "/organisation/checks",
        data={"numbers": "PR1000011\n" * 10_001},
        headers=headers,
    )
    assert too_many.status_code == 422
    assert "10,000" in too_many.text
    assert await BulkCheck.count() == 1


async def test_an_employer_in_no_organisation_is_told_so(client: httpx.AsyncClient) -> None:
    from registry.accounts import users
    from registry.accounts.roles import Role

    alone = await sign_in(await users.create_user("lone@example.org", "Lone", [Role.employer]))
    headers = await _as(client, alone)
    assert (await client.get("/organisation", headers=headers)).status_code == 404
    assert (await client.get("/organisation/checks", headers=headers)).status_code == 404
