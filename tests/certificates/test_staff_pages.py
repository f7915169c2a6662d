"""The registrar reissues and revokes certificates, with a reason and a confirmation step."""

from __future__ import annotations

import html
import re

import httpx

from registry.accounts.roles import Role
from registry.audit.tables import AuditEntry
from registry.certificates.tables import Certificate
from registry.register import service as register
from tests.accounts.helpers import SignedIn, csrf_headers, user_signed_in_as
from tests.certificates.helpers import live_certificate, registration_certificates
from tests.register.helpers import put_on_register

HTML = {"accept": "text/html"}


def text(page: httpx.Response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.text)))


async def as_registrar(client: httpx.AsyncClient) -> SignedIn:
    registrar = await user_signed_in_as(Role.registrar)
    client.cookies.update(registrar.cookies())
    return registrar


async def post(client: httpx.AsyncClient, path: str, data: dict[str, str]) -> httpx.Response:
    return await client.post(path, data=data, headers=HTML | await csrf_headers(client))


async def test_revoking_takes_a_reason_then_a_confirmation(client: httpx.AsyncClient) -> None:
    entry = await put_on_register("Jane", "Smith")
    certificate = await live_certificate(entry.id)
    await as_registrar(client)
    number = entry.registration_number

    public = await client.get(f"/register/{number}", headers=HTML)
    assert f'href="/registrar/certificates/{number}"' in public.text
    found = await client.get("/registrar/certificates", params={"number": number}, headers=HTML)
    assert found.status_code == 303
    page = await client.get(found.headers["location"], headers=HTML)
    assert page.status_code == 200, page.text
    action = f"/registrar/certificates/{number}/{certificate.display_serial}/revoke"
    assert f'href="{action}"' in page.text

    form = await client.get(action, headers=HTML)
    assert form.status_code == 200
    assert "Reason for revoking the certificate" in text(form)
    empty = await post(client, action, {"step": "check", "reason": "  "})
    assert empty.status_code == 422
    assert "Give the reason for revoking the certificate" in text(empty)

    reason = "Issued with the wrong roles"
    check = await post(client, action, {"step": "check", "reason": reason})
    assert check.status_code == 200
    assert "Are you sure you want to revoke this certificate?" in text(check)
    assert (await live_certificate(entry.id)).serial == certificate.serial  # not yet

    done = await post(client, action, {"step": "confirm", "reason": reason})
    assert done.status_code == 303
    assert done.headers["location"] == f"/registrar/certificates/{number}?done=revoked"
    [revoked] = await registration_certificates(entry.id)
    assert revoked.revoked_at is not None
    assert revoked.revocation_reason == reason
    shown = await client.get(done.headers["location"], headers=HTML)
    assert "The certificate was revoked." in text(shown)
    assert f"Revoked {certificate.serial} {reason}" in text(shown)  # its history
    verdict = text(await client.get(f"/verify/{certificate.serial}", headers=HTML))
    assert "because issued with the wrong roles" in verdict
    history = await register.history(entry.id)
    assert history[-1].change == "certificate_revoked"
    assert history[-1].reason == reason
    assert history[-1].actor_label != ""
    audited = await AuditEntry.count().where(
        (AuditEntry.action == "certificates.revoked") & (AuditEntry.target_id == certificate.serial)
    )
    assert audited == 1

    again = await post(client, action, {"step": "confirm", "reason": reason})
    assert again.status_code == 409
    assert "is revoked already" in text(again)


async def test_reissuing_replaces_the_certificate(client: httpx.AsyncClient) -> None:
    entry = await put_on_register("Jane", "Smith")
    old = await live_certificate(entry.id)
    await as_registrar(client)
    action = f"/registrar/certificates/{entry.registration_number}/{old.display_serial}/reissue"
    reason = "Lost her copy"
    check = await post(client, action, {"step": "check", "reason": reason})
    assert "Are you sure you want to reissue this certificate?" in text(check)
    done = await post(client, action, {"step": "confirm", "reason": reason})
    assert done.status_code == 303
    first, second = await registration_certificates(entry.id)
    assert first.serial == old.serial
    assert first.superseded_by == second.id
    assert second.revoked_at is None
    history = await register.history(entry.id)
    assert [h.change for h in history[-2:]] == ["certificate_superseded", "certificate_issued"]
    assert history[-1].reason == reason


async def test_a_certificate_of_another_entry_and_other_roles_are_refused(
    client: httpx.AsyncClient,
) -> None:
    jane = await put_on_register("Jane", "Smith")
    john = await put_on_register("John", "Jones")
    johns = await live_certificate(john.id)
    await as_registrar(client)
    wrong = f"/registrar/certificates/{jane.registration_number}/{johns.display_serial}/revoke"
    assert (await client.get(wrong, headers=HTML)).status_code == 404
    refused = await post(client, wrong, {"step": "confirm", "reason": "No"})
    assert refused.status_code == 404
    unknown_action = f"/registrar/certificates/{john.registration_number}/{johns.serial}/delete"
    assert (await client.get(unknown_action, headers=HTML)).status_code == 404
    mine = f"/registrar/certificates/{john.registration_number}/{johns.display_serial}/revoke"
    for reason, words in (
        ("Issued\x00 in error", "must not contain control characters"),
        ("Issued\u202e in error", "must not contain characters that change the direction"),
        ("x" * 1001, "The reason must be 1,000 characters or fewer"),
    ):
        for step in ("check", "confirm"):
            answer = await post(client, mine, {"step": step, "reason": reason})
            assert answer.status_code == 422, (reason[:10], step)
            assert words in text(answer)
    no_csrf = await client.post(
        f"/registrar/certificates/{john.registration_number}/{johns.serial}/revoke",
        data={"step": "confirm", "reason": "No token"},
        headers=HTML,
    )
    assert no_csrf.status_code == 403
    assert await Certificate.count().where(Certificate.revoked_at.is_not_null()) == 0

    client.cookies.clear()
    practitioner = await user_signed_in_as(Role.practitioner)
    client.cookies.update(practitioner.cookies())
    page = await client.get(f"/registrar/certificates/{john.registration_number}", headers=HTML)
    assert page.status_code == 403
    public = await client.get(f"/register/{john.registration_number}", headers=HTML)
    assert "/registrar/certificates" not in public.text
