"""The verification pages and a practitioner's own certificates, over HTTP, on both engines."""

from __future__ import annotations

import copy
import html
import io
import json
import re

import httpx
import pypdf

from registry.accounts.roles import Role
from registry.certificates import credentials, keys
from registry.certificates.tables import Certificate
from registry.register import service as register
from registry.register.service import EntryMove
from tests.accounts.helpers import SignedIn, csrf_headers, make_user, sign_in
from tests.certificates.helpers import live_certificate
from tests.register.helpers import put_on_register

HTML = {"accept": "text/html"}
UNKNOWN = "0000-0000-0000-0000-0000-0000-000"
MISTYPED = "0000-0000-0000-0000-0000-0000-001"


def text(page: httpx.Response) -> str:
    """The page's words, tags removed and whitespace folded, as a reader meets them."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.text)))


async def post_form(
    client: httpx.AsyncClient,
    path: str,
    data: dict[str, str] | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
) -> httpx.Response:
    headers = HTML | await csrf_headers(client)
    return await client.post(path, data=data or {}, files=files, headers=headers)


async def test_the_qr_code_address_shows_the_verdict_then_each_check(
    client: httpx.AsyncClient,
) -> None:
    entry = await put_on_register("Jane", "Smith")
    certificate = await live_certificate(entry.id)
    page = await client.get(f"/verify/{certificate.serial}", headers=HTML)
    assert page.status_code == 200, page.text
    said = text(page)
    assert "Valid: Jane Smith is registered with no restrictions" in said
    for check in (
        "Signature valid Passed",
        "Issued by this register's key Passed",
        "Not revoked Passed",
        "Not suspended Passed",
        "Not expired Passed",
        "On the register now Passed",
    ):
        assert check in said, check
    assert f'href="/register/{entry.registration_number}"' in page.text
    assert certificate.display_serial in said


async def test_a_revoked_certificate_says_when_and_why(client: httpx.AsyncClient) -> None:
    entry = await put_on_register("Jane", "Smith")
    certificate = await live_certificate(entry.id)
    await register.move_entry(entry.id, EntryMove.lapse, reason="Not renewed")
    page = await client.get(f"/verify/{certificate.display_serial}", headers=HTML)
    assert page.status_code == 200
    said = text(page)
    assert "Not valid: this certificate was revoked on " in said
    assert "because the registration lapsed" in said
    assert "Not revoked Failed" in said
    assert "Signature valid Passed" in said


async def test_an_unknown_serial_is_not_found_and_a_mistyped_one_is_malformed(
    client: httpx.AsyncClient,
) -> None:
    unknown = await client.get(f"/verify/{UNKNOWN}", headers=HTML)
    assert unknown.status_code == 404
    assert "Certificate not found" in unknown.text
    assert f"No certificate has the serial {UNKNOWN}" in text(unknown)
    mistyped = await client.get(f"/verify/{MISTYPED}", headers=HTML)
    assert mistyped.status_code == 422
    assert "govuk-error-summary" in mistyped.text
    assert 'href="#serial"' in mistyped.text
    assert "its last character does not match the rest" in text(mistyped)
    assert f'value="{MISTYPED}"' in mistyped.text  # shown again to correct


async def test_a_serial_typed_into_the_form_opens_its_page(client: httpx.AsyncClient) -> None:
    entry = await put_on_register("Jane", "Smith")
    certificate = await live_certificate(entry.id)
    typed = certificate.display_serial.lower().replace("-", " ")
    answer = await post_form(client, "/verify", {"serial": typed})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/verify/{certificate.display_serial}"
    for serial, status, words in (
        ("", 422, "Enter the certificate's serial number, or choose its file"),
        (UNKNOWN, 404, f"No certificate has the serial {UNKNOWN}"),
        (MISTYPED, 422, "its last character does not match the rest"),
    ):
        page = await post_form(client, "/verify", {"serial": serial})
        assert page.status_code == status, serial
        assert "There is a problem" in page.text
        assert words in text(page)


async def test_the_form_needs_its_csrf_token(client: httpx.AsyncClient) -> None:
    answer = await client.post("/verify", data={"serial": UNKNOWN}, headers=HTML)
    assert answer.status_code == 403


async def test_an_uploaded_credential_is_checked_and_not_kept(client: httpx.AsyncClient) -> None:
    entry = await put_on_register("Jane", "Smith")
    credential = (await live_certificate(entry.id)).credential
    before = await Certificate.count()
    body = json.dumps(credential).encode()
    page = await post_form(
        client, "/verify", files={"credential": ("jane.json", body, "application/json")}
    )
    assert page.status_code == 200, page.text
    said = text(page)
    assert "Valid: Jane Smith is registered with no restrictions" in said
    assert "You uploaded jane.json. It was checked and has not been kept." in said

    tampered = copy.deepcopy(credential)
    tampered["validUntil"] = "2099-11-30T23:59:59Z"
    page = await post_form(
        client,
        "/verify",
        files={"credential": ("j.json", json.dumps(tampered).encode(), "application/json")},
    )
    assert page.status_code == 200
    said = text(page)
    assert "Not valid: " in said
    assert "Signature valid Failed" in said
    assert await Certificate.count() == before


async def test_an_upload_that_is_not_a_credential_gets_a_field_error(
    client: httpx.AsyncClient,
) -> None:
    cases = [
        (b"%PDF-1.7 not json", "this file is not JSON"),
        (b"\xff\xfe\x00garbage", "this file is not JSON"),
        (b'["a", "list"]', "The file is not a certificate credential"),
        (b'{"name": "Jane Smith"}', "That is not a certificate credential"),
        (b"", "The chosen file is empty"),
        (b'{"padding": "' + b"x" * 70_000 + b'"}', "The file must be 64 KB or smaller"),
    ]
    for content, words in cases:
        page = await post_form(
            client, "/verify", files={"credential": ("upload.json", content, "application/json")}
        )
        assert page.status_code == 422, (content[:20], page.text[:500])
        assert 'href="#credential"' in page.text
        assert words in text(page), words
    assert await Certificate.count() == 0
    nothing_chosen = await post_form(client, "/verify", {"action": "file"})
    assert nothing_chosen.status_code == 422
    assert 'href="#credential"' in nothing_chosen.text
    assert "Choose the certificate's .json file" in text(nothing_chosen)


async def test_a_body_far_over_the_limit_is_refused_whole(client: httpx.AsyncClient) -> None:
    page = await post_form(
        client, "/verify", files={"credential": ("big.json", b"{" * 600_000, "application/json")}
    )
    assert page.status_code == 413
    assert "too large" in page.text


# --- a practitioner's own certificates ---------------------------------------------------------


async def practitioner_on_register(
    given: str = "Jane", email: str | None = None
) -> tuple[SignedIn, register.Entry]:
    account = await make_user(Role.practitioner, email)
    entry = await put_on_register(given, "Smith", account_id=account.id)
    return await sign_in(account), entry


async def test_your_certificates_lists_each_with_its_validity_now(
    client: httpx.AsyncClient,
) -> None:
    jane, entry = await practitioner_on_register()
    first = await live_certificate(entry.id)
    await register.change_name(entry.id, given_names="Janet", family_name="Smith", reason="Deed")
    second = await live_certificate(entry.id)
    client.cookies.update(jane.cookies())
    page = await client.get("/your-certificates", headers=HTML)
    assert page.status_code == 200, page.text
    said = text(page)
    assert said.index(second.display_serial) < said.index(first.display_serial)  # newest first
    assert "Valid: Janet Smith is registered with no restrictions" in said
    assert "Not valid: this certificate was revoked on" in said
    assert f'href="/your-certificates/{second.display_serial}/pdf"' in page.text
    assert '<a href="/your-certificates"' in page.text or 'href="/your-certificates"' in page.text


async def test_the_downloaded_pdf_carries_a_credential_that_verifies(
    client: httpx.AsyncClient,
) -> None:
    jane, entry = await practitioner_on_register()
    number = entry.registration_number
    certificate = await live_certificate(entry.id)
    client.cookies.update(jane.cookies())
    pdf = await client.get(f"/your-certificates/{certificate.display_serial}/pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    saved_as = re.sub(r"[^0-9A-Z-]", "_", certificate.display_serial)  # "*" cannot be saved
    assert f'filename="{number}-{saved_as}.pdf"' in pdf.headers["content-disposition"]
    reader = pypdf.PdfReader(io.BytesIO(pdf.content))
    assert "Jane Smith" in reader.pages[0].extract_text()
    attached = reader.attachments[f"{certificate.display_serial}.json"][0]
    embedded = json.loads(attached)
    assert embedded == certificate.credential
    issuer = keys.issuer()
    assert credentials.verify(embedded, issuer.public_keys()).signature_valid
    answer = await client.post("/api/v1/verify", json={"credential": embedded})
    assert answer.json()["valid"] is True

    downloaded = await client.get(f"/your-certificates/{certificate.serial}/json")
    assert downloaded.status_code == 200
    assert downloaded.headers["content-type"].startswith("application/vc+ld+json")
    assert "attachment" in downloaded.headers["content-disposition"]
    assert downloaded.json() == certificate.credential


async def test_someone_elses_certificate_is_not_found(client: httpx.AsyncClient) -> None:
    jane, _ = await practitioner_on_register("Jane", "jane@example.org")
    _, johns_entry = await practitioner_on_register("John", "john@example.org")
    johns = await live_certificate(johns_entry.id)
    client.cookies.update(jane.cookies())
    for path in ("pdf", "json"):
        answer = await client.get(f"/your-certificates/{johns.display_serial}/{path}", headers=HTML)
        assert answer.status_code == 404
        assert "You have no certificate with the serial" in answer.text
    api = await client.get(f"/api/v1/me/certificates/{johns.serial}", headers=jane.bearer())
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")


async def test_the_api_lists_your_certificates_and_gives_one_with_its_credential(
    client: httpx.AsyncClient,
) -> None:
    jane, entry = await practitioner_on_register()
    certificate = await live_certificate(entry.id)
    listed = await client.get("/api/v1/me/certificates", headers=jane.bearer())
    assert listed.status_code == 200, listed.text
    [only] = listed.json()
    assert only["serial"] == certificate.display_serial
    assert only["verification"]["valid"] is True
    assert only["pdf_url"] == f"/your-certificates/{certificate.display_serial}/pdf"
    assert only["verify_url"].endswith(f"/verify/{certificate.serial}")
    one = await client.get(
        f"/api/v1/me/certificates/{certificate.display_serial}", headers=jane.bearer()
    )
    assert one.status_code == 200
    assert one.json()["credential"] == certificate.credential
    malformed = await client.get(f"/api/v1/me/certificates/{MISTYPED}", headers=jane.bearer())
    assert malformed.status_code == 422


async def test_a_practitioner_with_no_entry_has_no_certificates(client: httpx.AsyncClient) -> None:
    person = await sign_in(await make_user(Role.practitioner))
    client.cookies.update(person.cookies())
    page = await client.get("/your-certificates", headers=HTML)
    assert page.status_code == 200
    assert "You have no certificates yet" in text(page)
    listed = await client.get("/api/v1/me/certificates", headers=person.bearer())
    assert listed.json() == []
