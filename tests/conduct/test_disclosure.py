"""Disclosing a case's documents to its practitioner, on both engines: a caseworker discloses a
concern's attachment from the case page (or the API), the practitioner then sees and downloads
it, the timeline and the audit trail say so; a stale form, a second disclosure, another role or
a document of another case is refused and nothing changes."""

from __future__ import annotations

from typing import Any

import httpx

from registry.accounts import users
from registry.accounts.roles import Role
from registry.audit.tables import AuditEntry
from registry.conduct import workflow
from registry.conduct.tables import CaseDocument, CaseEvent, Stage
from registry.config import Settings
from tests.accounts.helpers import SignedIn, csrf_headers, sign_in, user_signed_in_as
from tests.conduct.helpers import PDF, People, attach_document, case_at, people, someone_else

HTML = {"accept": "text/html"}


async def practitioner(client: httpx.AsyncClient, who: People) -> SignedIn:
    person = await sign_in(await users.get_account(who.practitioner.user_id or 0))
    client.cookies.clear()
    client.cookies.update(person.cookies())
    return person


async def disclose(
    client: httpx.AsyncClient, case_id: int, document_id: int, version: int
) -> httpx.Response:
    headers = HTML | await csrf_headers(client)
    return await client.post(
        f"/conduct/cases/{case_id}/documents/{document_id}/disclosure",
        data={"version": str(version)},
        headers=headers,
    )


async def test_a_caseworker_discloses_an_attachment_and_the_practitioner_downloads_it(
    client: httpx.AsyncClient, engine: Any, settings: Settings
) -> None:
    who = await people()
    case_id = await case_at(Stage.investigation, who)
    document_id = await attach_document(settings.data_dir, case_id, "letter.pdf")
    await practitioner(client, who)
    assert "letter.pdf" not in (await client.get(f"/your-cases/{case_id}", headers=HTML)).text
    hidden = await client.get(f"/your-cases/{case_id}/documents/{document_id}")
    assert hidden.status_code == 404

    caseworker = await user_signed_in_as(Role.caseworker, "cw-disclose@example.org")
    client.cookies.clear()
    client.cookies.update(caseworker.cookies())
    page = await client.get(f"/conduct/cases/{case_id}", headers=HTML)
    assert "letter.pdf" in page.text
    assert f"/conduct/cases/{case_id}/documents/{document_id}/disclosure" in page.text
    staff_copy = await client.get(f"/conduct/cases/{case_id}/documents/{document_id}")
    assert staff_copy.status_code == 200
    assert staff_copy.content == PDF + b"letter.pdf"

    version = (await workflow.get_case(case_id)).version
    done = await disclose(client, case_id, document_id, version)
    assert done.status_code == 303, done.text
    shown = await client.get(done.headers["location"], headers=HTML)
    assert "The document is disclosed" in shown.text
    assert "Can see it" in shown.text
    assert (await workflow.get_case(case_id)).version == version + 1
    assert await CaseEvent.exists().where(
        (CaseEvent.case == case_id) & (CaseEvent.event == "document_disclosed")
    )
    assert await AuditEntry.exists().where(AuditEntry.action == "conduct.document_disclosed")

    await practitioner(client, who)
    theirs = await client.get(f"/your-cases/{case_id}", headers=HTML)
    assert "letter.pdf" in theirs.text
    assert "A document disclosed to you" in theirs.text
    download = await client.get(f"/your-cases/{case_id}/documents/{document_id}")
    assert download.status_code == 200
    assert download.content == PDF + b"letter.pdf"


async def test_a_stale_or_repeated_disclosure_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, engine: Any, settings: Settings
) -> None:
    who = await people()
    case_id = await case_at(Stage.investigation, who)
    first = await attach_document(settings.data_dir, case_id, "first.pdf")
    second = await attach_document(settings.data_dir, case_id, "second.pdf")
    caseworker = await user_signed_in_as(Role.caseworker, "cw-stale@example.org")
    client.cookies.update(caseworker.cookies())
    seen = (await workflow.get_case(case_id)).version
    assert (await disclose(client, case_id, first, seen)).status_code == 303

    stale = await disclose(client, case_id, second, seen)
    assert stale.status_code == 409
    assert "Someone else has changed this case since you opened it" in stale.text
    again = await disclose(client, case_id, first, seen + 1)
    assert again.status_code == 409
    assert "The practitioner can see this document already" in again.text
    [row] = await CaseDocument.select(CaseDocument.disclosed).where(CaseDocument.id == second)
    assert row["disclosed"] is False
    assert (await workflow.get_case(case_id)).version == seen + 1

    other = await case_at(Stage.investigation, await someone_else(who, "sam@example.org"))
    elsewhere = await disclose(client, other, second, (await workflow.get_case(other)).version)
    assert elsewhere.status_code == 404


async def test_only_caseworkers_disclose_and_the_api_does_it_as_the_page_does(
    client: httpx.AsyncClient, engine: Any, settings: Settings
) -> None:
    who = await people()
    case_id = await case_at(Stage.investigation, who)
    document_id = await attach_document(settings.data_dir, case_id, "note.pdf")
    version = (await workflow.get_case(case_id)).version
    examiner = await user_signed_in_as(Role.case_examiner, "ce-disclose@example.org")
    client.cookies.update(examiner.cookies())
    assert (await disclose(client, case_id, document_id, version)).status_code == 403
    client.cookies.clear()
    path = f"/api/v1/cases/{case_id}/documents/{document_id}/disclosure"
    refused = await client.post(path, json={"version": version}, headers=examiner.bearer())
    assert refused.status_code == 403

    caseworker = await user_signed_in_as(Role.caseworker, "cw-api@example.org")
    answer = await client.post(path, json={"version": version}, headers=caseworker.bearer())
    assert answer.status_code == 200, answer.text
    [document] = [d for d in answer.json()["documents"] if d["id"] == document_id]
    assert document["disclosed"] is True
    again = await client.post(path, json={"version": version + 1}, headers=caseworker.bearer())
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
