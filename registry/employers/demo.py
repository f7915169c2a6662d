"""Demo employers: the demo employer administers an approved organisation that watches a few
numbers (one entry of each status the demo register holds, and the demo practitioner's), and a
second organisation's request waits for the demo registrar. Only made once, so ``registry
demo`` can be run again.

No webhook endpoint is made: nothing would be listening at it, so every change to a watched entry
would queue deliveries that fail until they land, given up, in staff's outbox. A newcomer adds
their own receiver on the watchlist page (plain http on loopback is allowed in development)."""

from __future__ import annotations

from rich.progress import Progress

from registry.accounts import users
from registry.audit.context import Actor, acting_as
from registry.core import clock
from registry.db import transaction
from registry.demo import DemoSummary
from registry.employers import organisations, watchlists
from registry.employers.tables import Member, Organisation, OrganisationStatus, Watch
from registry.register.demo import DEMO_PRACTITIONER_EMAIL
from registry.register.tables import RegisterEntry

DEMO_EMPLOYER_EMAIL = "evan.employer@probation-employer.example"
DEMO_ORGANISATION = "Cymru Probation Partnership"
DEMO_REQUEST = "Northern Community Justice Trust"


async def seed_demo_employers(summary: DemoSummary, progress: Progress) -> None:
    task = progress.add_task("Demo employers", total=3)
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
        await _watch_some_numbers()
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


async def _watch_some_numbers() -> None:
    """The demo organisation's watchlist, if it has none yet: the first entry of each status
    (so a change to any of them shows in its delivery log and digest) and the demo
    practitioner's (so their subject access export names the organisation watching them)."""
    organisation = (
        await Organisation.select(Organisation.id)
        .where(Organisation.name == DEMO_ORGANISATION)
        .first()
    )
    if organisation is None or await Watch.exists().where(Watch.organisation == organisation["id"]):
        return
    first_of_status: dict[str, str] = {}
    for row in await RegisterEntry.select(
        RegisterEntry.registration_number, RegisterEntry.status
    ).order_by(RegisterEntry.id):
        first_of_status.setdefault(row["status"], row["registration_number"])
    practitioner = (
        await RegisterEntry.select(RegisterEntry.registration_number)
        .where(RegisterEntry.practitioner.email == DEMO_PRACTITIONER_EMAIL)
        .first()
    )
    wanted = sorted(first_of_status.values())
    if practitioner is not None and practitioner["registration_number"] not in wanted:
        wanted.append(practitioner["registration_number"])
    if wanted:
        await watchlists.replace(organisation["id"], wanted)
