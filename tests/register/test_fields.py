"""The register's field rules: the same rule for an applicant and for staff, in their words."""

from __future__ import annotations

from datetime import date

import pytest

from registry.errors import InvalidInput
from registry.register import fields, service

TODAY = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("voice", "missing_given", "missing_family"),
    [
        (fields.APPLICANT, "Enter your given names", "Enter your family name"),
        (fields.STAFF, "Enter the given names", "Enter the family name"),
    ],
)
def test_a_missing_name_is_asked_for_in_the_voice_of_who_reads_it(
    voice: fields.Voice, missing_given: str, missing_family: str
) -> None:
    assert fields.name_problems(" ", "", voice) == {
        "given_names": missing_given,
        "family_name": missing_family,
    }


@pytest.mark.parametrize(
    ("family_name", "problem"),
    [
        ("x" * 101, "Family name must be 100 characters or fewer"),
        ("Ok\x00oye", "Family name must not contain control characters"),
        ("Okoye\nSmith", "Family name must be on one line and must not start with =, + or @"),
        ("=HYPERLINK(1)", "Family name must be on one line and must not start with =, + or @"),
        ("  " + "x" * 100 + "  ", None),  # the limit is on the name, not the spaces around it
        ("O'Neil-Smith", None),
        *(
            (
                f"Oko{mark}ye",
                "Family name must not contain characters that change the direction of text",
            )
            for mark in ("\u202e", "\u202a", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c")
        ),
        ("12345", "Family name must include letters"),
        ("!!!", "Family name must include letters"),
        ("Nguyễn", None),
        ("李", None),
    ],
)
def test_a_name_is_one_printable_line_that_no_spreadsheet_would_run(
    family_name: str, problem: str | None
) -> None:
    found = fields.name_problems("Amara", family_name, fields.STAFF)
    assert found.get("family_name") == problem


@pytest.mark.parametrize(
    ("born", "applicant", "staff"),
    [
        (
            date(2026, 3, 2),
            "Date of birth must be in the past",
            "Date of birth must be in the past",
        ),
        (
            date(1899, 12, 31),
            "Date of birth must be after 1900",
            "Date of birth must be after 1900",
        ),
        (
            date(2008, 3, 2),  # 18 tomorrow
            "You must be at least 18 years old to apply",
            "A practitioner must be at least 18",
        ),
        (date(2008, 3, 1), None, None),  # 18 today
    ],
)
def test_one_date_of_birth_rule_for_applicants_and_staff(
    born: date, applicant: str | None, staff: str | None
) -> None:
    assert fields.date_of_birth_problems(born, TODAY, fields.APPLICANT).get("date_of_birth") == (
        applicant
    )
    assert fields.date_of_birth_problems(born, TODAY, fields.STAFF).get("date_of_birth") == staff


def test_someone_born_on_29_february_comes_of_age_on_1_march() -> None:
    assert fields.age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert fields.age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18


@pytest.mark.parametrize(
    ("awarded_on", "applicant", "staff"),
    [
        (date(2026, 3, 2), "The date it was awarded must be today or in the past", None),
        (date(1899, 12, 31), "The date it was awarded must be after 1900", None),
        (
            date(2006, 5, 16),  # the day before the holder turned 16
            "The date it was awarded must be on or after your 16th birthday",
            "The date it was awarded must be on or after the practitioner's 16th birthday",
        ),
        (date(2006, 5, 17), None, None),
        (TODAY, None, None),
    ],
)
def test_a_qualification_is_awarded_after_the_holder_turned_16_and_not_in_the_future(
    awarded_on: date, applicant: str | None, staff: str | None
) -> None:
    born = date(1990, 5, 17)
    assert fields.awarded_on_problem(awarded_on, born, TODAY, fields.APPLICANT) == applicant
    assert fields.awarded_on_problem(awarded_on, born, TODAY, fields.STAFF) == (staff or applicant)
    # Before the date of birth is known, only the date itself is checked.
    assert fields.awarded_on_problem(date(1991, 1, 1), None, TODAY, fields.APPLICANT) is None


@pytest.mark.parametrize(
    ("declared", "details", "problem"),
    [
        (True, "  ", "Give the details of what you are declaring"),
        (True, "d" * 5001, "Details must be 5,000 characters or fewer"),
        (False, "d" * 5001, "Details must be 5,000 characters or fewer"),
        (True, "Line one\r\nLine two\tindented", None),
        (True, "bell\x07", "Details must not contain control characters"),
        (False, "", None),
    ],
)
def test_declaration_details(declared: bool, details: str, problem: str | None) -> None:
    assert fields.details_problem(declared, details) == problem


def test_the_service_refuses_on_the_first_problem_with_its_field() -> None:
    person = service.PersonIn("Amara", "", date(2026, 3, 2))
    with pytest.raises(InvalidInput) as refused:
        service.check_person(person, TODAY)
    assert (refused.value.field, refused.value.detail) == ("family_name", "Enter the family name")
    fields.refuse({})  # nothing wrong: nothing raised


@pytest.mark.parametrize(
    ("given_names", "family_name", "alphabets"),
    [
        ("\u0405i\u00e2n", "Jones", "Cyrillic and Latin"),  # a Cyrillic S in "Siân"
        ("Si\u00e2n", "J\u03bfnes", "Greek and Latin"),  # a Greek omicron in "Jones"
        ("Si\u00e2n", "Jones", None),  # accented Latin is Latin
        ("Zo\u00eb \u0141ucja", "\u00c6thelstan-M\u00fcller", None),
        ("\u0410\u043d\u043d\u0430", "\u041f\u0435\u0442\u0440\u043e\u0432\u0430", None),
    ],
)
def test_a_name_mixing_look_alike_alphabets_is_flagged(
    given_names: str, family_name: str, alphabets: str | None
) -> None:
    warning = fields.lookalike_warning(given_names, family_name) or ""
    if alphabets:
        assert f"({alphabets})" in warning
    else:
        assert warning == ""


def test_staff_and_imports_are_held_to_the_same_award_date_rule() -> None:
    person = service.PersonIn("Amara", "Okoye", date(1990, 5, 17))
    child = [service.QualificationIn("pqip", date(2001, 7, 1))]
    with pytest.raises(InvalidInput) as refused:
        service.check_person(person, TODAY, child)
    assert (refused.value.field, refused.value.detail) == (
        "qualification_awarded_on",
        "The date it was awarded must be on or after the practitioner's 16th birthday",
    )
    service.check_person(person, TODAY, [service.QualificationIn("pqip", date(2012, 7, 1))])
