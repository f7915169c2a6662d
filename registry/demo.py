"""Demo data for ``registry demo``: realistic records and the logins to explore them with.

Each domain lists its seeders in its manifest; they run in the order of ``DOMAINS`` (later
domains build on earlier ones' records) and each must be safe to run again on a database it has
already seeded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.progress import Progress

from registry.core.domain import active_domains


@dataclass
class DemoLogin:
    role: str
    email: str
    password: str


@dataclass
class DemoSummary:
    counts: dict[str, int] = field(default_factory=dict)
    logins: list[DemoLogin] = field(default_factory=list)

    def render(self, base_url: str, mail_folder: str) -> str:
        lines = [f"The register is running at {base_url}/", ""]
        if self.counts:
            lines.append("Demo data:")
            lines += [f"  {count:>7,} {what}" for what, count in self.counts.items()]
            lines.append("")
        if self.logins:
            width = max(len(login.role) for login in self.logins)
            lines.append("Demo logins (every one has the same password):")
            lines += [
                f"  {login.role:<{width}}  {login.email:<42} {login.password}"
                for login in self.logins
            ]
            lines += ["", *SECOND_FACTOR_NOTE]
        lines += [
            "",
            "The outbox worker and the scheduled jobs run beside the server: every email the",
            f"service sends (invitations, password resets, decisions) is written to {mail_folder}",
        ]
        return "\n".join(lines)


SECOND_FACTOR_NOTE = (
    "Staff (admin, registrar, assessor, caseworker, examiner, adjudicator) must set up an",
    "authenticator app the first time they sign in. The set-up page shows a QR code and, under",
    "it, the key as text: add it to any authenticator app (or `oathtool --totp -b KEY`) and",
    "enter the 6-digit code. Practitioners, applicants and employers sign in with the password.",
)


async def seed_demo_data(progress: Progress) -> DemoSummary:
    summary = DemoSummary()
    with progress:
        for domain in active_domains():
            for seeder in domain.demo_seeders:
                await seeder(summary, progress)
    return summary
