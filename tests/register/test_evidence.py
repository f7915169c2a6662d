"""Evidence files: judged by their bytes, kept by their hash, refused without a trace, and
downloaded only by registrars (each download audited)."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from registry.accounts.roles import Role
from registry.audit.tables import AuditEntry
from registry.config import Settings
from registry.errors import Conflict, InvalidInput, PermissionDenied
from registry.register import evidence
from registry.register.applications import records, workflow
from registry.register.tables import Application, ApplicationKind, EvidenceFile
from tests.accounts.helpers import make_user
from tests.register.applying import (
    JPEG,
    PDF,
    PNG,
    fill_in,
    new_account,
    stored_files,
    submitted_application,
)
from tests.register.browsing import error_summary, inline_error, post_form, signed_in

TEXT = b"This is my certificate, honestly.\n"
TOO_BIG = b"%PDF-" + bytes(evidence.MAX_BYTES - 4)  # one byte over 10 MB


# --- what a file is -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (PDF, "application/pdf"),
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (TEXT, None),
        (b"%PDF", None),  # too short to be the signature
        (b"\x89PNG\r\n", None),
        (b"GIF89a" + bytes(10), None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
    ],
)
def test_a_file_is_known_by_its_first_bytes(data: bytes, content_type: str | None) -> None:
    assert evidence.sniff(data) == content_type


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("", None, "Select a file showing your qualification"),
        ("", b"", "Select a file showing your qualification"),
        ("certificate.pdf", b"", "The selected file is empty"),
        ("certificate.pdf", TEXT, "The selected file must be a PDF, PNG or JPEG"),
        ("certificate.txt", TEXT, "The selected file must be a PDF, PNG or JPEG"),
        ("certificate.pdf", TOO_BIG, "The selected file must be smaller than 10 MB"),
    ],
)
def test_a_file_that_is_not_what_we_take_is_refused(
    filename: str, data: bytes | None, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as refused:
        evidence.check_upload(filename, data)
    assert refused.value.field == "evidence"


def test_a_file_is_taken_for_what_it_is_whatever_it_is_called() -> None:
    checked = evidence.check_upload("scan.pdf", PNG)
    assert checked.content_type == "image/png"
    assert evidence.download_name(checked.filename, checked.content_type) == "scan.png"
    assert evidence.download_name("photo.JPEG", "image/jpeg") == "photo.JPEG"
    assert evidence.download_name("certificate", "application/pdf") == "certificate.pdf"
    assert evidence.check_upload("exactly.pdf", b"%PDF-" + bytes(evidence.MAX_BYTES - 5)).size == (
        evidence.MAX_BYTES
    )


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("C:\\Users\\amara\\Documents\\certificate.pdf", "certificate.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("new\nline\x00.pdf", "newline.pdf"),
        ("", "evidence"),
        ("a" * 300 + ".pdf", "a" * 196 + ".pdf"),
    ],
)
def test_a_filename_is_only_a_name(sent: str, kept: str) -> None:
    assert evidence.clean_filename(sent) == kept


# --- keeping a file -----------------------------------------------------------------------


async def _draft(settings: Settings) -> tuple[Any, Any]:
    applicant = await new_account()
    draft = await workflow.start(applicant.id, ApplicationKind.initial)
    return applicant, draft


async def test_an_upload_is_kept_under_its_hash_with_its_real_type(
    engine: Any, settings: Settings
) -> None:
    applicant, draft = await _draft(settings)
    record = await records.attach_evidence(
        draft.id, applicant.id, "scan.pdf", PNG, settings.data_dir
    )
    digest = hashlib.sha256(PNG).hexdigest()
    assert record.evidence is not None
    assert (record.evidence.sha256, record.evidence.content_type) == (digest, "image/png")
    assert record.evidence.filename == "scan.pdf"
    path = settings.data_dir / "files" / digest[:2] / digest
    assert path.read_bytes() == PNG
    # The same file again is one file on disk, though each upload is recorded.
    other, second = await _draft(settings)
    await records.attach_evidence(second.id, other.id, "again.png", PNG, settings.data_dir)
    assert await EvidenceFile.count().where(EvidenceFile.sha256 == digest) == 2
    assert len(list(path.parent.glob(f"{digest}*"))) == 1


@pytest.mark.parametrize(
    ("filename", "data"),
    [("certificate.pdf", TEXT), ("certificate.pdf", TOO_BIG), ("certificate.pdf", b"")],
)
async def test_a_refused_upload_stores_nothing(
    engine: Any, settings: Settings, filename: str, data: bytes
) -> None:
    applicant, draft = await _draft(settings)
    files_before = stored_files(settings.data_dir)
    audited = await AuditEntry.count()
    with pytest.raises(InvalidInput):
        await records.attach_evidence(draft.id, applicant.id, filename, data, settings.data_dir)
    assert stored_files(settings.data_dir) == files_before
    assert await EvidenceFile.count() == 0
    assert (await records.get(draft.id)).evidence is None
    assert await AuditEntry.count() == audited


async def test_no_upload_to_a_submitted_application_or_someone_elses(
    engine: Any, settings: Settings
) -> None:
    applicant = await new_account()
    record = await submitted_application(settings.data_dir, applicant)
    unseen = b"%PDF-1.4 never stored"
    with pytest.raises(Conflict):
        await records.attach_evidence(
            record.id, applicant.id, "late.pdf", unseen, settings.data_dir
        )
    _, draft = await _draft(settings)
    with pytest.raises(PermissionDenied):
        await records.attach_evidence(
            draft.id, applicant.id, "sneaky.pdf", unseen, settings.data_dir
        )
    assert hashlib.sha256(unseen).hexdigest() not in stored_files(settings.data_dir)
    assert await EvidenceFile.count() == 1


# --- uploading through the page -----------------------------------------------------------


@pytest.fixture
async def applicant_browser(client: httpx.AsyncClient) -> tuple[httpx.AsyncClient, Any]:
    account = await make_user(Role.practitioner, "evidence.applicant@example.org")
    await workflow.start(account.id, ApplicationKind.initial)
    return await signed_in(client, account), account


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (None, "Select a file showing your qualification"),
        (("notes.pdf", TEXT, "application/pdf"), "The selected file must be a PDF, PNG or JPEG"),
        (("big.pdf", TOO_BIG, "application/pdf"), "The selected file must be smaller than 10 MB"),
        (("empty.pdf", b"", "application/pdf"), "The selected file is empty"),
    ],
)
async def test_the_upload_page_names_what_is_wrong_and_keeps_nothing(
    applicant_browser: tuple[httpx.AsyncClient, Any],
    settings: Settings,
    upload: tuple[str, bytes, str] | None,
    message: str,
) -> None:
    browser, _ = applicant_browser
    files_before = stored_files(settings.data_dir)
    files = {"evidence": upload} if upload else {"evidence": ("", b"", "application/octet-stream")}
    page = await post_form(browser, "/apply/evidence", files=files)
    assert page.status_code == 422
    assert error_summary(page) == [message]
    assert inline_error(page, "evidence") == f"Error: {message}"
    assert "<title>Error: Upload evidence of your qualification" in page.text
    assert stored_files(settings.data_dir) == files_before
    assert await EvidenceFile.count() == 0


async def test_the_upload_page_keeps_a_good_file_and_moves_on(
    applicant_browser: tuple[httpx.AsyncClient, Any], settings: Settings
) -> None:
    browser, account = applicant_browser
    page = await post_form(
        browser, "/apply/evidence", files={"evidence": ("photo.jpg", JPEG, "image/jpeg")}
    )
    assert page.status_code == 303
    assert page.headers["location"] == "/apply/character"
    record = await records.latest_for(account.id)
    assert record is not None
    assert record.evidence is not None
    assert record.evidence.content_type == "image/jpeg"
    again = await browser.get("/apply/evidence")
    assert "You have uploaded photo.jpg (JPEG, 1 KB)" in again.text


async def test_a_request_far_over_the_limit_is_refused_before_it_is_read(
    applicant_browser: tuple[httpx.AsyncClient, Any], settings: Settings
) -> None:
    browser, _ = applicant_browser
    files_before = stored_files(settings.data_dir)
    huge = b"%PDF-" + bytes(13 * 1024 * 1024)
    page = await post_form(
        browser, "/apply/evidence", files={"evidence": ("huge.pdf", huge, "application/pdf")}
    )
    assert page.status_code == 413
    assert "What you sent is too large." in page.text
    assert stored_files(settings.data_dir) == files_before
    assert await EvidenceFile.count() == 0


async def test_an_upload_without_its_csrf_token_is_refused(
    applicant_browser: tuple[httpx.AsyncClient, Any], settings: Settings
) -> None:
    browser, _ = applicant_browser
    refused = await browser.post(
        "/apply/evidence", files={"evidence": ("c.pdf", PDF, "application/pdf")}
    )
    assert refused.status_code == 403
    assert await EvidenceFile.count() == 0


# --- downloading --------------------------------------------------------------------------


async def test_a_registrar_downloads_the_evidence_and_the_viewing_is_audited(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    record = await submitted_application(settings.data_dir, evidence=PNG)
    registrar = await make_user(Role.registrar, "rhea@example.org")
    browser = await signed_in(client, registrar)
    response = await browser.get(f"/registrar/applications/{record.id}/evidence")
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"] == 'attachment; filename="certificate.png"'
    assert response.headers["x-content-type-options"] == "nosniff"
    viewed = await AuditEntry.select().where(AuditEntry.action == "register.evidence_viewed")
    assert [(row["target_id"], row["actor_label"]) for row in viewed] == [
        (str(record.id), "rhea@example.org")
    ]


@pytest.mark.parametrize("role", [Role.practitioner, Role.caseworker, Role.employer, None])
async def test_nobody_else_can_download_evidence(
    client: httpx.AsyncClient, settings: Settings, role: Role | None
) -> None:
    applicant = await make_user(Role.practitioner, "owner@example.org")
    record = await submitted_application(settings.data_dir, applicant)
    if role is Role.practitioner:
        await signed_in(client, applicant)  # even the applicant: evidence is for registrars
    elif role is not None:
        await signed_in(client, await make_user(role, f"{role.value}@example.org"))
    response = await client.get(f"/registrar/applications/{record.id}/evidence")
    assert response.status_code == (401 if role is None else 403)
    assert PDF not in response.content
    assert await AuditEntry.count().where(AuditEntry.action == "register.evidence_viewed") == 0


async def test_a_draft_or_an_application_without_evidence_has_none_to_download(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    applicant = await new_account()
    draft = await workflow.start(applicant.id, ApplicationKind.initial)
    await fill_in(draft.id, applicant.id, settings.data_dir)
    browser = await signed_in(client, await make_user(Role.registrar, "r@example.org"))
    # A draft is the applicant's own until they send it: not even its evidence is shown.
    assert (await browser.get(f"/registrar/applications/{draft.id}")).status_code == 404
    assert (await browser.get(f"/registrar/applications/{draft.id}/evidence")).status_code == 404
    await workflow.submit(draft.id, applicant.id)
    await Application.update({Application.evidence: None}).where(Application.id == draft.id)
    assert (await browser.get(f"/registrar/applications/{draft.id}/evidence")).status_code == 404
    assert (await browser.get("/registrar/applications/987654/evidence")).status_code == 404
