"""A published decision's PDF, over HTTP, on both engines: linked from the public decision page,
real text in the register's font with its title and language, at a stable address while the
decision is published and gone (404) once its sanction has ended; a removal's stays."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import httpx
import pypdf

from registry.conduct import workflow
from registry.conduct.decision_pdf import DecisionFacts, render_decision
from registry.conduct.sanctions import Terms
from registry.conduct.tables import Sanction, SanctionKind, Stage
from registry.conduct.workflow import Move, MoveIn
from tests.certificates.test_pdf import dictionary
from tests.conduct.helpers import case_at, mover_for, people

HTML = {"accept": "text/html"}


def read(content: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(content))


def words(reader: pypdf.PdfReader) -> str:
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


async def test_the_decision_page_links_its_pdf_which_states_the_decision_in_real_text(
    client: httpx.AsyncClient, engine: Any
) -> None:
    who = await people()
    await case_at(Stage.sanction_in_force, who)  # accepted conditions, in force at once
    [sanction] = await Sanction.select()
    number = who.entry.registration_number
    page = await client.get(f"/register/{number}/decisions/{sanction['id']}", headers=HTML)
    pdf_path = f"/register/{number}/decisions/{sanction['id']}/pdf"
    assert f'href="{pdf_path}"' in page.text
    api = await client.get(f"/api/v1/register/{number}/decisions/{sanction['id']}")
    assert api.json()["pdf_url"] == pdf_path
    answer = await client.get(pdf_path)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert f"{number}-decision-{sanction['id']}.pdf" in answer.headers["content-disposition"]
    reader = read(answer.content)
    said = words(reader)
    for expected in (
        "Fitness to practise decision",
        "Conditions of practice",
        "Pat Smith",
        number,
        "Decided on 15 March 2027",
        "In force from 15 March 2027",
        "Conditions for six months",
        "Work under supervision",
    ):
        assert expected in said, expected
    assert reader.metadata is not None
    assert reader.metadata.title == f"Conditions of practice: Pat Smith ({number})"
    assert dictionary(reader.trailer["/Root"])["/Lang"] == "en-GB"
    fonts = {
        str(dictionary(font)["/BaseFont"])
        for page_ in reader.pages
        for font in dictionary(dictionary(page_["/Resources"])["/Font"]).values()
    }
    assert all("LiberationSans" in font for font in fonts), fonts  # no Helvetica


async def test_the_pdf_is_withdrawn_when_the_sanction_ends(
    client: httpx.AsyncClient, engine: Any, advance: Any
) -> None:
    who = await people()
    await case_at(Stage.sanction_in_force, who)
    [sanction] = await Sanction.select()
    path = f"/register/{who.entry.registration_number}/decisions/{sanction['id']}/pdf"
    assert (await client.get(path)).status_code == 200
    advance(timedelta(days=31 * 7))  # six months of conditions, and more
    assert (await client.get(path)).status_code == 404


async def test_a_removal_is_published_indefinitely(
    client: httpx.AsyncClient, engine: Any, advance: Any
) -> None:
    who = await people()
    case_id = await case_at(Stage.hearing, who)
    case = await workflow.get_case(case_id)
    await workflow.perform(
        case_id,
        Move.impaired,
        by=mover_for(Move.impaired, who),
        version=case.version,
        data=MoveIn(
            reason="Impaired",
            terms=Terms(SanctionKind.removal, summary="Removed for dishonesty", immediate=True),
        ),
    )
    [sanction] = await Sanction.select()
    path = f"/register/{who.entry.registration_number}/decisions/{sanction['id']}/pdf"
    advance(timedelta(days=365 * 6))
    answer = await client.get(path)
    assert answer.status_code == 200
    said = words(read(answer.content))
    assert "Removed for dishonesty" in said
    assert "No end date" in said


def test_long_text_runs_onto_further_pages_and_keeps_every_word() -> None:
    summary = "\n\n".join(
        f"Paragraph {n} of the panel's reasons, at some length." for n in range(90)
    )
    facts = DecisionFacts(
        decision_id=7,
        label="Suspension",
        practitioner_name="Ann <Lee> & Co",
        registration_number="PR1000011",
        decided_on=date(2027, 3, 15),
        starts_on=date(2027, 4, 12),
        ends_on=None,
        summary=summary,
        conditions="",
        page_url="https://register.example/register/PR1000011/decisions/7",
    )
    reader = read(render_decision(facts))
    assert len(reader.pages) > 1
    said = words(reader)
    assert "Ann <Lee> & Co" in said
    assert "Paragraph 89 of the panel's reasons" in said
    assert "Page 2" in said
