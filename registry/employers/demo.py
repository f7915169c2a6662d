"""Demo employers: the demo employer administers an approved organisation, and a second
organisation's request waits for the demo registrar. Only made once, so ``registry demo`` can be
run again."""

from __future__ import annotations

from rich.progress import Progress

from registry.accounts import users
from registry.audit.context import Actor, acting_as
from registry.core import clock
from registry.db import transaction
from registry.demo import DemoSummary
from registry.employers import organisations
from registry.employers.tables import Member, Organisation, OrganisationStatus

DEMO_EMPLOYER_EMAIL = "evan.employer@probation-employer.example"
DEMO_ORGANISATION = "Cymru Probation Partnership"
DEMO_REQUEST = "Northern Community Justice Trust"


async def seed_demo_employers(summary: DemoSummary, progress: Progress) -> None:
    task = progress.add_task("Demo employers", total=2)
    with acting_as(Actor(id=None, label="system: demo")):
        employer = await users.find_account_by_email(DEMO_EMPLOYER_EMAIL)
        if employer is not None and not await Member.exists().where(Member.user == employer.id):
            moment = clock.now()
            async with transaction():
                organisation = Organisation(
                    name=DEMO_ORGANISATION,
                    status=OrganisationStatus.approved.value,
                    contact_name=employer.display_name,
                    contact_email=employer.email,
                    created_at=moment,
                    decided_at=moment,
                    decision_reason="Demo organisation",
                )
                await organisation.save()
                await Member.insert(
                    Member(
                        organisation=organisation.id,
                        user=employer.id,
                        is_admin=True,
                        added_at=moment,
                    )
                )
        progress.advance(task)
        if not await Organisation.exists().where(Organisation.name == DEMO_REQUEST):
            await organisations.request_organisation(
                organisations.check_contact(
                    DEMO_REQUEST,
                    "Nadia Hussain",
                    "nadia.hussain@northern-justice.example",
                    "A community justice trust employing 60 probation officers in the north east.",
                ),
                "demo",
            )
        progress.advance(task)
    summary.counts["employer organisations"] = await Organisation.count()
