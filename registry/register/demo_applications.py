"""Demo applications: a few people waiting for the registrar, so the queue has work in it.

Each applicant has their own practitioner login (the demo password). Their applications are
made through the application rules, with a small PDF certificate as evidence, and submitted on
different days so the queue shows different ages. One has a question from the registrar waiting
for an answer, and one has answered it. Applicants already there are left as they are, so
``registry demo`` can be run again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from rich.progress import Progress

from registry.accounts import users as accounts
from registry.accounts.demo import DEMO_PASSWORD
from registry.accounts.roles import Role
from registry.audit.context import Actor, acting_as
from registry.config import load_settings
from registry.core import clock
from registry.demo import DemoLogin, DemoSummary
from registry.register import service
from registry.register.applications import answers, records, workflow
from registry.register.tables import ApplicationKind

DEMO_REGISTRAR_EMAIL = "rhea.registrar@regulator.example"


@dataclass(frozen=True)
class DemoApplicant:
    email: str
    given_names: str
    family_name: str
    born: date
    role: str
    region: str
    qualification: str
    awarded_on: date
    institution: str
    submitted_days_ago: int
    question: str = ""  # asked by the registrar two days after submission
    answer: str = ""  # the applicant's answer, the day after
    health: str = ""  # a health declaration, when there is one


DEMO_APPLICANTS: tuple[DemoApplicant, ...] = (
    DemoApplicant(
        "rhys.pritchard@example.org",
        "Rhys",
        "Pritchard",
        date(1991, 2, 11),
        "probation_officer",
        "wales",
        "dips",
        date(2013, 7, 19),
        "Cardiff University",
        submitted_days_ago=21,
        question="Your Diploma in Probation Studies is from 2013. Please tell us where you "
        "have practised since then, with dates.",
    ),
    DemoApplicant(
        "olu.adeyemi@example.org",
        "Olumide",
        "Adeyemi",
        date(1996, 9, 3),
        "probation_services_officer",
        "london",
        "pqf",
        date(2021, 6, 30),
        "University of Portsmouth",
        submitted_days_ago=14,
    ),
    DemoApplicant(
        "hannah.osei@example.org",
        "Hannah",
        "Osei",
        date(1987, 12, 1),
        "senior_probation_officer",
        "west_midlands",
        "pqip",
        date(2016, 8, 26),
        "University of Birmingham",
        submitted_days_ago=10,
        question="The certificate you uploaded has a different surname. Is it yours?",
        answer="Yes: it is in my maiden name, Mensah. I changed my name when I married in 2019.",
    ),
    DemoApplicant(
        "grace.whitfield@example.org",
        "Grace",
        "Whitfield",
        date(1999, 4, 22),
        "trainee_probation_officer",
        "north_east",
        "pqip",
        date(2025, 7, 4),
        "Teesside University",
        submitted_days_ago=3,
        health="Type 1 diabetes, managed with an insulin pump. It does not affect my work.",
    ),
)


def demo_certificate(name: str, qualification: str) -> bytes:
    """A one-page PDF certificate: small, but a real PDF any viewer opens."""
    text = f"Certificate: {qualification} awarded to {name}".replace("(", "[").replace(")", "]")
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


async def _apply(person: DemoApplicant, registrar_id: int | None) -> None:
    settings = load_settings()
    # Reference data an admin has retired since is swapped for the first still in use.
    reference = await service.reference_data()
    role = person.role if person.role in reference.roles else next(iter(reference.roles))
    region = person.region if person.region in reference.regions else next(iter(reference.regions))
    kind = (
        person.qualification
        if person.qualification in reference.qualifications
        else next(iter(reference.qualifications))
    )
    qualification = reference.qualifications[kind].name
    now = clock.now()
    account = await accounts.create_user(
        person.email,
        f"{person.given_names} {person.family_name}",
        [Role.practitioner],
        DEMO_PASSWORD,
    )
    submitted = now - timedelta(days=person.submitted_days_ago, hours=3)
    with clock.frozen_at(submitted - timedelta(minutes=25)):
        draft = await workflow.start(account.id, ApplicationKind.initial)
        sections: list[answers.Section] = [
            answers.Name(person.given_names, person.family_name),
            answers.DateOfBirth(person.born),
            answers.Contact(person.email, "07700 900" + str(100 + len(person.email))),
            answers.Address(f"{10 + len(person.family_name)} High Street", "SW1A 1AA"),
            answers.RoleAnswer(role),
            answers.RegionAnswer(region),
            answers.Qualification(kind, person.awarded_on, person.institution),
            answers.Declaration("character", False),
            answers.Declaration("health", bool(person.health), person.health),
        ]
        for section in sections:
            await records.save(draft.id, account.id, section)
        await records.attach_evidence(
            draft.id,
            account.id,
            f"{person.family_name.lower()}-certificate.pdf",
            demo_certificate(f"{person.given_names} {person.family_name}", qualification),
            settings.data_dir,
        )
    with clock.frozen_at(submitted):
        await workflow.submit(draft.id, account.id)
    if person.question and registrar_id is not None:
        with clock.frozen_at(submitted + timedelta(days=2)):
            await workflow.request_information(
                draft.id, registrar_id=registrar_id, question=person.question
            )
        if person.answer:
            with clock.frozen_at(submitted + timedelta(days=3)):
                await workflow.respond(draft.id, account.id, person.answer)


async def seed_demo_applications(summary: DemoSummary, progress: Progress) -> None:
    task = progress.add_task("Demo applications", total=len(DEMO_APPLICANTS))
    registrar = await accounts.find_account_by_email(DEMO_REGISTRAR_EMAIL)
    with acting_as(Actor(id=None, label="system: demo")):
        for person in DEMO_APPLICANTS:
            if await accounts.find_account_by_email(person.email) is None:
                await _apply(person, registrar.id if registrar else None)
            progress.advance(task)
    waiting = await records.queue("all")
    summary.counts["applications"] = waiting.total
    summary.counts["users"] = summary.counts.get("users", 0) + len(DEMO_APPLICANTS)
    for person in DEMO_APPLICANTS:
        state = "asked a question" if person.question and not person.answer else "applied"
        summary.logins.append(DemoLogin(f"applicant ({state})", person.email, DEMO_PASSWORD))
