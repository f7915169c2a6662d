"""CPD in a real browser: log activities with evidence, see progress, axe-core on every page."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from playwright.async_api import Browser, Page, expect

from registry.accounts.roles import Role
from registry.config import Settings
from registry.core import clock
from registry.cpd import activities as cpd_activities
from registry.cpd import audit_workflow, sampling
from registry.cpd.audit_workflow import Move, Profile
from registry.cpd.schemas import ActivityIn
from registry.cpd.tables import AuditCase, Standard
from registry.notifications.tables import OutboxMessage
from registry.register import renewals, service
from registry.register.renewals import Declarations, RenewalCalendar
from registry.register.tables import RegisterEntry
from tests.browser.axe import assert_accessible
from tests.browser.conftest import (
    People,
    Person,
    assert_reflows,
    expect_problems,
    expect_success,
    sign_in,
    summary_value,
)
from tests.support import exempt_from_cpd

PDF = b"%PDF-1.4\n% a certificate of attendance\n"
CALENDAR = RenewalCalendar()


async def _log(page: Page, title: str, hours: str, area: str, *, first: bool = False) -> None:
    today = datetime.now(UTC).date()
    await page.get_by_role("button", name="Log an activity").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Log a CPD activity")
    if first:
        await assert_accessible(page)
        await page.get_by_role("button", name="Save activity").click()
        await expect_problems(
            page,
            {
                "title": "Enter the title of the activity",
                "done_on": "Enter the date of the activity",
                "hours": "Enter how many hours the activity took, like 1.5",
                "activity_type": "Select the type of activity",
                "participatory": "Select yes if you learned with others",
                "practice_areas": "Select at least one practice area",
            },
            date_fields=["done_on"],
        )
        await assert_accessible(page)
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Day").fill(str(today.day))
    await page.get_by_label("Month").fill(str(today.month))
    await page.get_by_label("Year").fill(str(today.year))
    await page.get_by_label("Hours", exact=True).fill(hours)
    await page.get_by_label("Formal course").check()
    await page.locator("#participatory").check()
    await page.get_by_label(area).check()
    await page.get_by_label("What happened").fill("A day's course with colleagues.")
    await page.get_by_label("What you learned").fill("A structured way to weigh risk.")
    await page.get_by_label("How your practice changed").fill("My risk reviews are clearer.")
    await page.locator("#peer_reflection").check()  # yes: the role is revealed
    await page.get_by_label("The role of the peer you reflected with").fill("Practice tutor")
    await page.get_by_role("button", name="Save activity").click()
    await expect_success(page, "Activity logged. You can add evidence below.")
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    await expect(summary_value(page, "Hours")).to_have_text(hours)
    await page.get_by_label("Add an evidence file").set_input_files(
        {"name": f"{title}.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    await page.get_by_role("button", name="Upload file").click()
    await expect_success(page, "Evidence file added")
    await expect(page.get_by_role("link", name=f"{title}.pdf")).to_be_visible()
    if first:
        await assert_accessible(page)
        await assert_reflows(page)
    await page.get_by_role("link", name="Your CPD").first.click()


async def _from_navigation(page: Page, link: str, heading: str) -> None:
    """Follow a link of the service navigation to a page headed ``heading``; axe-core on it."""
    await (
        page.locator(".govuk-service-navigation").get_by_role("link", name=link, exact=True).click()
    )
    await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    await assert_accessible(page)


async def _renew(page: Page) -> None:
    """Renew from the practitioner's registration page, declaring nothing."""
    await (
        page.locator(".govuk-service-navigation")
        .get_by_role("link", name="Your registration")
        .click()
    )
    await page.get_by_role("link", name="Renew your registration").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Renew your registration")
    radios = page.locator(".govuk-radios")
    await radios.nth(0).get_by_label("No", exact=True).check()
    await radios.nth(1).get_by_label("No", exact=True).check()
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_role("button", name="Renew my registration").click()
    await expect(page.locator(".govuk-panel__title")).to_have_text("Registration renewed")
    await assert_accessible(page)


async def test_a_practitioner_logs_three_activities_with_evidence_and_sees_progress(
    page: Page, people: People
) -> None:
    family = "Cpd" + "".join(chr(ord("a") + int(d, 16)) for d in uuid.uuid4().hex[:6])
    person = await people.create([Role.practitioner], name=f"Ola {family}")
    with people.bound():
        await service.create_entry(
            service.EntryIn(
                person=service.PersonIn("Ola", family, date(1982, 6, 9), email=person.email),
                role_codes=["probation_officer"],
                region_code="wales",
                registered_since=date(2016, 1, 4),
                registered_until=date(2027, 11, 30),
                account_id=person.id,
            ),
            reason="Browser test",
        )

    await sign_in(page, person)
    await page.locator(".govuk-service-navigation").get_by_role("link", name="Your CPD").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your CPD")
    await expect(summary_value(page, "Total hours")).to_contain_text("0 / 30 hours")
    await assert_accessible(page)
    await assert_reflows(page)

    await _log(page, "Risk course", "6.5", "Risk assessment and management", first=True)
    await _log(page, "Ethics workshop", "3", "Professional ethics")
    await _log(page, "Victims seminar", "2.25", "Victims and restorative justice")

    await expect(page.get_by_role("heading", level=1)).to_have_text("Your CPD")
    await expect(summary_value(page, "Total hours")).to_contain_text("11.75 / 30 hours")
    await expect(summary_value(page, "Total hours")).to_contain_text("18.25 more hours")
    await expect(summary_value(page, "Practice areas covered")).to_contain_text("3 / 3 areas")
    await expect(summary_value(page, "Practice areas covered")).to_contain_text("Met")
    await expect(summary_value(page, "Reflective accounts")).to_contain_text("3 / 2 accounts")
    progress_bar = page.get_by_role("progressbar", name=re.compile("^Total hours"))
    await expect(progress_bar).to_have_attribute("value", "39")
    await expect(page.locator(".govuk-table tbody tr")).to_have_count(3)
    await assert_accessible(page)
    await assert_reflows(page)


async def test_renewing_is_refused_until_the_year_is_met_then_allowed(
    page: Page, people: People
) -> None:
    family = "Renew" + "".join(chr(ord("a") + int(d, 16)) for d in uuid.uuid4().hex[:6])
    person = await people.create([Role.practitioner], name=f"Kim {family}")
    # Registered until ten days from now: inside the renewal window, whatever today is.
    until = datetime.now(UTC).date() + timedelta(days=10)
    with people.bound():
        await service.create_entry(
            service.EntryIn(
                person=service.PersonIn("Kim", family, date(1985, 2, 3), email=person.email),
                role_codes=["probation_officer"],
                region_code="london",
                registered_since=date(2016, 1, 4),
                registered_until=until,
                account_id=person.id,
            ),
            reason="Browser test",
        )

    await sign_in(page, person)
    nav = page.locator(".govuk-service-navigation")
    await nav.get_by_role("link", name="Your registration").click()
    await expect(page.get_by_text("Total hours: 0 / 30 hours, 30 more hours")).to_be_visible()
    await page.goto(page.url.rstrip("/") + "/renew")
    await expect(page.get_by_role("heading", level=1)).to_have_text("You cannot renew yet")
    missing = page.locator("#renewal-missing li")
    await expect(missing).to_have_count(5)
    await expect(missing.first).to_have_text("Total hours: 0 / 30 hours, 30 more hours")
    await assert_accessible(page)
    await assert_reflows(page)
    await page.get_by_role("link", name="see your CPD progress").click()

    await _log(page, "Risk course", "10", "Risk assessment and management")
    await _log(page, "Ethics workshop", "10", "Professional ethics")
    await _log(page, "Victims seminar", "10", "Victims and restorative justice")
    await expect(page.get_by_text("Requirement met")).to_be_visible()

    await _renew(page)


# --- exemptions: asked by the practitioner, granted by a registrar, targets pro rata ---------


@contextlib.asynccontextmanager
async def _window(browser: Browser, live_server: str, person: Person) -> AsyncIterator[Page]:
    """A second person's browser, signed in, beside the first."""
    context = await browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    try:
        opened = await context.new_page()
        await sign_in(opened, person)
        yield opened
    finally:
        await context.close()


def _family(prefix: str) -> str:
    return prefix + "".join(chr(ord("a") + int(d, 16)) for d in uuid.uuid4().hex[:6])


async def test_an_exemption_granted_shrinks_the_targets_and_renewal_goes_through(
    page: Page, people: People, browser: Browser, live_server: str
) -> None:
    family = _family("Exempt")
    person = await people.create([Role.practitioner], name=f"Noor {family}")
    registrar = await people.create([Role.registrar], two_factor=True)
    today = datetime.now(UTC).date()
    with people.bound():
        await service.create_entry(
            service.EntryIn(
                person=service.PersonIn("Noor", family, date(1987, 4, 5), email=person.email),
                role_codes=["probation_officer"],
                region_code="london",
                registered_since=date(2016, 1, 4),
                registered_until=today + timedelta(days=10),
                account_id=person.id,
            ),
            reason="Browser test",
        )
    first, _ = cpd_activities.year_bounds(
        cpd_activities.registration_year(today, CALENDAR), CALENDAR
    )
    last = first + timedelta(days=181)  # 182 days: half the year, a little under

    await sign_in(page, person)
    await page.goto("/cpd")
    await page.get_by_role("link", name="Exemptions from CPD").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Exemptions from CPD")
    await assert_accessible(page)
    await page.get_by_role("button", name="Ask for an exemption").click()
    await assert_accessible(page)
    await page.get_by_role("button", name="Send to a registrar").click()
    await expect_problems(
        page,
        {
            "kind": "Select why you need an exemption",
            "starts_on": "Enter the first day of the exemption",
            "ends_on": "Enter the last day of the exemption",
        },
        date_fields=["starts_on", "ends_on"],
    )
    await assert_accessible(page)
    await page.get_by_label("Parental leave").check()
    for name, day in (("starts_on", first), ("ends_on", last)):
        group = page.locator(f"#{name}")
        await group.get_by_label("Day").fill(str(day.day))
        await group.get_by_label("Month").fill(str(day.month))
        await group.get_by_label("Year").fill(str(day.year))
    await page.get_by_role("button", name="Send to a registrar").click()
    await expect_success(page, "Your request has been sent to a registrar")
    await expect(page.get_by_text("Waiting for a registrar")).to_be_visible()
    await assert_accessible(page)

    async with _window(browser, live_server, registrar) as staff:
        await _from_navigation(staff, "CPD exemptions", "CPD exemptions")
        await staff.get_by_role("link", name=re.compile(f"Noor {family}")).click()
        await expect(staff.get_by_role("heading", level=1)).to_have_text(
            f"Exemption for Noor {family}"
        )
        await expect(summary_value(staff, "Days")).to_have_text("182")
        await assert_accessible(staff)
        await staff.get_by_role("button", name="Grant exemption").click()
        await expect_success(staff, "Exemption granted")
        await assert_accessible(staff)

    await page.goto("/cpd")
    await expect(
        page.get_by_text(re.compile(r"A registrar exempted 182 of the year's"))
    ).to_be_visible()
    total = summary_value(page, "Total hours")
    await expect(total).not_to_contain_text("/ 30 hours")
    await expect(total).to_contain_text(re.compile(r"0 / 1[45](\.\d+)? hours"))
    await expect(summary_value(page, "Practice areas covered")).to_contain_text("0 / 2 areas")
    await assert_accessible(page)

    # Sixteen hours in two areas: short of the whole year's 30 hours and 3 areas, enough now.
    await _log(page, "Risk course", "8", "Risk assessment and management")
    await _log(page, "Ethics workshop", "8", "Professional ethics")
    await expect(page.get_by_text("Requirement met")).to_be_visible()
    await _renew(page)


# --- the audit: a sample drawn, a profile submitted, assessed, moderated; a registrar ---------


async def _chosen(people: People, settings: Settings, given: str, year: int) -> tuple[Person, int]:
    """A practitioner who renewed for ``year`` (registered since 2016), with an activity of that
    year and its evidence, and ``year``'s sample drawn (everyone eligible chosen): their case."""
    family = _family(given)
    person = await people.create([Role.practitioner], name=f"{given} {family}")
    deadline = CALENDAR.deadline_in(year)
    with people.bound():
        entry = await service.create_entry(
            service.EntryIn(
                person=service.PersonIn(given, family, date(1980, 1, 2), email=person.email),
                role_codes=["probation_officer"],
                region_code="wales",
                registered_since=date(2016, 1, 4),
                registered_until=deadline,
                account_id=person.id,
            ),
            reason="Browser test",
        )
        await exempt_from_cpd(entry.id)
        with clock.frozen_at(datetime.combine(deadline - timedelta(days=60), time(9), UTC)):
            await renewals.renew(
                entry.id, Declarations(character=False), calendar=CALENDAR, by_user_id=person.id
            )
        # Still registered today, whenever the test runs.
        await RegisterEntry.update(
            {RegisterEntry.registered_until: CALENDAR.deadline_in(year + 2)}
        ).where(RegisterEntry.id == entry.id)
        logged = await cpd_activities.record(
            person.id,
            ActivityIn.model_validate(
                {
                    "title": f"Court skills {year}",
                    "done_on": deadline - timedelta(days=100),
                    "hours": "6",
                    "activity_type": "formal_course",
                    "participatory": True,
                    "practice_areas": ["risk_assessment"],
                    "change_reason": "Logged for the audit",
                }
            ),
            CALENDAR,
        )
        await cpd_activities.attach_evidence(
            person.id,
            logged.id,
            "attendance.pdf",
            PDF,
            settings.data_dir,
            CALENDAR,
            reason="For the audit",
        )
        await sampling.draw_sample(year, CALENDAR, rate=Decimal(1), seed=f"browser-{year}")
        case = await AuditCase.select(AuditCase.id).where(AuditCase.entry == entry.id).first()
    assert case is not None, "the sample did not choose the practitioner"
    return person, int(case["id"])


async def test_the_audit_from_the_sample_to_a_moderated_decision(
    page: Page, people: People, browser: Browser, live_server: str, migrated: Settings
) -> None:
    year = sampling.last_closed_year(datetime.now(UTC).date(), CALENDAR)
    person, case_id = await _chosen(people, migrated, "Audra", year)
    first = await people.create([Role.cpd_assessor], two_factor=True)
    second = await people.create([Role.cpd_assessor], two_factor=True)

    await sign_in(page, person)
    await page.goto("/cpd")
    await expect(
        page.get_by_text(f"Your CPD for {year} has been chosen for audit.")
    ).to_be_visible()
    await assert_accessible(page)
    await page.get_by_role("link", name="Go to your CPD audit").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your CPD audit")
    await expect(page.get_by_text("What to submit")).to_be_visible()
    await assert_accessible(page)
    await assert_reflows(page)
    await page.get_by_role("button", name="Start your profile").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your CPD profile")
    await assert_accessible(page)
    await page.get_by_role("button", name="Continue").click()
    await expect_problems(page, {"summary_of_practice": "Enter a summary of your practice"})
    await assert_accessible(page)
    await page.get_by_label("Summary of your practice").fill("Court reports and supervision.")
    await page.get_by_label(f"Court skills {year}").check()
    statements = page.locator("textarea[name^='statement_']")
    for index in range(await statements.count()):
        await statements.nth(index).fill(f"Shown by the court skills course ({index + 1}).")
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your CPD profile before you submit it"
    )
    await expect(summary_value(page, "Summary of practice")).to_have_text(
        "Court reports and supervision."
    )
    await assert_accessible(page)
    await page.get_by_role("button", name="Submit profile").click()
    await expect_success(page, "Your CPD profile has been submitted")
    await assert_accessible(page)
    await page.goto(f"/cpd/audit/{case_id}/profile")  # a second go is refused, plainly
    await expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Your CPD profile has already been submitted"
    )
    await assert_accessible(page)

    async with _window(browser, live_server, first) as assessor:
        await _from_navigation(assessor, "CPD audit", "CPD audit profiles")
        await assessor.get_by_label("Status").select_option("submitted")
        await assessor.get_by_role("button", name="Show profiles").click()
        await assert_accessible(assessor)
        await assert_reflows(assessor)
        await assessor.get_by_role("link", name=re.compile(person.name)).click()
        await expect(assessor.get_by_role("heading", level=1)).to_have_text(
            f"CPD audit of {person.name}"
        )
        await expect(assessor.get_by_role("link", name="attendance.pdf")).to_be_visible()
        await assert_accessible(assessor)
        await assessor.get_by_role("button", name="Record decision").click()
        await expect_problems(
            assessor, {"outcome": "Select whether the profile meets the standards"}
        )
        await assessor.get_by_label("More information needed").check()
        await assessor.get_by_label("Reasons").fill("Which court skills did the course cover?")
        await assessor.get_by_role("button", name="Record decision").click()
        await expect_success(assessor, "Decision recorded")
        await assert_accessible(assessor)

        await page.goto(f"/cpd/audit/{case_id}")
        await expect(page.locator(".govuk-inset-text")).to_have_text(
            "Which court skills did the course cover?"
        )
        await assert_accessible(page)
        await page.get_by_label("Your answer").fill("Report writing and giving evidence.")
        await page.get_by_role("button", name="Send your answer").click()
        await expect_success(page, "Your information has been sent to the assessor")

        await assessor.reload()
        await assessor.get_by_label("Meets the standards").check()
        await assessor.get_by_label("Reasons").fill("Each standard is met and evidenced.")
        await assessor.get_by_role("button", name="Record decision").click()
        await expect_success(assessor, "Decision recorded")
        with people.bound():  # the case is in the moderated sample (a quarter, by its seed)
            await AuditCase.update({AuditCase.for_moderation: True}).where(AuditCase.id == case_id)
        await assessor.reload()
        await assessor.get_by_label("Yes").check()
        await assessor.get_by_label("Moderation notes").fill("My own decision")
        await assessor.get_by_role("button", name="Record moderation").click()
        await expect(assessor.locator(".govuk-error-summary")).to_contain_text(
            "You made this decision, so a second assessor must moderate it"
        )
        await assert_accessible(assessor)

    async with _window(browser, live_server, second) as moderator:
        await _from_navigation(moderator, "CPD moderation", "CPD decisions to moderate")
        await moderator.get_by_role("link", name=re.compile(person.name)).click()
        await moderator.get_by_label("Yes").check()
        await moderator.get_by_label("Moderation notes").fill("Agreed: a well evidenced profile.")
        await moderator.get_by_role("button", name="Record moderation").click()
        await expect_success(moderator, "Moderation recorded")
        await expect(summary_value(moderator, "Moderation")).to_have_text(
            "A second assessor agreed"
        )
        await assert_accessible(moderator)

    await page.goto(f"/cpd/audit/{case_id}")
    await expect(
        page.get_by_text("meets the standards. No further action is needed")
    ).to_be_visible()
    await assert_accessible(page)


async def test_a_profile_not_meeting_the_standards_is_decided_by_a_registrar(
    page: Page, people: People, migrated: Settings
) -> None:
    year = sampling.last_closed_year(datetime.now(UTC).date(), CALENDAR) - 1
    person, case_id = await _chosen(people, migrated, "Nomet", year)
    assessor = await people.create([Role.cpd_assessor])
    registrar = await people.create([Role.registrar], two_factor=True)
    with people.bound():
        codes = [row["code"] for row in await Standard.select(Standard.code)]
        case = await audit_workflow.get_case(case_id)
        chosen = await cpd_activities.list_for(person.id, CALENDAR, year=year)
        await audit_workflow.perform(
            case.id,
            Move.submit,
            by_user_id=person.id,
            profile=Profile("Court work.", [chosen[0].id], dict.fromkeys(codes, "Little.")),
        )
        await audit_workflow.perform(
            case.id, Move.does_not_meet, by_user_id=assessor.id, reason="No reflection at all."
        )

    await sign_in(page, registrar)
    await _from_navigation(page, "CPD audit cases", "CPD audit cases for a registrar")
    await page.get_by_role("link", name=re.compile(person.name)).click()
    await expect(summary_value(page, "Status")).to_have_text("Does not meet the standards")
    await assert_accessible(page)
    await page.get_by_label("Give more time").check()
    await page.get_by_label("Reasons", exact=True).fill("Time to write reflections.")
    await page.get_by_role("button", name="Record decision").click()
    await expect_problems(
        page, {"new_due_on": "Give a new date in the future"}, date_fields=["new_due_on"]
    )
    await assert_accessible(page)
    await page.get_by_label("Give advice").check()
    await page.get_by_label("Reasons", exact=True).fill("Reflect on each activity next year.")
    await page.get_by_role("button", name="Record decision").click()
    await expect_success(page, "Decision recorded and the practitioner emailed")
    await expect(summary_value(page, "Status")).to_have_text("Advice given")
    await assert_accessible(page)
    with people.bound():
        emails = await OutboxMessage.select(OutboxMessage.subject).where(
            (OutboxMessage.template == "cpd_audit_decision")
            & (OutboxMessage.recipient == person.email)
        )
    assert [each["subject"] for each in emails] == ["Advice about your CPD"]
