"""The application pages over HTTP, as a browser uses them: the applicant's question pages,
check your answers, the registrar's queue and decisions, and every refusal the GOV.UK way."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from registry.accounts.roles import Role
from registry.config import Settings
from registry.core import clock
from registry.register import renewals, service
from registry.register.applications import records
from registry.register.service import EntryMove
from registry.register.tables import Application, ApplicationKind, ApplicationStatus
from tests.accounts.helpers import make_user
from tests.register.applying import PDF, emails, submitted_application
from tests.register.browsing import (
    csrf_field,
    error_links,
    error_summary,
    inline_error,
    post_form,
    signed_in,
    visible_text,
)
from tests.register.helpers import put_on_register

TODAY = clock.now().date()

ANSWERS: list[tuple[str, dict[str, str]]] = [
    ("name", {"given_names": "Tomasz", "family_name": "Nowak"}),
    (
        "date-of-birth",
        {"date_of_birth-day": "9", "date_of_birth-month": "11", "date_of_birth-year": "1988"},
    ),
    ("contact", {"email": "tomasz.nowak@example.org", "phone": "+44 7700 900456"}),
    ("address", {"address": "4 Court Road\nCardiff", "postcode": "cf10 1aa"}),
    ("role", {"role": "probation_services_officer"}),
    ("region", {"region": "south_west"}),
    (
        "qualification",
        {
            "qualification_type": "pqf",
            "awarded_on-day": "1",
            "awarded_on-month": "7",
            "awarded_on-year": "2015",
            "institution": "Cardiff University",
        },
    ),
    ("character", {"character_declaration": "no"}),
    ("health", {"health_declaration": "no"}),
]


@pytest.fixture
async def applicant(client: httpx.AsyncClient) -> Any:
    return await make_user(Role.practitioner, "tomasz@example.org")


@pytest.fixture
async def browser(client: httpx.AsyncClient, applicant: Any) -> httpx.AsyncClient:
    return await signed_in(client, applicant)


async def _answer_everything(browser: httpx.AsyncClient) -> None:
    started = await post_form(browser, "/apply")
    assert started.status_code == 303
    assert started.headers["location"] == "/apply/name"
    for step, fields in ANSWERS:
        response = await post_form(browser, f"/apply/{step}", fields)
        assert response.status_code == 303, (step, error_summary(response))
        if step == "qualification":
            uploaded = await post_form(
                browser,
                "/apply/evidence",
                files={"evidence": ("certificate.pdf", PDF, "application/pdf")},
            )
            assert uploaded.status_code == 303


async def test_an_applicant_answers_each_page_checks_and_sends(
    browser: httpx.AsyncClient, applicant: Any
) -> None:
    start = await browser.get("/apply")
    assert start.status_code == 200
    assert "Start now" in start.text
    await _answer_everything(browser)
    check = await browser.get("/apply/check")
    text = visible_text(check)
    for shown in (
        "Tomasz Nowak",
        "9 November 1988",
        "4 Court Road Cardiff CF10 1AA",
        "Probation Services Officer",
        "South West",
        "Probation Qualifications Framework (PQF)",
        "1 July 2015",
        "certificate.pdf (PDF, 1 KB)",
    ):
        assert shown in text, shown
    assert 'href="/apply/date-of-birth?change=1"' in check.text
    sent = await post_form(browser, "/apply/check")
    assert sent.status_code == 303
    assert sent.headers["location"] == "/apply/submitted"
    confirmation = await browser.get("/apply/submitted")
    record = await records.latest_for(applicant.id)
    assert record is not None
    assert record.status is ApplicationStatus.submitted
    assert f"Your reference number {record.reference}" in visible_text(confirmation)
    assert [e["recipient"] for e in await emails("application_submitted")] == [
        "tomasz.nowak@example.org"
    ]
    mine = await browser.get("/your-application")
    assert "A registrar is looking at your application" in mine.text
    # Sent: the question pages now lead to the application, not to a form.
    again = await browser.get("/apply/name")
    assert again.status_code == 303
    assert (await browser.get("/apply/check")).headers["location"] == "/your-application"


async def test_a_change_from_check_your_answers_goes_back_there(
    browser: httpx.AsyncClient, applicant: Any
) -> None:
    await _answer_everything(browser)
    page = await browser.get("/apply/role?change=1")
    assert 'name="change" value="1"' in page.text
    assert 'href="/apply/check"' in page.text  # the back link
    changed = await post_form(
        browser,
        "/apply/role",
        {"role": "senior_probation_officer", "change": "1"},
        page="/apply/role?change=1",
    )
    assert changed.headers["location"] == "/apply/check"
    record = await records.latest_for(applicant.id)
    assert record is not None
    assert record.role_code == "senior_probation_officer"


BAD_PAGES: list[tuple[str, dict[str, str], dict[str, str]]] = [
    (
        "name",
        {},
        {"given_names": "Enter your given names", "family_name": "Enter your family name"},
    ),
    (
        "name",
        {"given_names": "x" * 101, "family_name": "Nowak"},
        {"given_names": "Given names must be 100 characters or fewer"},
    ),
    ("date-of-birth", {}, {"date_of_birth": "Enter your date of birth"}),
    (
        "date-of-birth",
        {"date_of_birth-day": "9", "date_of_birth-year": "1988"},
        {"date_of_birth": "Date of birth must include a month"},
    ),
    (
        "date-of-birth",
        {"date_of_birth-day": "31", "date_of_birth-month": "2", "date_of_birth-year": "1988"},
        {"date_of_birth": "Date of birth must be a real date"},
    ),
    (
        "date-of-birth",
        {"date_of_birth-day": "9", "date_of_birth-month": "11", "date_of_birth-year": "88"},
        {"date_of_birth": "Year must include 4 numbers"},
    ),
    (
        "date-of-birth",
        {"date_of_birth-day": "ninth", "date_of_birth-month": "11", "date_of_birth-year": "1988"},
        {"date_of_birth": "Date of birth must be a real date"},
    ),
    (
        "date-of-birth",
        {
            "date_of_birth-day": str((TODAY + timedelta(days=1)).day),
            "date_of_birth-month": str((TODAY + timedelta(days=1)).month),
            "date_of_birth-year": str((TODAY + timedelta(days=1)).year),
        },
        {"date_of_birth": "Date of birth must be in the past"},
    ),
    (
        "date-of-birth",
        {
            "date_of_birth-day": str(TODAY.day),
            "date_of_birth-month": str(TODAY.month),
            "date_of_birth-year": str(TODAY.year - 17),
        },
        {"date_of_birth": "You must be at least 18 years old to apply"},
    ),
    (
        "contact",
        {"email": "tomasz", "phone": "ring me"},
        {
            "email": "Enter an email address in the correct format, like name@example.org",
            "phone": "Enter a telephone number, like 01632 960 001 or +44 808 157 0192",
        },
    ),
    (
        "address",
        {"address": "1 Road", "postcode": "XYZ"},
        {"postcode": "Enter a real postcode, like SW1A 1AA"},
    ),
    ("role", {}, {"role": "Select your designated role"}),
    ("role", {"role": "chief_constable"}, {"role": "Select a designated role from the list"}),
    ("region", {"region": "narnia"}, {"region": "Select a region from the list"}),
    (
        "qualification",
        {
            "qualification_type": "pqip",
            "awarded_on-day": "1",
            "awarded_on-month": "13",
            "awarded_on-year": "2015",
        },
        {
            "awarded_on": "Date awarded must be a real date",
            "institution": "Enter the name of the institution that awarded it",
        },
    ),
    (
        "character",
        {},
        {"character_declaration": "Select yes if you have a conviction or caution to declare"},
    ),
    (
        "character",
        {"character_declaration": "yes", "character_details": ""},
        {"character_details": "Give the details of what you are declaring"},
    ),
    (
        "health",
        {"health_declaration": "maybe"},
        {"health_declaration": "Select yes if you have a health condition to declare"},
    ),
]


CHOICES = ("role", "region", "qualification_type", "character_declaration", "health_declaration")


@pytest.mark.parametrize(("step", "fields", "problems"), BAD_PAGES)
async def test_each_page_names_what_is_wrong_and_saves_nothing(
    browser: httpx.AsyncClient,
    applicant: Any,
    step: str,
    fields: dict[str, str],
    problems: dict[str, str],
) -> None:
    await post_form(browser, "/apply")
    record = await records.latest_for(applicant.id)
    assert record is not None
    before = await Application.select().where(Application.id == record.id).first()
    page = await post_form(browser, f"/apply/{step}", fields)
    assert page.status_code == 422
    assert "<title>Error: " in page.text
    assert error_summary(page) == list(problems.values())
    assert error_links(page) == [
        f"#{name}-day" if name in ("date_of_birth", "awarded_on") else f"#{name}"
        for name in problems
    ]
    for name, message in problems.items():
        assert inline_error(page, name) == f"Error: {message}"
    for name, value in fields.items():  # what they typed is kept for them to correct
        if value and name not in CHOICES:
            assert f'value="{value}"' in page.text or f">{value}<" in page.text, name
    after = await Application.select().where(Application.id == record.id).first()
    assert after == before


async def test_a_form_without_its_csrf_token_is_refused(
    browser: httpx.AsyncClient, applicant: Any
) -> None:
    await post_form(browser, "/apply")
    forged = await browser.post("/apply/name", data={"given_names": "Forged", "family_name": "X"})
    assert forged.status_code == 403
    wrong = await browser.post(
        "/apply/name",
        data={"given_names": "Forged", "family_name": "X", "_csrf_token": "0" * 128},
    )
    assert wrong.status_code == 403
    record = await records.latest_for(applicant.id)
    assert record is not None
    assert record.given_names == ""


async def test_sending_an_unfinished_application_lists_what_is_missing(
    browser: httpx.AsyncClient,
) -> None:
    await post_form(browser, "/apply")
    await post_form(browser, "/apply/name", {"given_names": "Tomasz", "family_name": "Nowak"})
    check = await browser.get("/apply/check")
    assert '<a class="govuk-link" href="/apply/date-of-birth">Enter your date of birth</a>' in (
        check.text
    )
    sent = await post_form(browser, "/apply/check")
    assert sent.status_code == 422
    assert error_summary(sent)[:2] == ["Enter your date of birth", "Enter your address"]
    assert error_links(sent)[:2] == ["/apply/date-of-birth", "/apply/address"]
    assert await emails() == []


async def test_one_application_at_a_time_and_none_once_on_the_register(
    browser: httpx.AsyncClient, applicant: Any, settings: Settings
) -> None:
    await _answer_everything(browser)
    await post_form(browser, "/apply/check")
    start = await browser.get("/apply")
    assert "You already have an application in progress" in start.text
    assert "Start now" not in start.text
    again = await browser.post("/apply", data={"_csrf_token": browser.cookies["registry_csrf"]})
    assert again.status_code == 409
    assert error_summary(again)[0].startswith("You already have an application in progress")
    assert await Application.count().where(Application.applicant == applicant.id) == 1

    await Application.delete().where(Application.applicant == applicant.id)
    entry = await put_on_register(account_id=applicant.id)
    on_register = await browser.post(
        "/apply", data={"_csrf_token": browser.cookies["registry_csrf"]}
    )
    assert on_register.status_code == 409
    assert error_summary(on_register) == [
        f"You are already on the register ({entry.registration_number}). "
        "You do not need to apply again."
    ]
    assert await Application.count() == 0


async def test_an_applicant_sees_only_their_own_application(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    owner = await make_user(Role.practitioner, "owner@example.org")
    record = await submitted_application(settings.data_dir, owner, given="Private")
    other = await make_user(Role.practitioner, "other@example.org")
    browser = await signed_in(client, other)
    mine = await browser.get("/your-application")
    assert "You have not applied to join the register" in mine.text
    assert "Private" not in mine.text
    assert record.reference not in mine.text
    # With no draft of their own, a question page changes nothing of anyone's.
    response = await post_form(
        browser, "/apply/name", {"given_names": "X", "family_name": "Y"}, page="/apply"
    )
    assert response.status_code == 303
    assert (await records.get(record.id)).given_names == "Private"
    for path in ("/registrar/applications", f"/registrar/applications/{record.id}"):
        assert (await browser.get(path)).status_code == 403
    refused = await browser.post(
        f"/registrar/applications/{record.id}/approve",
        data={"_csrf_token": browser.cookies["registry_csrf"]},
    )
    assert refused.status_code == 403
    assert (await records.get(record.id)).status is ApplicationStatus.submitted


# --- the registrar ------------------------------------------------------------------------


@pytest.fixture
async def registrar_browser(client: httpx.AsyncClient) -> httpx.AsyncClient:
    return await signed_in(client, await make_user(Role.registrar, "rhea@example.org"))


async def test_the_queue_shows_each_application_with_its_age(
    registrar_browser: httpx.AsyncClient, settings: Settings
) -> None:
    ten_days_ago = clock.now() - timedelta(days=10)
    with clock.frozen_at(ten_days_ago):
        old = await submitted_application(settings.data_dir, given="Olwen")
    new = await submitted_application(settings.data_dir, given="Nadia")
    page = await registrar_browser.get("/registrar/applications")
    assert page.status_code == 200
    text = visible_text(page)
    assert "Awaiting a decision: 2 applications" in text
    assert text.index("Olwen Okoye") < text.index("Nadia Okoye")
    assert f"{old.reference} Olwen Okoye Joining the register Submitted" in text
    assert f"{ten_days_ago:%-d %b %Y} 10" in text
    assert f"/registrar/applications/{new.id}" in page.text
    rejected = await registrar_browser.get("/registrar/applications?status=rejected")
    assert "Rejected: 0 applications" in visible_text(rejected)
    unknown = await registrar_browser.get("/registrar/applications?status=nonsense")
    assert "Awaiting a decision" in unknown.text


async def test_a_registrar_approves_and_the_entry_is_on_the_public_register(
    registrar_browser: httpx.AsyncClient, settings: Settings
) -> None:
    applicant = await make_user(Role.practitioner, "ada@example.org")
    record = await submitted_application(
        settings.data_dir, applicant, given="Ada", family="Lovelace"
    )
    page = await registrar_browser.get(f"/registrar/applications/{record.id}")
    text = visible_text(page)
    assert "Ada Lovelace" in text
    assert "17 May 1990" in text
    assert "Asthma, well controlled" in text
    assert f'href="/registrar/applications/{record.id}/evidence"' in page.text
    approved = await post_form(
        registrar_browser,
        f"/registrar/applications/{record.id}/approve",
        page=f"/registrar/applications/{record.id}",
    )
    assert approved.status_code == 303
    done = await registrar_browser.get(approved.headers["location"])
    entry = await renewals.practitioner_entry(applicant.id)
    assert entry is not None
    assert f"Application {record.reference}: approved" in visible_text(done)
    assert entry.registration_number in done.text
    search = await registrar_browser.get(f"/register?q={entry.registration_number}")
    assert "Ada Lovelace" in search.text
    # Deciding again (the page offers no decision now, but a form kept open would) is refused,
    # and says why.
    again = await registrar_browser.post(
        f"/registrar/applications/{record.id}/reject",
        data={
            "reason": "Changed my mind",
            "version": str((await records.get(record.id)).version),
            "_csrf_token": registrar_browser.cookies["registry_csrf"],
        },
    )
    assert again.status_code == 409
    assert error_summary(again) == [
        "This application has already been approved, so it cannot be rejected."
    ]
    assert (await records.get(record.id)).status is ApplicationStatus.approved


async def test_a_rejection_needs_a_reason_on_the_page(
    registrar_browser: httpx.AsyncClient, settings: Settings
) -> None:
    record = await submitted_application(settings.data_dir)
    path = f"/registrar/applications/{record.id}"
    empty = await post_form(registrar_browser, f"{path}/reject", {"reason": " "}, page=path)
    assert empty.status_code == 422
    assert error_summary(empty) == ["Enter the reason for rejecting"]
    assert inline_error(empty, "reason") == "Error: Enter the reason for rejecting"
    no_question = await post_form(registrar_browser, f"{path}/request-information", {}, page=path)
    assert error_summary(no_question) == ["Enter what you need the applicant to tell you"]
    assert (await records.get(record.id)).status is ApplicationStatus.submitted
    rejected = await post_form(
        registrar_browser, f"{path}/reject", {"reason": "Not a recognised course"}, page=path
    )
    assert rejected.status_code == 303
    assert (await records.get(record.id)).status is ApplicationStatus.rejected


async def test_a_decision_is_taken_against_the_application_the_registrar_saw(
    registrar_browser: httpx.AsyncClient, settings: Settings
) -> None:
    """Two registrars with the page open: one asks a question, the other then rejects from the
    page they still have. The second is refused; the applicant gets one email, not both."""
    record = await submitted_application(settings.data_dir)
    path = f"/registrar/applications/{record.id}"
    seen = await registrar_browser.get(path)
    version = re.search(r'name="version" value="(\d+)"', seen.text)
    assert version is not None
    token = csrf_field(seen)
    asked = await registrar_browser.post(
        f"{path}/request-information",
        data={"question": "Which module?", "version": version.group(1), "_csrf_token": token},
    )
    assert asked.status_code == 303
    stale = await registrar_browser.post(
        f"{path}/reject",
        data={"reason": "Not recognised", "version": version.group(1), "_csrf_token": token},
    )
    assert stale.status_code == 409
    assert "has changed since you opened it" in error_summary(stale)[0]
    assert (await records.get(record.id)).status is ApplicationStatus.further_information_requested
    sent = [str(row["template"]) for row in await emails()]
    assert "application_rejected" not in sent
    assert sent.count("application_information_requested") == 1


async def test_a_question_goes_to_the_applicant_who_answers_it(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    applicant = await make_user(Role.practitioner, "q@example.org")
    record = await submitted_application(settings.data_dir, applicant)
    registrar = await signed_in(client, await make_user(Role.registrar, "rhea@example.org"))
    path = f"/registrar/applications/{record.id}"
    asked = await post_form(
        registrar, f"{path}/request-information", {"question": "Which module?"}, page=path
    )
    assert asked.status_code == 303
    browser = await signed_in(client, applicant)
    page = await browser.get("/your-application")
    assert "The registrar needs more information" in page.text
    assert "Which module?" in page.text
    empty = await post_form(browser, "/your-application/answer", {}, page="/your-application")
    assert empty.status_code == 422
    assert error_summary(empty) == ["Enter your answer to the registrar's question"]
    answered = await post_form(
        browser,
        "/your-application/answer",
        {"information_response": "Module 4"},
        page="/your-application",
    )
    assert answered.headers["location"] == "/your-application?answered=1"
    assert (await records.get(record.id)).status is ApplicationStatus.under_review
    twice = await browser.post(
        "/your-application/answer",
        data={"information_response": "again", "_csrf_token": browser.cookies["registry_csrf"]},
    )
    assert twice.status_code == 409
    assert (await records.get(record.id)).information_response == "Module 4"


async def test_registrar_pages_for_an_application_that_does_not_exist(
    registrar_browser: httpx.AsyncClient,
) -> None:
    assert (await registrar_browser.get("/registrar/applications/987654")).status_code == 404
    missing = await registrar_browser.post(
        "/registrar/applications/987654/approve",
        data={"_csrf_token": registrar_browser.cookies["registry_csrf"]},
    )
    assert missing.status_code == 404


# --- restoration --------------------------------------------------------------------------


async def test_a_lapsed_practitioner_applies_for_restoration_through_the_pages(
    browser: httpx.AsyncClient, applicant: Any
) -> None:
    entry = await put_on_register(account_id=applicant.id, until=date(2025, 11, 30))
    await service.move_entry(entry.id, EntryMove.lapse, reason="Not renewed")
    await browser.get("/apply")
    refused = await browser.post("/apply", data={"_csrf_token": browser.cookies["registry_csrf"]})
    assert "Apply for restoration instead" in error_summary(refused)[0]
    start = await browser.get("/apply/restoration")
    assert f"Your registration {entry.registration_number} is lapsed" in visible_text(start)
    started = await post_form(browser, "/apply/restoration")
    assert started.headers["location"] == "/apply/address"  # contact is filled from the entry
    for step, fields in (
        ("address", {"address": "9 Quay Street", "postcode": "BS1 4DJ"}),
        ("character", {"character_declaration": "no"}),
        ("health", {"health_declaration": "no"}),
    ):
        assert (await post_form(browser, f"/apply/{step}", fields)).status_code == 303
    assert (await browser.get("/apply/name")).status_code == 404  # not asked again
    check = await browser.get("/apply/check")
    assert "Apply for restoration" in check.text
    assert 'href="/apply/name?change=1"' not in check.text
    assert (await post_form(browser, "/apply/check")).status_code == 303
    record = await records.latest_for(applicant.id)
    assert record is not None
    assert (record.kind, record.status) == (
        ApplicationKind.restoration,
        ApplicationStatus.submitted,
    )


async def test_a_practitioner_removed_less_than_five_years_ago_is_told_when_they_may_apply(
    browser: httpx.AsyncClient, applicant: Any
) -> None:
    with clock.frozen_at(datetime(2025, 1, 15, 10, tzinfo=UTC)):
        entry = await put_on_register(account_id=applicant.id)
        await service.move_entry(entry.id, EntryMove.removal, reason="Removal order")
    page = await browser.get("/apply/restoration")
    assert "cannot apply for restoration until 15 January 2030" in visible_text(page)
    assert "Start now" not in page.text
    refused = await browser.post(
        "/apply/restoration", data={"_csrf_token": browser.cookies["registry_csrf"]}
    )
    assert refused.status_code == 409
    assert await Application.count() == 0


async def test_the_registrar_is_warned_of_a_possible_duplicate(
    registrar_browser: httpx.AsyncClient, settings: Settings
) -> None:
    first = await submitted_application(settings.data_dir)
    second = await submitted_application(settings.data_dir)
    page = await registrar_browser.get(f"/registrar/applications/{second.id}")
    text = visible_text(page)
    assert "This may be someone already known to us" in text
    assert f"Amara Okoye, application {first.reference} (submitted)" in text
    assert f'href="/registrar/applications/{first.id}"' in page.text


async def test_the_registrar_is_warned_of_a_name_mixing_look_alike_alphabets(
    registrar_browser: httpx.AsyncClient, settings: Settings
) -> None:
    mixed = await submitted_application(settings.data_dir, given="\u0405i\u00e2n")  # Cyrillic S
    plain = await submitted_application(settings.data_dir, given="Si\u00e2n")

    page = await registrar_browser.get(f"/registrar/applications/{mixed.id}")
    assert "mixes letters from different alphabets (Cyrillic and Latin)" in visible_text(page)
    page = await registrar_browser.get(f"/registrar/applications/{plain.id}")
    assert "mixes letters" not in visible_text(page)
