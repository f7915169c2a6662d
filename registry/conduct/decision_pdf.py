"""A published fitness to practise decision as a PDF: what the public decision page says, set out
on A4 with the certificates' conventions (see :mod:`registry.certificates.pdf`: the register's
header, Liberation Sans as real text, the title viewers show, ``/Lang en-GB``), so it can be
read aloud, searched and copied. A pure function of :class:`DecisionFacts`: no database here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, PageTemplate, Paragraph

from registry.certificates.pdf import (
    BODY,
    CAPTION,
    HEADING_1,
    HEADING_2,
    SMALL,
    a4_document,
    body_frame,
    footer_lines,
    header,
    long_date,
    summary_list,
)

CAPTION_TEXT = "Fitness to practise decision"


@dataclass(frozen=True)
class DecisionFacts:
    """What the decision's PDF states, already decided: the sanction as its label."""

    decision_id: int
    label: str
    practitioner_name: str
    registration_number: str
    decided_on: date
    starts_on: date
    ends_on: date | None
    summary: str
    conditions: str
    page_url: str  # the public page of the decision, which stays current

    @property
    def title(self) -> str:
        return f"{self.label}: {self.practitioner_name} ({self.registration_number})"


def _paragraphs(text: str) -> list[Flowable]:
    """Text as typed, a paragraph for each blank-line-separated part, lines kept."""
    parts = [part.strip() for part in text.replace("\r\n", "\n").split("\n\n") if part.strip()]
    return [Paragraph(escape(part).replace("\n", "<br/>"), BODY) for part in parts]


def story(facts: DecisionFacts) -> list[Flowable]:
    flow: list[Flowable] = [
        Paragraph(CAPTION_TEXT, CAPTION),
        Paragraph(escape(facts.label), HEADING_1),
        summary_list(
            [
                ("Name", facts.practitioner_name),
                ("Registration number", facts.registration_number),
                ("Decision", facts.label),
                ("Decided on", long_date(facts.decided_on)),
                ("In force from", long_date(facts.starts_on)),
                ("Until", long_date(facts.ends_on) if facts.ends_on else "No end date"),
            ]
        ),
        Paragraph("Summary of the decision", HEADING_2),
        *(_paragraphs(facts.summary) or [Paragraph("No summary was published.", BODY)]),
    ]
    if facts.conditions:
        flow += [Paragraph("Conditions", HEADING_2), *_paragraphs(facts.conditions)]
    flow += [
        Paragraph("Is this still in force?", HEADING_2),
        Paragraph(
            "This document is published for as long as the decision is in force. The register "
            "says today whether it still is:",
            BODY,
        ),
        Paragraph(
            f'<link href="{escape(facts.page_url)}" color="#1d70b8">'
            f"<u>{escape(facts.page_url)}</u></link>",
            BODY,
        ),
        Paragraph("Published by the statutory register of probation practitioners.", SMALL),
    ]
    return flow


def render_decision(facts: DecisionFacts) -> bytes:
    """The decision described by ``facts`` as the bytes of a PDF."""
    out = io.BytesIO()
    document = a4_document(
        out,
        title=facts.title,
        subject=f"{CAPTION_TEXT} {facts.decision_id} for {facts.registration_number}",
        keywords=[facts.registration_number, f"decision {facts.decision_id}"],
    )

    def page_start(canvas: Canvas, _: BaseDocTemplate) -> None:
        header(canvas)

    def page_end(canvas: Canvas, _: BaseDocTemplate) -> None:
        footer_lines(
            canvas,
            f"{facts.registration_number}. Decision {facts.decision_id}.",
            f"Decided on {long_date(facts.decided_on)}.",
        )

    document.addPageTemplates(
        [PageTemplate(id="page", frames=[body_frame()], onPage=page_start, onPageEnd=page_end)]
    )
    document.build(story(facts))
    return out.getvalue()


def filename(facts: DecisionFacts) -> str:
    return f"{facts.registration_number}-decision-{facts.decision_id}.pdf"
