"""A concern's attachments through the API, on both engines: uploaded through the shared
evidence storage for a token, named by the token when the concern is raised, downloaded by
staff (audited); a forged token, a disguised file or one too big is refused and nothing kept."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx

from registry.accounts import users
from registry.accounts.roles import Role
from registry.audit.tables import AuditEntry
from registry.conduct import concerns
from registry.conduct.tables import CaseDocument, Concern
from registry.config import Settings
from registry.core import clock
from registry.core.scheduler import JobContext
from registry.register import evidence
from registry.register.tables import EvidenceFile
from tests.accounts.helpers import sign_in

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def concern(**changes: Any) -> dict[str, Any]:
    return {
        "about_name": "Sam Someone",
        "about_workplace": "Leeds office",
        "what_happened": "They shouted at me.",
        "categories": ["professional_boundaries"],
        "relationship": "public",
        **changes,
    }


async def upload(client: httpx.AsyncClient, name: str, content: bytes) -> httpx.Response:
    return await client.post(
        "/api/v1/concerns/attachments", files={"data": (name, content, "application/pdf")}
    )


async def test_files_uploaded_for_a_concern_are_attached_and_staff_download_them(
    client: httpx.AsyncClient, engine: Any
) -> None:
    first = await upload(client, "letter.pdf", PDF)
    assert first.status_code == 201, first.text
    second = await upload(client, "photo.pdf", PNG)  # a PNG called .pdf: kept as the PNG it is
    assert second.json()["content_type"] == "image/png"
    again = await upload(client, "copy.pdf", PDF)
    assert again.json()["sha256"] == first.json()["sha256"]
    tokens = [first.json()["token"], second.json()["token"]]
    raised = await client.post("/api/v1/concerns", json=concern(attachments=tokens))
    assert raised.status_code == 201, raised.text
    documents = await CaseDocument.select().order_by(CaseDocument.id)
    assert len(documents) == 2
    [stored] = await Concern.select()
    assert {row["concern"] for row in documents} == {stored["id"]}
    caseworker = await sign_in(
        await users.create_user("cw@example.org", "Case Worker", [Role.caseworker])
    )
    case = (await client.get(f"/api/v1/cases/{stored['case']}", headers=caseworker.bearer())).json()
    assert [each["filename"] for each in case["documents"]] == ["letter.pdf", "photo.pdf"]
    download = await client.get(
        f"/api/v1/cases/{stored['case']}/documents/{documents[0]['id']}",
        headers=caseworker.bearer(),
    )
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["cache-control"] == "no-store"
    assert await AuditEntry.exists().where(AuditEntry.action == "conduct.document_downloaded")
    anonymous = await client.get(f"/api/v1/cases/{stored['case']}/documents/{documents[0]['id']}")
    assert anonymous.status_code == 401


async def test_a_forged_or_guessed_token_attaches_nothing(
    client: httpx.AsyncClient, engine: Any
) -> None:
    token = (await upload(client, "letter.pdf", PDF)).json()["token"]
    file_id, issued, mac = token.split(".")
    for forged in (
        f"{file_id}.{issued}.{'0' * len(mac)}",
        f"{int(file_id) + 1}.{issued}.{mac}",
        f"{file_id}.{int(issued) + 1}.{mac}",
        file_id,
    ):
        raised = await client.post("/api/v1/concerns", json=concern(attachments=[forged]))
        assert raised.status_code == 422, forged
        assert "could not be found or has expired" in raised.json()["detail"]
    assert await Concern.count() == 0
    assert await CaseDocument.count() == 0


async def test_a_disguised_or_oversized_upload_is_refused_and_nothing_is_kept(
    client: httpx.AsyncClient, engine: Any
) -> None:
    exe = await upload(client, "invoice.pdf", b"MZ\x90\x00\x03 a program")
    assert exe.status_code == 422
    assert exe.json()["detail"] == "The selected file must be a PDF, PNG or JPEG"
    big = await upload(client, "big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024))
    assert big.status_code == 422
    assert "smaller than 10 MB" in big.json()["detail"]
    assert await EvidenceFile.count() == 0


async def test_too_many_attachments_are_refused(client: httpx.AsyncClient, engine: Any) -> None:
    tokens = [
        (await upload(client, f"f{n}.pdf", PDF + str(n).encode())).json()["token"] for n in range(6)
    ]
    raised = await client.post("/api/v1/concerns", json=concern(attachments=tokens))
    assert raised.status_code == 422
    assert await Concern.count() == 0


async def test_files_for_a_concern_never_sent_are_removed_once_no_token_can_use_them(
    client: httpx.AsyncClient,
    engine: Any,
    settings: Settings,
    advance: Callable[[timedelta], None],
) -> None:
    kept = (await upload(client, "sent.pdf", PDF)).json()
    unsent = (await upload(client, "unsent.pdf", PNG)).json()
    raised = await client.post("/api/v1/concerns", json=concern(attachments=[kept["token"]]))
    assert raised.status_code == 201, raised.text
    unsent_bytes = evidence.path_for(settings.data_dir, unsent["sha256"])
    assert unsent_bytes.exists()

    def sweep() -> Awaitable[str]:
        return concerns.sweep_unsent_attachments(JobContext(clock.now(), settings))

    advance(timedelta(days=1, hours=23))  # a token issued then may be in a form still open
    assert await sweep() == "removed 0 files uploaded for concerns that were never sent"
    advance(timedelta(hours=2))
    assert await sweep() == "removed 1 files uploaded for concerns that were never sent"
    assert [row["filename"] for row in await EvidenceFile.select(EvidenceFile.filename)] == [
        "sent.pdf"
    ]
    assert not unsent_bytes.exists()
    assert evidence.path_for(settings.data_dir, kept["sha256"]).exists()
    assert await sweep() == "removed 0 files uploaded for concerns that were never sent"
