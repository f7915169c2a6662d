"""The fitness to practise staff workspace in a real browser: the issue's whole journey. A
concern raised on the public form; a caseworker triages it and opens an investigation (an error
summary on the way); the practitioner responds; the caseworker refers it to the case examiners;
two examiners refer it to a hearing; the caseworker schedules the hearing; an adjudicator finds
fitness to practise impaired and suspends; once the appeal period has passed the suspension is
on the public entry and in the API on the next request. axe-core on every new page, and on a
case whose concern names nobody (its identification form, then its error)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.async_api import Page, expect

from registry.accounts.roles import Role
from registry.conduct import concerns, service, workflow
from registry.conduct.workflow import Move
from registry.config import Settings
from registry.core import clock
from tests.browser.axe import assert_accessible
from tests.browser.conftest import (
    People,
    Person,
    assert_reflows,
    expect_problems,
    expect_success,
    sign_in,
    unique,
)
from tests.conduct.helpers import concern_about
from tests.register.helpers import put_on_register


async def _raise_concern(page: Page, number: str) -> str:
    """The public form, as anyone would use it: the concern's reference."""
    await page.goto("/raise-a-concern")
    await page.get_by_label("Registration number (if you know it)").fill(number)
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_label("Describe what happened").fill(
        "They shared my address with a stranger."
    )
    await page.locator("#categories").check()
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Do you have anything to show us?"
    )
    await page.get_by_role("button", name="Continue").click()  # nothing to attach
    await page.get_by_label("Member of the public").check()
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_role("button", name="Send concern").click()
    reference = page.locator("#concern-reference")
    await expect(reference).to_have_text(re.compile(r"^FTP-"))
    return (await reference.text_content() or "").strip()


async def _as(page: Page, person: Person) -> None:
    await page.context.clear_cookies()
    await sign_in(page, person)


async def _move(page: Page, case_url: str, action: str, fill: dict[str, str] | None = None) -> None:
    """Open the move's form on the case page, fill its fields by label, and make it."""
    await page.goto(case_url)
    details = page.locator("details").filter(has=page.locator("summary", has_text=action))
    await details.locator("summary").click()
    for label, value in (fill or {}).items():
        await details.get_by_label(label, exact=True).fill(value)
    await details.get_by_role("button", name=action).click()
    await expect_success(page, "The case has moved on")


async def test_a_concern_goes_from_the_public_form_to_a_suspension_on_the_register(
    page: Page, people: People, migrated: Settings
) -> None:
    practitioner = await people.create([Role.practitioner])
    with people.bound():
        entry = await put_on_register(
            "Pat", unique("Smith").replace("-", ""), account_id=practitioner.id
        )
    number = entry.registration_number
    caseworker = await people.create([Role.caseworker], two_factor=True)
    # Another caseworker schedules the hearing: each person signs in once, as an authenticator
    # gives one unused code per 30 seconds and the server refuses a code used already.
    scheduler = await people.create([Role.caseworker], two_factor=True)
    examiner = await people.create([Role.case_examiner], two_factor=True)
    second_examiner = await people.create([Role.case_examiner])
    adjudicator = await people.create([Role.adjudicator], two_factor=True)

    reference = await _raise_concern(page, number)

    # the caseworker finds it in the list, triages it and opens an investigation
    await _as(page, caseworker)
    await page.get_by_role("link", name="Fitness to practise cases").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Fitness to practise cases")
    await assert_accessible(page)
    await page.get_by_label("Assigned to").select_option(label="Nobody (unassigned)")
    await page.get_by_role("button", name="Show cases").click()
    await page.get_by_role("link", name=reference).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Case {reference}")
    await assert_accessible(page)
    await assert_reflows(page)
    case_url = page.url
    case_id = int(case_url.rsplit("/", 1)[1])
    await _move(page, case_url, "Start triage")
    await assert_accessible(page)
    opening = page.locator("#open_investigation-details")
    await opening.locator("summary").click()
    await opening.get_by_role("button", name="Open an investigation").click()
    await expect_problems(page, {"open_investigation-reason": "Enter the reason"})
    await assert_accessible(page)
    await _move(
        page,
        case_url,
        "Open an investigation",
        {"Notice of investigation to the practitioner": "Please tell us what happened."},
    )
    await page.get_by_label("Caseworker", exact=True).select_option(label=caseworker.name)
    await page.get_by_role("button", name="Save assignment").click()
    await expect_success(page, "Assignment saved")

    with people.bound():  # the practitioner answers the notice
        await service.respond(practitioner.id, case_id, "I did not share it.", [])
    await _move(page, case_url, "Refer to the case examiners", {"Reason": "Response in."})

    # a concern naming nobody on the register: its page asks who it is about
    with people.bound():
        unnamed = await concerns.raise_concern(
            concern_about("", about_name="P. Smith", about_workplace="Leeds probation office")
        )
    await page.goto(f"/conduct/cases/{unnamed.case_id}")
    await expect(page.get_by_role("heading", name="Who the concern is about")).to_be_visible()
    await assert_accessible(page)
    await page.get_by_label("Registration number", exact=True).fill("XX1")
    await page.get_by_role("button", name="Identify the practitioner").click()
    await expect(page.locator(".govuk-error-summary")).to_contain_text(
        "is not a registration number"
    )
    await assert_accessible(page)

    # two case examiners refer it to a hearing
    await _as(page, examiner)
    await page.goto(case_url)
    await assert_accessible(page)
    referring = page.locator("details").filter(
        has=page.locator("summary", has_text="Refer to a hearing")
    )
    await referring.locator("summary").click()
    await referring.get_by_label("The other case examiner deciding with you").select_option(
        label=second_examiner.name
    )
    await referring.get_by_label("Reason", exact=True).fill("A serious breach.")
    await referring.get_by_role("button", name="Refer to a hearing").click()
    await expect_success(page, "The case has moved on")

    # a caseworker schedules the hearing, today and remote
    await _as(page, scheduler)
    today = datetime.now(UTC).date()
    await page.goto(case_url)
    scheduling = page.locator("#schedule_hearing-details")
    await scheduling.locator("summary").click()
    await scheduling.get_by_label("Day").fill(str(today.day))
    await scheduling.get_by_label("Month").fill(str(today.month))
    await scheduling.get_by_label("Year").fill(str(today.year))
    for n, name in enumerate(("Ann Chair", "Bo Member", "Cy Member"), start=1):
        await scheduling.locator(
            "#schedule_hearing-panel" if n == 1 else f"#schedule_hearing-panel-{n}"
        ).fill(name)
    await scheduling.get_by_label("Held remotely").check()
    await scheduling.get_by_role("button", name="Schedule the hearing").click()
    await expect_success(page, "The case has moved on")

    # the adjudicator: impaired, a suspension of six months after the appeal period
    await _as(page, adjudicator)
    await page.goto(case_url)
    await assert_accessible(page)
    deciding = page.locator("#impaired-details")
    await deciding.locator("summary").click()
    await deciding.get_by_label("Suspension").check()
    await deciding.get_by_label("How many months").fill("6")
    await deciding.get_by_label("Summary of the decision, to publish").fill(
        "Suspended for six months for sharing a client's address."
    )
    await deciding.get_by_label("Reason", exact=True).fill("Impaired.")
    await deciding.get_by_role(
        "button", name="Record the outcome: impaired, with a sanction"
    ).click()
    await expect_success(page, "The case has moved on")
    await expect(page.locator("#case-deadline")).to_contain_text("The end of the appeal period")
    await page.get_by_role("link", name="Case timeliness").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("How quickly cases are handled")
    await expect(page.locator("svg[role=img]").first).to_be_visible()
    await assert_accessible(page)
    await assert_reflows(page)  # the charts shrink with their column
    await page.goto(f"/register/{number}")
    await expect(page.locator("main")).not_to_contain_text("while suspended")

    # The appeal period passes: the scheduled job's own move, made 29 days on.
    with people.bound(), clock.frozen_at(datetime.now(UTC) + timedelta(days=29)):
        case = await workflow.get_case(case_id)
        await workflow.perform(
            case_id, Move.sanction_takes_effect, by=workflow.SYSTEM, version=case.version
        )

    await page.goto(f"/register/{number}")
    await expect(page.locator("main")).to_contain_text(
        "must not practise as a registered probation practitioner while suspended"
    )
    await assert_accessible(page)
    answer = await page.request.get(f"/api/v1/register/{number}")
    assert (await answer.json())["status"] == "suspended"
