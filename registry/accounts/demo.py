"""Demo logins: one person for each role, so every part of the service can be explored.

Staff are asked to set up their authenticator app the first time they sign in, as they would be
for real; the QR code on that page works with any TOTP app.
"""

from __future__ import annotations

from rich.progress import Progress

from registry.accounts import users
from registry.accounts.roles import Role
from registry.audit.context import Actor, acting_as
from registry.demo import DemoLogin, DemoSummary

DEMO_PASSWORD = "Probation-demo-2026"  # noqa: S105 - printed for the demo on purpose
DEMO_PEOPLE: tuple[tuple[Role, str, str], ...] = (
    (Role.admin, "ada.admin@regulator.example", "Ada Okafor"),
    (Role.registrar, "rhea.registrar@regulator.example", "Rhea Patel"),
    (Role.cpd_assessor, "colin.assessor@regulator.example", "Colin Hughes"),
    (Role.caseworker, "cara.caseworker@regulator.example", "Cara Lewis"),
    (Role.case_examiner, "ed.examiner@regulator.example", "Edmund Shaw"),
    # Case examiners decide in twos: a second one, so the demo's decisions can be joint.
    (Role.case_examiner, "noor.examiner@regulator.example", "Noor Patel"),
    (Role.adjudicator, "aisha.adjudicator@regulator.example", "Aisha Rahman"),
    (Role.practitioner, "priya.practitioner@example.org", "Priya Sharma"),
    (Role.employer, "evan.employer@probation-employer.example", "Evan Morgan"),
)


async def seed_demo_users(summary: DemoSummary, progress: Progress) -> None:
    task = progress.add_task("Demo users", total=len(DEMO_PEOPLE))
    created = 0
    with acting_as(Actor(id=None, label="system: demo")):
        for role, email, name in DEMO_PEOPLE:
            if await users.find_account_by_email(email) is None:
                await users.create_user(email, name, [role], DEMO_PASSWORD)
                created += 1
            summary.logins.append(DemoLogin(role.value, email, DEMO_PASSWORD))
            progress.advance(task)
    summary.counts["users"] = len(DEMO_PEOPLE)
