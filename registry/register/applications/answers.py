"""An application's answers: one section per question page, each with its own checks.

A section turns what the applicant gave into the columns it fills, or refuses with every
problem on its page (:class:`InvalidAnswers`). It sees the draft it joins, since some answers
are checked against earlier ones (a qualification is not awarded before its holder turned 16).
The rules for a name, a date of birth and free text are the register's own, in
:mod:`registry.register.fields`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from registry.accounts.users import normalise_email
from registry.errors import InvalidInput
from registry.register import fields, service
from registry.register.tables import Application, ApplicationKind

if TYPE_CHECKING:  # records loads drafts and saves sections: it imports this module
    from registry.register.applications.records import ApplicationRecord

ADDRESS_LIMIT = 500
INSTITUTION_LIMIT = 200
POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
PHONE = re.compile(r"^\+?[0-9 ()\-]{7,20}$")


class InvalidAnswers(InvalidInput):
    """One or more answers on a page are wrong; ``problems`` names each field, in page order."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        first_field, first_message = next(iter(problems.items()))
        super().__init__(first_message, field=first_field)
        self.problems = dict(problems)


class Problems:
    """The problems found on one page so far: the first for each field is kept."""

    def __init__(self) -> None:
        self.found: dict[str, str] = {}

    def add(self, name: str, message: str) -> None:
        self.found.setdefault(name, message)

    def raise_any(self) -> None:
        if self.found:
            raise InvalidAnswers(self.found)


def required_text(
    problems: Problems, name: str, value: str, limit: int, missing: str, label: str
) -> str:
    """The text trimmed; a problem is added when it is empty or breaks the free-text rule."""
    cleaned = value.strip()
    if not cleaned:
        problems.add(name, missing)
    elif wrong := fields.text_problem(cleaned, label, limit):
        problems.add(name, wrong)
    return cleaned


def required_answer(name: str, value: str, missing: str, label: str) -> str:
    """A page with one piece of free text (a reason, a question, an answer to it)."""
    problems = Problems()
    answer = required_text(problems, name, value, fields.TEXT_LIMIT, missing, label)
    problems.raise_any()
    return answer


# --- one section per question page -------------------------------------------------------


@dataclass(frozen=True)
class Name:
    given_names: str
    family_name: str

    async def columns(self, today: date, draft: ApplicationRecord) -> dict[Any, Any]:
        given, family = self.given_names.strip(), self.family_name.strip()
        if problems := fields.name_problems(given, family, fields.APPLICANT):
            raise InvalidAnswers(problems)
        return {Application.given_names: given, Application.family_name: family}


def check_date_of_birth(born: date, today: date) -> None:
    if problems := fields.date_of_birth_problems(born, today, fields.APPLICANT):
        raise InvalidAnswers(problems)


def check_awarded_on(record: ApplicationRecord, today: date) -> None:
    """At submission: the date of birth may have been changed since the qualification was
    answered, so the two are checked together again, and the qualification page is named."""
    awarded, born = record.qualification_awarded_on, record.date_of_birth
    if awarded and (wrong := fields.awarded_on_problem(awarded, born, today, fields.APPLICANT)):
        raise InvalidAnswers({"qualification": wrong})


@dataclass(frozen=True)
class DateOfBirth:
    date_of_birth: date

    async def columns(self, today: date, draft: ApplicationRecord) -> dict[Any, Any]:
        check_date_of_birth(self.date_of_birth, today)
        return {Application.date_of_birth: self.date_of_birth}


@dataclass(frozen=True)
class Contact:
    email: str
    phone: str = ""

    async def columns(self, today: date, draft: ApplicationRecord) -> dict[Any, Any]:
        problems = Problems()
        email = self.email.strip()
        if not email:
            problems.add("email", "Enter your email address")
        else:
            try:
                email = normalise_email(email)
            except InvalidInput as error:
                problems.add("email", error.detail)
        phone = self.phone.strip()
        if phone and not PHONE.match(phone):
            problems.add(
                "phone", "Enter a telephone number, like 01632 960 001 or +44 808 157 0192"
            )
        problems.raise_any()
        return {Application.email: email, Application.phone: phone}


def normalise_postcode(value: str) -> str | None:
    compact = "".join(value.split()).upper()
    found = POSTCODE.match(compact)
    return f"{found.group(1)} {found.group(2)}" if found else None


@dataclass(frozen=True)
class Address:
    address: str
    postcode: str

    async def columns(self, today: date, draft: ApplicationRecord) -> dict[Any, Any]:
        problems = Problems()
        address = required_text(
            problems, "address", self.address, ADDRESS_LIMIT, "Enter your address", "Address"
        )
        postcode = ""
        if not self.postcode.strip():
            problems.add("postcode", "Enter your postcode")
        elif (normalised := normalise_postcode(self.postcode)) is None:
            problems.add("postcode", "Enter a real postcode, like SW1A 1AA")
        else:
            postcode = normalised
        problems.raise_any()
        return {Application.address: address, Application.postcode: postcode}


def _chosen(
    code: str, table: dict[str, service.Reference], field: str, missing: str, unknown: str
) -> int:
    """The id of a code chosen from a reference list, or the page's message for the field."""
    if not code.strip():
        raise InvalidAnswers({field: missing})
    if code not in table:
        raise InvalidAnswers({field: unknown})
    return table[code].id


@dataclass(frozen=True)
class RoleAnswer:
    code: str

    async def columns(self, today: date, draft: ApplicationRecord) -> dict[Any, Any]:
        roles = (await service.reference_data()).roles
        return {
            Application.role: _chosen(
                self.code,
                roles,
                "role",
                "Select your designated role",
                "Select a designated role from the list",
            )
        }


@dataclass(frozen=True)
class RegionAnswer:
    code: str

    async def columns(self, today: date, draft: ApplicationRecord) -> dict[Any, Any]:
        regions = (await service.reference_data()).regions
        return {
            Application.region: _chosen(
                self.code,
                regions,
                "region",
                "Select the region you work in",
                "Select a region from the list",
            )
        }


@dataclass(frozen=True)
class Qualification:
    code: str
    awarded_on: date | None
    institution: str
    # Set by the page when the date it was given could not be read, so that every problem on
    # the page is reported together.
    awarded_on_problem: str = ""

    async def columns(self, today: date, draft: ApplicationRecord) -> dict[Any, Any]:
        problems = Problems()
        reference = await service.reference_data()
        if not self.code.strip():
            problems.add("qualification_type", "Select your qualification")
        elif self.code not in reference.qualifications:
            problems.add("qualification_type", "Select a qualification from the list")
        if self.awarded_on_problem:
            problems.add("awarded_on", self.awarded_on_problem)
        elif self.awarded_on is None:
            problems.add("awarded_on", "Enter the date the qualification was awarded")
        elif wrong := fields.awarded_on_problem(
            self.awarded_on, draft.date_of_birth, today, fields.APPLICANT
        ):
            problems.add("awarded_on", wrong)
        institution = required_text(
            problems,
            "institution",
            self.institution,
            INSTITUTION_LIMIT,
            "Enter the name of the institution that awarded it",
            "Institution",
        )
        problems.raise_any()
        return {
            Application.qualification_type: reference.qualifications[self.code].id,
            Application.qualification_awarded_on: self.awarded_on,
            Application.qualification_institution: institution,
        }


@dataclass(frozen=True)
class Declaration:
    """Character (convictions, cautions) or health: yes or no, and the details when yes."""

    topic: str  # "character" or "health"
    declared: bool | None
    details: str = ""

    async def columns(self, today: date, draft: ApplicationRecord) -> dict[Any, Any]:
        if self.topic not in ("character", "health"):
            raise ValueError(f"no declaration about {self.topic}")
        question = {
            "character": "Select yes if you have a conviction or caution to declare",
            "health": "Select yes if you have a health condition to declare",
        }[self.topic]
        if self.declared is None:
            raise InvalidAnswers({f"{self.topic}_declaration": question})
        details = self.details.strip()
        if wrong := fields.details_problem(self.declared, details):
            raise InvalidAnswers({f"{self.topic}_details": wrong})
        declared_column, details_column = {
            "character": (Application.character_declaration, Application.character_details),
            "health": (Application.health_declaration, Application.health_details),
        }[self.topic]
        return {declared_column: self.declared, details_column: details if self.declared else ""}


Section = (
    Name | DateOfBirth | Contact | Address | RoleAnswer | RegionAnswer | Qualification | Declaration
)


# --- which pages a draft needs ------------------------------------------------------------

# The pages a draft needs answered before it can be submitted, in the order they are asked.
INITIAL_STEPS = (
    "name",
    "date-of-birth",
    "contact",
    "address",
    "role",
    "region",
    "qualification",
    "evidence",
    "character",
    "health",
)
RESTORATION_STEPS = ("contact", "address", "character", "health")


def steps_for(kind: ApplicationKind) -> tuple[str, ...]:
    return INITIAL_STEPS if kind is ApplicationKind.initial else RESTORATION_STEPS


def missing_answers(record: ApplicationRecord) -> dict[str, str]:
    """Each unanswered page of a draft (its step) and what to do about it, in page order."""
    checks: dict[str, tuple[bool, str]] = {
        "name": (bool(record.given_names and record.family_name), "Enter your name"),
        "date-of-birth": (record.date_of_birth is not None, "Enter your date of birth"),
        "contact": (bool(record.email), "Enter your email address"),
        "address": (bool(record.address and record.postcode), "Enter your address"),
        "role": (bool(record.role_code), "Select your designated role"),
        "region": (bool(record.region_code), "Select the region you work in"),
        "qualification": (
            bool(record.qualification_code and record.qualification_institution),
            "Enter your qualification",
        ),
        "evidence": (record.evidence is not None, "Upload evidence of your qualification"),
        "character": (
            record.character_declaration is not None,
            "Answer the question about convictions and cautions",
        ),
        "health": (
            record.health_declaration is not None,
            "Answer the question about your health",
        ),
    }
    return {
        step: message
        for step, (answered, message) in checks.items()
        if step in steps_for(record.kind) and not answered
    }
