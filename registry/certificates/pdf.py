"""A certificate as a PDF: the facts a certificate states, set out on A4 for people to read and
for machines to check.

:func:`render_certificate` is a pure function of :class:`CertificateFacts` (no database, no
service clock): the same facts give the same page; only the PDF's own creation time and file
identifier, which reportlab writes, differ from one rendering to the next. The PDF holds

- the practitioner's facts as real text in an openly licensed sans (Liberation Sans, which has
  Arial's metrics, GOV.UK's fallback font), so screen readers, search and copying work;
- a QR code drawn with reportlab's own widget, linking to the verification page for the serial;
- the document title, author, subject and language (``/Lang en-GB``), with viewers asked to show
  the title rather than the file name;
- the signed credential JSON, byte for byte, as an attached file named ``<serial>.json``, so the
  certificate can be checked offline with nothing but the PDF.

Long names, many roles and many conditions wrap, and a long CPD activity table runs onto further
pages with its header repeated: nothing is cut off or drawn beyond the page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCode
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFStream, PDFString
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)

Kind = Literal["registration", "cpd_statement"]

SERVICE_NAME = "Probation practitioner register"
AUTHOR = "The statutory register of probation practitioners"
LANGUAGE = "en-GB"
CREDENTIAL_MEDIA_TYPE = "application/vc+ld+json"
KIND_CAPTIONS: dict[str, str] = {
    "registration": "Registration certificate",
    "cpd_statement": "Continuing professional development statement",
}

# --- the font, registered once per process ------------------------------------------------------

FONTS = Path(__file__).with_name("fonts")
REGULAR = "RegisterSans"
BOLD = "RegisterSans-Bold"
pdfmetrics.registerFont(TTFont(REGULAR, str(FONTS / "LiberationSans-Regular.ttf")))
pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "LiberationSans-Bold.ttf")))
pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)

# --- GOV.UK-like typography: the Design System's colours and type scale, in points -------------

TEXT = colors.HexColor("#0b0c0c")
SECONDARY_TEXT = colors.HexColor("#505a5f")
BORDER = colors.HexColor("#b1b4b6")
BRAND = colors.HexColor("#1d70b8")
WHITE = colors.white

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 20 * mm
HEADER_HEIGHT = 16 * mm
FOOTER_HEIGHT = 12 * mm
BODY_WIDTH = PAGE_WIDTH - 2 * MARGIN
QR_SIZE = 36 * mm


def _style(name: str, size: float, *, bold: bool = False, **extra: Any) -> ParagraphStyle:
    settings: dict[str, Any] = {
        "fontName": BOLD if bold else REGULAR,
        "fontSize": size,
        "leading": round(size * 1.3, 1),
        "textColor": TEXT,
        "alignment": TA_LEFT,
        "splitLongWords": 1,  # a name with no spaces still wraps inside the page
        "bulletFontName": REGULAR,
    }
    return ParagraphStyle(name, **(settings | extra))


CAPTION = _style("caption", 14, textColor=SECONDARY_TEXT, spaceAfter=2)
HEADING_1 = _style("heading-1", 24, bold=True)
HEADING_2 = _style("heading-2", 17, bold=True, spaceBefore=14, spaceAfter=8)
BODY = _style("body", 12, spaceAfter=6)
KEY = _style("key", 12, bold=True)
VALUE = _style("value", 12)
BULLET = _style("bullet", 12, leftIndent=14, bulletIndent=2, spaceAfter=4)
SMALL = _style("small", 10, textColor=SECONDARY_TEXT)
CELL = _style("cell", 10)
CELL_HEAD = _style("cell-head", 10, bold=True)

SUMMARY_STYLE = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, -1), REGULAR),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (0, -1), 10),
        ("RIGHTPADDING", (1, 0), (1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 6),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 7),
        ("LINEBELOW", (0, 0), (-1, -1), 0.75, BORDER),
    ]
)
ACTIVITY_STYLE = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, -1), REGULAR),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 8),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
        ("LINEBELOW", (0, 0), (-1, -1), 0.5, BORDER),
        ("LINEBELOW", (0, 0), (-1, 0), 1, TEXT),
    ]
)
TITLE_STYLE = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, -1), REGULAR),
        ("VALIGN", (0, 0), (0, 0), "MIDDLE"),
        ("VALIGN", (1, 0), (1, 0), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (0, 0), 6 * mm),
        ("RIGHTPADDING", (1, 0), (1, 0), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4 * mm),
    ]
)


# --- what a certificate says ----------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityTable:
    """The CPD statement's table of activities: column headings and one row of text per
    activity (as many cells as headings)."""

    columns: Sequence[str]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class CertificateFacts:
    """Everything a certificate PDF states, already decided: dates as dates, the rest as the
    plain text a reader sees. ``conditions`` are whole sentences; none is stated as "None"."""

    kind: Kind
    title: str
    practitioner_name: str
    registration_number: str
    roles: Sequence[str]
    registered_since: date
    valid_until: date
    conditions: Sequence[str]
    serial: str
    issued_on: date
    verify_url: str
    credential_json: bytes
    # The CPD statement only: its summary rows (label, value) and its activities.
    summary: Sequence[tuple[str, str]] = field(default_factory=tuple)
    activities: ActivityTable | None = None

    @property
    def attachment_name(self) -> str:
        return f"{self.serial}.json"


def long_date(value: date) -> str:
    """GOV.UK's date style: 3 March 2027."""
    return f"{value.day} {value:%B %Y}"


def render_certificate(facts: CertificateFacts) -> bytes:
    """The certificate described by ``facts`` as the bytes of a PDF."""
    if facts.kind not in KIND_CAPTIONS:
        raise ValueError(f"unknown certificate kind {facts.kind!r}")
    out = io.BytesIO()
    document = a4_document(
        out,
        title=f"{facts.title}: {facts.practitioner_name}",
        subject=f"{KIND_CAPTIONS[facts.kind]} {facts.serial} for {facts.registration_number}",
        keywords=[facts.registration_number, facts.serial],
    )
    frame = body_frame()

    def first_page(canvas: Canvas, _: BaseDocTemplate) -> None:
        attach_file(canvas, facts.attachment_name, facts.credential_json)
        header(canvas)

    def later_page(canvas: Canvas, _: BaseDocTemplate) -> None:
        header(canvas)

    def page_end(canvas: Canvas, _: BaseDocTemplate) -> None:
        footer(canvas, facts)

    # The header is drawn before the page's content and the footer after it, so text comes out
    # (and is read aloud) in the order it is seen.
    document.addPageTemplates(
        [
            PageTemplate(
                id="first",
                frames=[frame],
                onPage=first_page,
                onPageEnd=page_end,
                autoNextPageTemplate="rest",
            ),
            PageTemplate(id="rest", frames=[frame], onPage=later_page, onPageEnd=page_end),
        ]
    )
    document.build(story(facts))
    return out.getvalue()


def a4_document(
    out: io.BytesIO, *, title: str, subject: str, keywords: list[str]
) -> BaseDocTemplate:
    """An A4 document of the register's: margins for the header and footer, the title shown by
    viewers, the author, the language and the font set (for every PDF the service makes)."""
    return BaseDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + HEADER_HEIGHT,
        bottomMargin=MARGIN + FOOTER_HEIGHT,
        title=title,
        author=AUTHOR,
        subject=subject,
        creator=SERVICE_NAME,
        keywords=keywords,
        lang=LANGUAGE,
        displayDocTitle=1,
        initialFontName=REGULAR,
    )


def body_frame() -> Frame:
    """The page's body, between the header and the footer."""
    return Frame(
        MARGIN,
        MARGIN + FOOTER_HEIGHT,
        BODY_WIDTH,
        PAGE_HEIGHT - 2 * MARGIN - HEADER_HEIGHT - FOOTER_HEIGHT,
        leftPadding=0,
        rightPadding=0,
        topPadding=6 * mm,
        bottomPadding=0,
        id="body",
    )


def story(facts: CertificateFacts) -> list[Flowable]:
    """The page's content, top to bottom (the order a screen reader reads it in)."""
    flow: list[Flowable] = [
        title_block(facts),
        summary_list(
            [
                ("Name", facts.practitioner_name),
                ("Registration number", facts.registration_number),
                ("Role" if len(facts.roles) == 1 else "Roles", list(facts.roles)),
                ("Registered since", long_date(facts.registered_since)),
                ("Valid until", long_date(facts.valid_until)),
                ("Serial number", facts.serial),
                ("Issued on", long_date(facts.issued_on)),
            ]
        ),
        Paragraph("Conditions in force", HEADING_2),
    ]
    if facts.conditions:
        # Each condition whole on one page: a reader should not have to join one across pages.
        flow += [
            KeepTogether([Paragraph(escape(condition), BULLET, bulletText="\u2022")])
            for condition in facts.conditions
        ]
    else:
        flow.append(Paragraph("None.", BODY))
    if facts.summary:
        flow += [
            Paragraph("Summary", HEADING_2),
            summary_list([(label, value) for label, value in facts.summary]),
        ]
    if facts.activities is not None:
        flow += [Paragraph("Activities", HEADING_2), activity_table(facts.activities)]
    flow.append(verification_block(facts))
    return flow


def title_block(facts: CertificateFacts) -> Table:
    """What the document is, with the QR code beside it: on the first page, whatever follows."""
    return Table(
        [
            [
                [
                    Paragraph(escape(KIND_CAPTIONS[facts.kind]), CAPTION),
                    Paragraph(escape(facts.title), HEADING_1),
                ],
                qr_code(facts.verify_url),
            ]
        ],
        colWidths=[BODY_WIDTH - QR_SIZE, QR_SIZE],
        style=TITLE_STYLE,
        hAlign="LEFT",
    )


def summary_list(rows: Sequence[tuple[str, str | list[str]]]) -> Table:
    """Key and value rows, like the GOV.UK summary list; a list value gets a line each."""
    data = [
        [
            Paragraph(escape(key), KEY),
            Paragraph(
                "<br/>".join(escape(line) for line in value)
                if isinstance(value, list)
                else escape(value),
                VALUE,
            ),
        ]
        for key, value in rows
    ]
    return Table(
        data,
        colWidths=[BODY_WIDTH * 0.36, BODY_WIDTH * 0.64],
        style=SUMMARY_STYLE,
        hAlign="LEFT",
        splitInRow=1,
    )


def activity_table(activities: ActivityTable) -> Table:
    columns = len(activities.columns)
    data = [[Paragraph(escape(heading), CELL_HEAD) for heading in activities.columns]]
    for row in activities.rows:
        if len(row) != columns:
            raise ValueError(f"an activity row has {len(row)} cells, not {columns}")
        data.append([Paragraph(escape(cell), CELL) for cell in row])
    return Table(
        data,
        colWidths=column_widths([activities.columns, *activities.rows]),
        style=ACTIVITY_STYLE,
        hAlign="LEFT",
        repeatRows=1,
        splitInRow=1,
    )


def column_widths(rows: Sequence[Sequence[str]]) -> list[float]:
    """The body's width shared among the columns by the length of each one's longest text
    (counted as 8 to 60 characters), so a date or a number of hours leaves room for a title."""
    weights = [
        min(max(8, *(len(text) for text in column)), 60) for column in zip(*rows, strict=True)
    ]
    return [BODY_WIDTH * weight / sum(weights) for weight in weights]


def verification_block(facts: CertificateFacts) -> Flowable:
    """How to check the certificate: where the QR code leads, and the attached credential."""
    return KeepTogether(
        [
            Paragraph("Check this certificate", HEADING_2),
            Paragraph(
                "Scan the QR code, or go to the address below, to see whether this certificate "
                "is still valid and what the register says today. A certificate that has been "
                "revoked or suspended says so there.",
                BODY,
            ),
            Paragraph(
                f'<link href="{escape(facts.verify_url)}" color="#1d70b8">'
                f"<u>{escape(facts.verify_url)}</u></link>",
                BODY,
            ),
            Paragraph(
                "The signed credential (a W3C Verifiable Credential) is attached to this PDF as "
                f"{escape(facts.attachment_name)}.",
                SMALL,
            ),
        ]
    )


class LinkedQrCode(QrCode):
    """reportlab's QR flowable, also a link to what it encodes for whoever reads the PDF on a
    screen (a click where a phone would scan)."""

    def __init__(self, url: str) -> None:
        super().__init__(url, width=QR_SIZE, height=QR_SIZE, qrLevel="M", qrBorder=4)
        self.url = url

    def draw(self) -> None:
        super().draw()
        self.canv.linkURL(self.url, (0, 0, self.width, self.height), relative=1)


def qr_code(url: str) -> QrCode:
    """The QR code for ``url``, QR_SIZE square with its 4-module quiet zone, error correction M.

    reportlab's QR flowable draws each run of dark modules straight onto the page; its widget
    (``QrCodeWidget``) builds the same code out of validated shapes, drawn by the graphics
    renderer, which costs more and brings in an unused Helvetica."""
    return LinkedQrCode(url)


def header(canvas: Canvas) -> None:
    """The black band with the service's name, over a blue rule, as GOV.UK's header."""
    canvas.saveState()
    top = PAGE_HEIGHT - MARGIN
    canvas.setFillColor(TEXT)
    canvas.rect(0, top - HEADER_HEIGHT + 2, PAGE_WIDTH, HEADER_HEIGHT + MARGIN, stroke=0, fill=1)
    canvas.setFillColor(BRAND)
    canvas.rect(0, top - HEADER_HEIGHT - 1, PAGE_WIDTH, 3, stroke=0, fill=1)
    canvas.setFillColor(WHITE)
    canvas.setFont(BOLD, 16)
    canvas.drawString(MARGIN, top - HEADER_HEIGHT / 2 - 2, SERVICE_NAME)
    canvas.restoreState()


def footer(canvas: Canvas, facts: CertificateFacts) -> None:
    """Whose certificate this is, its serial and issue date, and the page number: on every
    page, so a page that comes loose still says what it belongs to."""
    # Two short lines, so a long serial never runs into the page number.
    footer_lines(
        canvas,
        f"{facts.registration_number}. Serial {facts.serial}.",
        f"Issued on {long_date(facts.issued_on)}.",
    )


def footer_lines(canvas: Canvas, first: str, second: str) -> None:
    """The footer's two lines of what the page belongs to, and the page number beside them."""
    canvas.saveState()
    canvas.setFillColor(SECONDARY_TEXT)
    canvas.setFont(REGULAR, 10)
    canvas.drawString(MARGIN, MARGIN + 12, first)
    canvas.drawString(MARGIN, MARGIN, second)
    canvas.drawRightString(PAGE_WIDTH - MARGIN, MARGIN + 12, f"Page {canvas.getPageNumber()}")
    canvas.restoreState()


def attach_file(canvas: Canvas, name: str, content: bytes) -> None:
    """Embed ``content`` as the document's attached file ``name`` (the catalogue's
    /EmbeddedFiles name tree: what a viewer's attachments panel and pypdf list)."""
    document = canvas._doc  # type: ignore[attr-defined]  # the PDFDocument; not in the stubs
    stream = PDFStream(
        PDFDictionary(
            {
                "Type": PDFName("EmbeddedFile"),
                # A name's "/" is written #2F (PDF 32000-1, 7.3.5).
                "Subtype": "/" + CREDENTIAL_MEDIA_TYPE.replace("/", "#2F"),
                "Params": PDFDictionary({"Size": len(content)}),
            }
        ),
        content,
    )
    specification = PDFDictionary(
        {
            "Type": PDFName("Filespec"),
            "F": PDFString(name),
            "UF": PDFString(name),
            "Desc": PDFString("The signed Verifiable Credential this certificate shows"),
            "AFRelationship": PDFName("Data"),
            "EF": PDFDictionary({"F": document.Reference(stream)}),
        }
    )
    names = PDFDictionary(
        {
            "EmbeddedFiles": PDFDictionary(
                {"Names": PDFArray([PDFString(name), document.Reference(specification)])}
            )
        }
    )
    document.Catalog.Names = names
