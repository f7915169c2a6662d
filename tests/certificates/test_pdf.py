"""The certificate PDF, read back the way its readers read it: text a screen reader or a search
finds (pypdf), the page as pixels with its QR code scanned (pypdfium2 + zxing-cpp), and the
attached credential taken out again. No database: render_certificate is a pure function."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import Mapping
from datetime import date
from typing import Any, cast

import pypdf
import pypdfium2
import pytest
import zxingcpp
from reportlab.lib.units import mm

from registry.certificates.pdf import (
    MARGIN,
    ActivityTable,
    CertificateFacts,
    render_certificate,
)

SERIAL = "7Q2M-4XKD-9HTR-0B3V-5NWE-8CJF-1GAY-6P"
VERIFY_URL = "https://probation-register.example/verify/7Q2M4XKD9HTR0B3V5NWE8CJF1GAY6P"
CREDENTIAL = (
    json.dumps(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "id": f"urn:serial:{SERIAL}",
            "credentialSubject": {
                "name": "Jane Smith",
                "note": "Zo\u00eb\u2019s \u201cquotes\u201d & <tags>",
            },
            "proof": {
                "cryptosuite": "eddsa-jcs-2022",
                "proofValue": "z3FXQjecWufY46yg5abdVZsXqLhxhueuSoZgNSARiKBk",
            },
        },
        ensure_ascii=False,
        indent=2,
    )
    + "\n"
).encode()


def facts(**changes: Any) -> CertificateFacts:
    base = CertificateFacts(
        kind="registration",
        title="Certificate of registration",
        practitioner_name="Jane Smith",
        registration_number="PR1000011",
        roles=["Probation Officer"],
        registered_since=date(2025, 3, 3),
        valid_until=date(2027, 11, 30),
        conditions=[],
        serial=SERIAL,
        issued_on=date(2026, 11, 27),
        verify_url=VERIFY_URL,
        credential_json=CREDENTIAL,
    )
    return dataclasses.replace(base, **changes)


def reader(pdf: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(pdf))


def dictionary(value: Any) -> Mapping[str, Any]:
    """A PDF dictionary, followed through an indirect reference if it is one."""
    resolved = value.get_object()
    assert isinstance(resolved, pypdf.generic.DictionaryObject)
    return cast(Mapping[str, Any], resolved)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in reader(pdf).pages)


def squashed(text: str) -> str:
    """Text without its whitespace: wrapping may break a line anywhere, even inside a word."""
    return re.sub(r"\s+", "", text)


def qr_codes(pdf: bytes, page: int = 0) -> list[str]:
    """What a phone would read from the page's QR codes, scanned from the page as pixels."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[page].render(scale=2).to_pil()
    finally:
        document.close()
    found = zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    return [code.text for code in found]


def character_boxes(pdf: bytes) -> list[tuple[int, str, tuple[float, float, float, float]]]:
    """(page, character, (left, bottom, right, top)) of every character pdfium lays out."""
    document = pypdfium2.PdfDocument(pdf)
    boxes = []
    try:
        for number in range(len(document)):
            text = document[number].get_textpage()
            for index in range(text.count_chars()):
                character = text.get_text_range(index, 1)
                if character.strip():
                    boxes.append((number, character, text.get_charbox(index)))
    finally:
        document.close()
    return boxes


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    return [(float(page.mediabox.width), float(page.mediabox.height)) for page in reader(pdf).pages]


def assert_inside_margins(pdf: bytes) -> None:
    """Every character lies within the page's side margins and on the page."""
    sizes = page_sizes(pdf)
    outside = [
        (page, character, box)
        for page, character, box in character_boxes(pdf)
        if box[0] < MARGIN - 1
        or box[2] > sizes[page][0] - MARGIN + 1
        or box[1] < 0
        or box[3] > sizes[page][1]
    ]
    assert outside == []


def test_the_page_states_the_practitioners_facts() -> None:
    pdf = render_certificate(
        facts(
            roles=["Probation Officer", "Senior Probation Officer"],
            conditions=["Must practise under the supervision of a senior probation officer."],
        )
    )

    text = text_of(pdf)
    for expected in (
        "Certificate of registration",
        "Jane Smith",
        "PR1000011",
        "Probation Officer",
        "Senior Probation Officer",
        "Registered since",
        "3 March 2025",
        "Valid until",
        "30 November 2027",
        "Issued on",
        "27 November 2026",
        SERIAL,
        "Conditions in force",
        "Must practise under the supervision of a senior probation officer.",
    ):
        assert expected in text
    assert squashed(VERIFY_URL) in squashed(text)
    assert len(reader(pdf).pages) == 1
    [(width, height)] = page_sizes(pdf)
    assert (round(width / mm), round(height / mm)) == (210, 297)  # A4


def test_no_conditions_is_said_plainly() -> None:
    text = text_of(render_certificate(facts(conditions=[])))

    assert "Conditions in force\nNone." in text


def test_the_text_is_real_text_in_the_shipped_font() -> None:
    pdf = render_certificate(facts())
    page = reader(pdf).pages[0]

    assert list(page.images) == []
    fonts = dictionary(dictionary(page["/Resources"])["/Font"])
    names = {str(dictionary(font)["/BaseFont"]) for font in fonts.values()}
    # Subsets of the two TTFs shipped in registry/certificates/fonts, and no other font.
    assert {name.split("+")[-1] for name in names} == {"LiberationSans", "LiberationSans-Bold"}


def test_title_author_subject_and_language_are_set() -> None:
    document = reader(render_certificate(facts()))
    metadata = document.metadata

    assert metadata is not None
    assert metadata.title == "Certificate of registration: Jane Smith"
    assert metadata.author == "The statutory register of probation practitioners"
    assert metadata.subject == f"Registration certificate {SERIAL} for PR1000011"
    catalogue = dictionary(document.trailer["/Root"])
    assert catalogue["/Lang"] == "en-GB"
    assert dictionary(catalogue["/ViewerPreferences"])["/DisplayDocTitle"] == True  # noqa: E712


def test_the_signed_credential_is_attached_byte_for_byte() -> None:
    document = reader(render_certificate(facts()))

    assert dict(document.attachments) == {f"{SERIAL}.json": [CREDENTIAL]}
    names = dictionary(dictionary(document.trailer["/Root"])["/Names"])
    tree = dictionary(names["/EmbeddedFiles"])["/Names"]
    assert isinstance(tree, pypdf.generic.ArrayObject)
    specification = dictionary(tree[1])
    embedded = dictionary(dictionary(specification["/EF"])["/F"])
    assert embedded["/Subtype"] == "/application/vc+ld+json"
    assert dictionary(embedded["/Params"])["/Size"] == len(CREDENTIAL)
    assert specification["/UF"] == f"{SERIAL}.json"


def test_the_qr_code_opens_the_verification_page_for_the_serial() -> None:
    pdf = render_certificate(facts())

    assert qr_codes(pdf) == [VERIFY_URL]
    # On a screen the QR code and the printed address are links to the same page.
    annotations = reader(pdf).pages[0].get("/Annots")
    assert annotations is not None
    links = [dictionary(dictionary(link)["/A"])["/URI"] for link in annotations]
    assert links == [VERIFY_URL, VERIFY_URL]


def test_a_long_name_many_roles_and_ten_conditions_stay_on_the_page() -> None:
    name = (
        "Anna-Maria Jacqueline Bartholomew-Featherstonehaugh Ó Súilleabháin de la Cruz "
        "Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaftschaferswessenschafe"
        "warenwohlgepflegeundsorgfaltigkeitbeschutzenvorangreifendurchihrraubgierigfeinde "
        "Smith-Jones"
    )
    roles = [
        "Probation Officer",
        "Probation Services Officer",
        "Senior Probation Officer",
        "Trainee Probation Officer (PQiP learner)",
        "Probation Officer (Approved Premises, Youth Offending Service secondment)",
    ]
    conditions = [
        f"Condition {number}: must not supervise people on probation convicted of offences "
        f"against children without a senior probation officer present, and must tell the "
        f"register within 7 days of any change of employer (order {number} of 10)."
        for number in range(1, 11)
    ]
    pdf = render_certificate(facts(practitioner_name=name, roles=roles, conditions=conditions))

    text = squashed(text_of(pdf))
    assert squashed(name) in text
    for role in roles:
        assert squashed(role) in text
    for condition in conditions:
        assert squashed(condition) in text
    assert squashed(VERIFY_URL) in text
    assert_inside_margins(pdf)
    # The QR code stays on the first page, beside the title, however long the rest is.
    assert qr_codes(pdf, 0) == [VERIFY_URL]


def test_a_cpd_statement_runs_its_activities_over_pages_with_the_headings_repeated() -> None:
    columns = ["Date", "Activity", "Type", "Hours"]
    rows = [
        [
            f"{day} March 2026",
            f"Activity {day}: risk assessment and management of people on probation, with "
            f"a reflective account of what was learned and how practice changed",
            "Formal course",
            "2.5",
        ]
        for day in range(1, 61)
    ]
    summary = [("Year", "2025 to 2026"), ("Hours", "150 of 30"), ("Reflective accounts", "3 of 2")]
    pdf = render_certificate(
        facts(
            kind="cpd_statement",
            title="CPD statement 2025 to 2026",
            summary=summary,
            activities=ActivityTable(columns=columns, rows=rows),
        )
    )

    document = reader(pdf)
    assert len(document.pages) > 1
    text = text_of(pdf)
    assert "Continuing professional development statement" in text
    for label, value in summary:
        assert label in text
        assert value in text
    for row in rows:
        assert squashed(row[1]) in squashed(text)
    for page in document.pages:
        page_text = page.extract_text()
        assert "Date\nActivity\nType\nHours" in page_text or "Activity 1:" not in page_text
        assert SERIAL in page_text
    assert "Page 2" in document.pages[1].extract_text()
    assert_inside_margins(pdf)
    assert dict(document.attachments) == {f"{SERIAL}.json": [CREDENTIAL]}
    assert qr_codes(pdf, 0) == [VERIFY_URL]
    assert qr_codes(pdf, 1) == []


def test_an_activity_row_with_the_wrong_number_of_cells_is_refused() -> None:
    table = ActivityTable(columns=["Date", "Activity"], rows=[["1 March 2026"]])

    with pytest.raises(ValueError, match="1 cells, not 2"):
        render_certificate(facts(kind="cpd_statement", activities=table))


def test_text_that_looks_like_markup_is_printed_as_typed() -> None:
    condition = "Must not work at <b>HMP Example</b> & must report <br/> weekly."
    pdf = render_certificate(facts(practitioner_name="Zoë O'Brien & Co", conditions=[condition]))

    text = text_of(pdf)
    assert "Zoë O'Brien & Co" in text
    assert condition in text
