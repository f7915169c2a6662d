"""The practitioner's own fitness to practise cases as pages, over HTTP, on both engines: the
list with what is asked and by when, one case (allegations, documents disclosed, the referrer
only with consent, the timeline they may see), their response with files, their answer to an
accepted outcome, and another practitioner's case not found."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import httpx

from registry.accounts import users
from registry.accounts.roles import Role
from registry.audit.tables import AuditEntry
from registry.conduct import concerns, service
from registry.conduct.tables import CaseDocument, Concern, Stage
from registry.conduct.workflow import Move, get_case
from registry.db import fetch_one
from registry.register.tables import EvidenceFile
from tests.accounts.helpers import SignedIn, csrf_headers, sign_in
from tests.conduct.helpers import People, case_at, concern_about, move, people

HTML = {"accept": "text/html"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def text(page: httpx.Response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.text)))


async def signed_in(client: httpx.AsyncClient, who: People) -> SignedIn:
    person = await sign_in(await users.get_account(who.practitioner.user_id or 0))
    client.cookies.update(person.cookies())
    return person


async def post(
    client: httpx.AsyncClient,
    path: str,
    data: dict[str, str],
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
) -> httpx.Response:
    headers = HTML | await csrf_headers(client)
    return await client.post(path, data=data, files=files, headers=headers)


async def test_the_list_says_what_is_asked_by_when_and_flags_it_overdue(
    client: httpx.AsyncClient, engine: Any, advance: Any
) -> None:
    who = await people()
    case_id = await case_at(Stage.investigation, who)
    await signed_in(client, who)
    home = await client.get("/your-cases", headers=HTML)
    assert home.status_code == 200, home.text
    said = text(home)
    assert "Send your response to the notice of investigation" in said
    assert "12 April 2027" in said  # 28 days from 15 March
    assert "Overdue" not in said
    assert f'href="/your-cases/{case_id}"' in home.text
    assert 'href="/your-cases"' in home.text  # the navigation offers it
    advance(timedelta(days=29))
    await signed_in(client, who)  # the first session has long expired
    later = await client.get("/your-cases", headers=HTML)
    assert "Overdue" in text(later)


async def test_no_open_case_no_navigation_link_and_an_empty_list(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    await case_at(Stage.triage, who)  # not yet put to them
    await signed_in(client, who)
    page = await client.get("/your-cases", headers=HTML)
    assert page.status_code == 200
    assert "You have no open fitness to practise cases" in text(page)
    assert 'href="/your-cases"' not in page.text


async def test_the_case_shows_allegations_disclosed_documents_and_the_timeline_they_may_see(
    client: httpx.AsyncClient, engine: Any, settings: Any
) -> None:
    who = await people()
    case_id = await case_at(Stage.investigation, who)
    # a second concern, its raiser consenting to be named
    await concerns.raise_concern(
        concern_about(
            who.entry.registration_number,
            what_happened="They were late to every appointment.",
            raiser_name="Open Olive",
            consent_to_share=True,
        )
    )
    await signed_in(client, who)
    page = await client.get(f"/your-cases/{case_id}", headers=HTML)
    assert page.status_code == 200, page.text
    said = text(page)
    assert "They shared a client's address with a stranger." in said
    assert "They were late to every appointment." in said
    assert "Open Olive" in said  # consented
    assert "Rae Iser" not in said  # did not consent
    assert "rae@example.org" not in said
    assert "Investigation opened; practitioner notified" in said
    assert "Triage started" not in said  # staff's own steps stay with staff
    assert "No documents have been shared with you yet" in said


async def test_the_response_with_files_is_kept_and_its_files_downloaded_and_audited(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    case_id = await case_at(Stage.investigation, who)
    await signed_in(client, who)
    sent = await post(
        client,
        f"/your-cases/{case_id}/response",
        {"response": "I did not do it."},
        files=[
            ("evidence", ("statement.pdf", PDF, "application/pdf")),
            ("evidence", ("photo.png", PNG, "image/png")),
        ],
    )
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == f"/your-cases/{case_id}?done=responded"
    case = await get_case(case_id)
    assert case.response_text == "I did not do it."
    documents = await CaseDocument.select().where(CaseDocument.case == case_id)
    assert len(documents) == 2
    assert all(row["disclosed"] for row in documents)
    page = await client.get(f"/your-cases/{case_id}?done=responded", headers=HTML)
    said = text(page)
    assert "Your response has been sent" in said
    assert "statement.pdf" in said
    assert "Your response received" in said
    first = min(row["id"] for row in documents)
    download = await client.get(f"/your-cases/{case_id}/documents/{first}")
    assert download.status_code == 200
    assert download.content == PDF
    assert "attachment" in download.headers["content-disposition"]
    assert await AuditEntry.exists().where(AuditEntry.action == "conduct.document_downloaded")


async def test_a_disguised_or_oversized_file_is_refused_and_nothing_is_kept(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    case_id = await case_at(Stage.investigation, who)
    await signed_in(client, who)
    disguised = await post(
        client,
        f"/your-cases/{case_id}/response",
        {"response": "See attached."},
        files=[("evidence", ("statement.pdf", b"MZ\x90\x00 an exe", "application/pdf"))],
    )
    assert disguised.status_code == 422
    assert "must be a PDF, PNG or JPEG" in text(disguised)
    assert "There is a problem" in text(disguised)
    big = await post(
        client,
        f"/your-cases/{case_id}/response",
        {"response": "See attached."},
        files=[("evidence", ("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "application/pdf"))],
    )
    assert big.status_code == 422
    assert "smaller than 10 MB" in text(big)
    assert await EvidenceFile.count() == 0
    assert (await get_case(case_id)).responded_at is None
    empty = await post(client, f"/your-cases/{case_id}/response", {"response": " "})
    assert empty.status_code == 422
    assert "Write your response, or attach it" in text(empty)


async def test_the_practitioner_accepts_the_outcome_after_confirming(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    case_id = await case_at(Stage.accepted_outcome, who)
    await signed_in(client, who)
    case_page = await client.get(f"/your-cases/{case_id}", headers=HTML)
    assert f'href="/your-cases/{case_id}/outcome"' in case_page.text
    form = await client.get(f"/your-cases/{case_id}/outcome", headers=HTML)
    assert "Do you accept the proposed outcome?" in text(form)
    unanswered = await post(client, f"/your-cases/{case_id}/outcome", {})
    assert unanswered.status_code == 422
    assert "Choose whether you accept or reject the outcome" in text(unanswered)
    confirm = await post(client, f"/your-cases/{case_id}/outcome", {"decision": "accept"})
    assert confirm.status_code == 200
    assert "Are you sure you want to accept the outcome?" in text(confirm)
    assert (await get_case(case_id)).stage is Stage.accepted_outcome  # nothing yet
    version = re.search(r'name="version" value="(\d+)"', confirm.text)
    assert version is not None
    done = await post(
        client,
        f"/your-cases/{case_id}/outcome",
        {"decision": "accept", "confirmed": "yes", "version": version.group(1)},
    )
    assert done.status_code == 303, done.text
    assert (await get_case(case_id)).stage is Stage.sanction_in_force
    again = await post(
        client,
        f"/your-cases/{case_id}/outcome",
        {"decision": "reject", "confirmed": "yes", "version": version.group(1)},
    )
    assert again.status_code == 409
    assert (await get_case(case_id)).stage is Stage.sanction_in_force


async def test_the_practitioner_rejects_the_outcome_and_the_case_goes_to_a_hearing(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    case_id = await case_at(Stage.accepted_outcome, who)
    await signed_in(client, who)
    case = await get_case(case_id)
    done = await post(
        client,
        f"/your-cases/{case_id}/outcome",
        {"decision": "reject", "confirmed": "yes", "version": str(case.version)},
    )
    assert done.status_code == 303
    assert (await get_case(case_id)).stage is Stage.hearing
    page = await client.get(done.headers["location"], headers=HTML)
    assert "Your case goes to a hearing" in text(page)


async def test_another_practitioners_case_is_not_found_on_every_page(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    case_id = await case_at(Stage.accepted_outcome, who)
    [document] = await CaseDocument.select(CaseDocument.id).where(CaseDocument.case == case_id) or [
        {"id": 1}
    ]
    other = await sign_in(await users.create_user("other@example.org", "O", [Role.practitioner]))
    client.cookies.update(other.cookies())
    for path in (
        f"/your-cases/{case_id}",
        f"/your-cases/{case_id}/outcome",
        f"/your-cases/{case_id}/documents/{document['id']}",
    ):
        assert (await client.get(path, headers=HTML)).status_code == 404, path
    for path, data in (
        (f"/your-cases/{case_id}/response", {"response": "Not me"}),
        (
            f"/your-cases/{case_id}/outcome",
            {"decision": "accept", "confirmed": "yes", "version": "1"},
        ),
    ):
        assert (await post(client, path, data)).status_code == 404, path
    assert (await get_case(case_id)).stage is Stage.accepted_outcome
    assert await Concern.count() == 1


async def test_an_undisclosed_document_is_not_found_for_the_practitioner(
    client: httpx.AsyncClient, engine: Any, settings: Any
) -> None:
    who = await people()
    case_id = await case_at(Stage.investigation, who)
    stored = await EvidenceFile.insert(
        EvidenceFile(
            sha256="a" * 64,
            filename="private.pdf",
            content_type="application/pdf",
            size=5,
            uploaded_by=None,
            uploaded_at=(await get_case(case_id)).opened_at,
        )
    ).returning(EvidenceFile.id)
    hidden = await CaseDocument.insert(
        CaseDocument(
            case=case_id,
            file=stored[0]["id"],
            kind="attachment",
            disclosed=False,
            added_at=(await get_case(case_id)).opened_at,
        )
    ).returning(CaseDocument.id)
    await signed_in(client, who)
    page = await client.get(f"/your-cases/{case_id}", headers=HTML)
    assert "private.pdf" not in page.text
    answer = await client.get(f"/your-cases/{case_id}/documents/{hidden[0]['id']}")
    assert answer.status_code == 404


async def test_your_cases_is_in_the_navigation_while_a_case_is_put_to_them_at_one_read(
    client: httpx.AsyncClient, engine: Any, monkeypatch: Any
) -> None:
    who = await people()
    await signed_in(client, who)
    link = 'href="/your-cases"'
    assert link not in (await client.get("/account", headers=HTML)).text
    case_id = await case_at(Stage.triage, who)
    assert link not in (await client.get("/account", headers=HTML)).text  # not put to them yet
    await move(case_id, Move.open_investigation, who)
    assert link in (await client.get("/account", headers=HTML)).text  # on the next request

    reads: list[str] = []

    async def counted(sql: str, *args: Any) -> Any:
        reads.append(sql)
        return await fetch_one(sql, *args)

    monkeypatch.setattr(service, "fetch_one", counted)
    practitioner = frozenset({Role.practitioner})
    assert await service.practitioner_facts(who.practitioner.user_id or 0, practitioner) == {
        service.HAS_OPEN_CASE
    }
    assert len(reads) == 1
    for staff in (who.caseworker, who.adjudicator):
        assert await service.practitioner_facts(staff.user_id or 0, staff.roles) == frozenset()
    assert len(reads) == 1  # nobody but a practitioner costs a read
