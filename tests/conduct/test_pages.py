"""The public fitness to practise pages over HTTP, on both engines: raising a concern through
the question pages (no account), published decisions, and the hearings list."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from registry.conduct import concerns
from registry.conduct.tables import CaseDocument, Concern, ConcernAttempt, Stage
from registry.register.tables import EvidenceFile
from tests.accounts.helpers import csrf_headers
from tests.conduct.helpers import case_at, people

HTML = {"accept": "text/html"}
ABOUT = {"step": "about", "about_name": "Sam Someone", "about_workplace": "Leeds office"}
WHAT = {
    "step": "what",
    "what_happened": "They shouted at me in the waiting room.",
    "happened_on-day": "1",
    "happened_on-month": "3",
    "happened_on-year": "2026",
    "categories": "professional_boundaries",
}
YOU = {
    "step": "you",
    "relationship": "public",
    "raiser_name": "Rae Iser",
    "raiser_email": "rae@example.org",
    "consent_to_share": "no",
}


def text(page: httpx.Response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.text)))


async def post(client: httpx.AsyncClient, data: dict[str, str]) -> httpx.Response:
    headers = HTML | await csrf_headers(client)
    return await client.post("/raise-a-concern", data=data, headers=headers)


def answers(*steps: dict[str, str], **changes: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for step in steps:
        merged |= step
    return merged | changes


async def test_a_concern_goes_through_each_page_and_shows_its_reference(
    client: httpx.AsyncClient, engine: Any
) -> None:
    home = await client.get("/", headers=HTML)
    assert 'href="/raise-a-concern"' in home.text
    assert 'href="/hearings"' in home.text
    start = await client.get("/raise-a-concern", headers=HTML)
    assert start.status_code == 200
    assert "Who is your concern about?" in text(start)
    what = await post(client, ABOUT)
    assert what.status_code == 200
    assert "What happened?" in text(what)
    assert 'name="about_name" value="Sam Someone"' in what.text  # carried, hidden
    assert 'name="_csrf_token"' in what.text
    attach = await post(client, answers(ABOUT, WHAT))
    assert "Do you have anything to show us?" in text(attach)
    you = await post(client, answers(ABOUT, WHAT, {"step": "attachments"}))
    assert "About you" in text(you)
    check = await post(client, answers(ABOUT, WHAT, YOU))
    assert "Check your answers" in text(check)
    assert "Sam Someone" in text(check)
    assert await Concern.count() == 0  # nothing kept until it is sent
    sent = await post(client, answers(ABOUT, WHAT, YOU, step="check"))
    assert sent.status_code == 200, sent.text
    [stored] = await Concern.select()
    assert stored["reference"] in text(sent)
    assert "Concern sent" in text(sent)
    assert stored["raiser_email"] == "rae@example.org"


async def test_a_page_left_unanswered_shows_an_error_summary_and_keeps_the_answers(
    client: httpx.AsyncClient, engine: Any
) -> None:
    refused = await post(client, answers(ABOUT, WHAT, what_happened="", categories=""))
    assert refused.status_code == 422
    page = text(refused)
    assert "There is a problem" in page
    assert "Describe what happened" in page
    assert "Choose at least one kind of concern" in page
    assert 'href="#what_happened"' in refused.text
    assert 'name="about_name" value="Sam Someone"' in refused.text
    nobody = await post(client, {"step": "about"})
    assert nobody.status_code == 422
    assert "registration number, or their name" in text(nobody)


async def test_the_service_refusing_on_sending_shows_the_check_page_with_a_link_to_change(
    client: httpx.AsyncClient, engine: Any
) -> None:
    refused = await post(
        client, answers(ABOUT, WHAT, YOU, step="check", categories="no_such_category")
    )
    assert refused.status_code == 422
    assert "is not a kind of concern" in text(refused)
    assert 'href="#change-what"' in refused.text
    assert await Concern.count() == 0
    change = await post(client, answers(ABOUT, WHAT, YOU, step="check", goto="what"))
    assert "What happened?" in text(change)
    assert "They shouted at me" in change.text


async def test_the_honeypot_and_the_rate_limit_are_the_apis(
    client: httpx.AsyncClient, engine: Any
) -> None:
    robot = await post(client, answers(ABOUT, WHAT, YOU, step="check", website="http://spam"))
    assert robot.status_code == 200
    assert "Concern sent" in text(robot)
    assert await Concern.count() == 0
    assert await ConcernAttempt.count() == 0
    for _ in range(concerns.CONCERNS_PER_ADDRESS):
        sent = await post(client, answers(ABOUT, WHAT, YOU, step="check"))
        assert sent.status_code == 200
    limited = await post(client, answers(ABOUT, WHAT, YOU, step="check"))
    assert limited.status_code == 429
    assert "Too many concerns" in text(limited)
    assert await Concern.count() == concerns.CONCERNS_PER_ADDRESS


async def test_a_form_without_its_csrf_token_is_refused(
    client: httpx.AsyncClient, engine: Any
) -> None:
    refused = await client.post("/raise-a-concern", data=ABOUT, headers=HTML)
    assert refused.status_code == 403


async def test_a_published_decision_is_reached_from_the_public_entry(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    await case_at(Stage.sanction_in_force, who)
    number = who.entry.registration_number
    restrictions = (await client.get(f"/api/v1/register/{number}")).json()["restrictions"]
    assert restrictions
    entry_page = await client.get(f"/register/{number}", headers=HTML)
    assert "Raise a concern about this practitioner" in text(entry_page)
    listing = await client.get(f"/register/{number}/decisions", headers=HTML)
    assert listing.status_code == 200
    assert "Conditions" in text(listing)
    for restriction in restrictions:
        url = restriction["decision_url"]
        assert url.startswith(f"/register/{number}/decisions/")
        assert f'href="{url}"' in entry_page.text
        page = await client.get(url, headers=HTML)
        assert page.status_code == 200
        assert "Summary of the decision" in text(page)
        json_ = await client.get("/api/v1" + url)
        assert json_.status_code == 200
    missing = await client.get(f"/register/{number}/decisions/999999", headers=HTML)
    assert missing.status_code == 404


async def test_hearings_of_the_next_eight_weeks_are_listed(
    client: httpx.AsyncClient, engine: Any
) -> None:
    empty = await client.get("/hearings", headers=HTML)
    assert "There are no hearings" in text(empty)
    who = await people()
    await case_at(Stage.hearing, who)
    listed = await client.get("/hearings", headers=HTML)
    assert listed.status_code == 200
    assert who.entry.registration_number in text(listed)
    assert "Public" in text(listed)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def attach(
    client: httpx.AsyncClient, data: dict[str, Any], name: str, content: bytes
) -> httpx.Response:
    headers = HTML | await csrf_headers(client)
    form = {**data, "step": "attachments", "action": "upload"}
    return await client.post(
        "/raise-a-concern",
        data=form,
        files={"attachment_file": (name, content, "application/pdf")},
        headers=headers,
    )


def carried_tokens(page: httpx.Response) -> list[str]:
    return re.findall(r'name="attachments" value="([^"]+)"', page.text)


async def test_a_file_attached_on_its_page_is_shown_on_check_and_attached_on_sending(
    client: httpx.AsyncClient, engine: Any
) -> None:
    uploaded = await attach(client, answers(ABOUT, WHAT), "letter.pdf", PDF)
    assert uploaded.status_code == 200, uploaded.text
    assert "letter.pdf" in text(uploaded)
    [token] = carried_tokens(uploaded)
    assert await EvidenceFile.count() == 1  # kept at once
    data = answers(ABOUT, WHAT, YOU) | {"attachments": token}
    check = await post(client, data | {"step": "you"})
    assert "letter.pdf (PDF, 1 KB)" in text(check)
    assert carried_tokens(check) == [token]
    sent = await post(client, data | {"step": "check"})
    assert sent.status_code == 200, sent.text
    [concern] = await Concern.select()
    [document] = await CaseDocument.select()
    assert document["concern"] == concern["id"]
    assert document["kind"] == "attachment"
    assert document["disclosed"] is False


async def test_a_disguised_or_oversized_attachment_is_refused_and_nothing_is_kept(
    client: httpx.AsyncClient, engine: Any
) -> None:
    exe = await attach(client, answers(ABOUT, WHAT), "invoice.pdf", b"MZ\x90\x00 a program")
    assert exe.status_code == 422
    assert "The selected file must be a PDF, PNG or JPEG" in text(exe)
    assert 'href="#attachment_file"' in exe.text
    big = b"%PDF-" + b"0" * (10 * 1024 * 1024)
    over = await attach(client, answers(ABOUT, WHAT), "big.pdf", big)
    assert over.status_code == 422
    assert "smaller than 10 MB" in text(over)
    assert await EvidenceFile.count() == 0
    assert await ConcernAttempt.count() == 0  # refused before it counted


async def test_a_guessed_or_forged_attachment_reference_attaches_nothing(
    client: httpx.AsyncClient, engine: Any
) -> None:
    uploaded = await attach(client, answers(ABOUT, WHAT), "mine.pdf", PDF)
    [token] = carried_tokens(uploaded)
    file_id, issued, _ = token.split(".")
    for forged in (f"{file_id}.{issued}.{'0' * 64}", file_id, f"{int(file_id) + 1}.{issued}.x"):
        sent = await post(client, answers(ABOUT, WHAT, YOU, step="check") | {"attachments": forged})
        assert sent.status_code == 422, forged
        assert "could not be found or has expired" in text(sent)
        assert 'href="#change-attachments"' in sent.text
    assert await Concern.count() == 0
    assert await CaseDocument.count() == 0


async def test_every_change_leads_back_through_the_later_pages_with_the_answers_kept(
    client: httpx.AsyncClient, engine: Any
) -> None:
    uploaded = await attach(client, answers(ABOUT, WHAT), "letter.pdf", PDF)
    [token] = carried_tokens(uploaded)
    full = answers(ABOUT, WHAT, YOU) | {"attachments": token}
    for step in ("about", "what", "attachments", "you"):
        page = await post(client, full | {"step": "check", "goto": step})
        assert page.status_code == 200
        # each page from the one changed to "Check your answers", posting what it shows
        for following in ("about", "what", "attachments", "you")[
            ("about", "what", "attachments", "you").index(step) :
        ]:
            assert f'name="step" value="{following}"' in page.text, (step, following)
            carried = _form_values(page)
            page = await post(client, carried)
            assert page.status_code == 200, page.text
        said = text(page)
        assert "Check your answers" in said, step
        for kept in ("Sam Someone", "They shouted at me", "Rae Iser", "letter.pdf"):
            assert kept in said, (step, kept)


def _form_values(page: httpx.Response) -> dict[str, Any]:
    """What the page's form would post as it stands: its hidden fields and filled inputs."""
    values: dict[str, Any] = {}
    for name, value in re.findall(
        r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page.text
    ):
        if name == "_csrf_token":
            continue
        if name in values:
            existing = values[name]
            values[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            values[name] = html.unescape(value)
    for tag in re.findall(r"<input[^>]*>", page.text):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name is None or "hidden" in tag or name.group(1) in ("website",):
            continue
        if ('type="radio"' in tag or 'type="checkbox"' in tag) and "checked" not in tag:
            continue
        if value is not None and value.group(1):
            values.setdefault(name.group(1), html.unescape(value.group(1)))
    for name, content in re.findall(
        r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page.text, flags=re.S
    ):
        values[name] = html.unescape(content).strip()
    return values
