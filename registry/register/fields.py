"""The register's rules for a person's details and free text, whichever way they arrive.

An application, an import, a registrar's change and the API all hold a name, a date of birth
or a declaration's details to the same rules, written here once. Each rule returns every
problem it finds as ``{field: message}``, in form order and in the GOV.UK error-message style,
so a page can list them all and a service can refuse on the first (:func:`refuse`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from registry import text as typed_text
from registry.errors import InvalidInput

MIN_AGE = 18
MIN_AWARD_AGE = 16  # no probation qualification is awarded to a child
EARLIEST_YEAR = 1900  # nothing on the register (a birth, an award) is dated before it
NAME_LIMIT = 100
TEXT_LIMIT = 5000  # a declaration's details, a registrar's reason or question, the answer to it


@dataclass(frozen=True)
class Voice:
    """Whom the messages speak to: applicants about themselves, or staff about a practitioner."""

    whose: str  # "Enter your family name", "Enter the family name"
    too_young: str
    birthday: str  # whose 16th birthday: "your", "the practitioner's"


APPLICANT = Voice("your", f"You must be at least {MIN_AGE} years old to apply", "your")
STAFF = Voice("the", f"A practitioner must be at least {MIN_AGE}", "the practitioner's")


def refuse(problems: Mapping[str, str]) -> None:
    """Raise the first problem, if there is one, for callers that stop at the first."""
    for field, message in problems.items():
        raise InvalidInput(message, field=field)


def text_problem(text: str, label: str, limit: int = TEXT_LIMIT) -> str | None:
    """What is wrong with a piece of free text, if anything: too long, a control character
    other than a line break or a tab (they corrupt the open data and the emails it reaches), or
    a character that changes the direction of the text around it (staff would misread it)."""
    if len(text) > limit:
        return f"{label} must be {limit:,} characters or fewer"
    return typed_text.text_problem(text, label, multiline=True)


def name_problems(given_names: str, family_name: str, voice: Voice) -> dict[str, str]:
    problems: dict[str, str] = {}
    for field, value in (("given_names", given_names), ("family_name", family_name)):
        label = field.replace("_", " ").capitalize()
        name = value.strip()
        if not name:
            problems[field] = f"Enter {voice.whose} {label.lower()}"
        elif wrong := text_problem(name, label, NAME_LIMIT):
            problems[field] = wrong
        elif not name.isprintable() or name[0] in "=+@":
            # Names reach spreadsheets through the open data: nothing a formula could start with.
            problems[field] = f"{label} must be on one line and must not start with =, + or @"
        elif not any(char.isalpha() for char in name):
            # "12345" or "!!!" is a slip or a test, never someone's name.
            problems[field] = f"{label} must include letters"
    return problems


def lookalike_warning(given_names: str, family_name: str) -> str | None:
    """A warning for the registrar when a name mixes alphabets that look alike (a Cyrillic "S",
    U+0405, in "Siân"), as a name made to pass for someone else's would. Only a warning: a real name
    may do it, so a person decides."""
    name = f"{given_names} {family_name}"
    if not typed_text.mixes_scripts(name):
        return None
    alphabets = " and ".join(sorted(script.capitalize() for script in typed_text.scripts_of(name)))
    return (
        f"The name mixes letters from different alphabets ({alphabets}) that look alike. "
        "Check it against the evidence before deciding."
    )


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def date_of_birth_problems(born: date, today: date, voice: Voice) -> dict[str, str]:
    if born > today:
        return {"date_of_birth": "Date of birth must be in the past"}
    if born.year < EARLIEST_YEAR:
        return {"date_of_birth": f"Date of birth must be after {EARLIEST_YEAR}"}
    if age_on(born, today) < MIN_AGE:
        return {"date_of_birth": voice.too_young}
    return {}


def awarded_on_problem(
    awarded_on: date, born: date | None, today: date, voice: Voice
) -> str | None:
    """A qualification's award date: not in the future, and (when the date of birth is known)
    not before the holder was old enough to have earned it, which is a mistyped year."""
    if awarded_on > today:
        return "The date it was awarded must be today or in the past"
    if awarded_on.year < EARLIEST_YEAR:
        return f"The date it was awarded must be after {EARLIEST_YEAR}"
    if born is not None and age_on(born, awarded_on) < MIN_AWARD_AGE:
        return (
            f"The date it was awarded must be on or after {voice.birthday} "
            f"{MIN_AWARD_AGE}th birthday"
        )
    return None


def details_problem(declared: bool, details: str) -> str | None:
    """A declaration of character or health: the details are needed when there is something to
    declare, and are free text like any other."""
    if declared and not details.strip():
        return "Give the details of what you are declaring"
    return text_problem(details.strip(), "Details")
