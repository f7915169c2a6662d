"""Demo data for ``registry demo``: realistic records and the logins to explore them with.

Each domain contributes a seeder through :func:`demo_seeder`; seeders run in the order they were
registered and each must be safe to run again on a database it has already seeded.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from rich.progress import Progress


@dataclass
class DemoLogin:
    role: str
    email: str
    password: str


@dataclass
class DemoSummary:
    counts: dict[str, int] = field(default_factory=dict)
    logins: list[DemoLogin] = field(default_factory=list)

    def render(self, base_url: str) -> str:
        lines = [f"The register is running at {base_url}/", ""]
        if self.counts:
            lines.append("Demo data:")
            lines += [f"  {count:>7,} {what}" for what, count in self.counts.items()]
            lines.append("")
        if self.logins:
            lines.append("Demo logins:")
            lines += [
                f"  {login.role:<14} {login.email:<34} {login.password}" for login in self.logins
            ]
        return "\n".join(lines)


Seeder = Callable[[DemoSummary, Progress], Awaitable[None]]
_SEEDERS: list[Seeder] = []
# The modules whose seeders run, in this order: later domains build on earlier ones' records.
DEMO_MODULES = (
    "registry.accounts.demo",
    "registry.register.demo",
    "registry.register.demo_applications",
)


def demo_seeder(seeder: Seeder) -> Seeder:
    _SEEDERS.append(seeder)
    return seeder


async def seed_demo_data(progress: Progress) -> DemoSummary:
    for module in DEMO_MODULES:
        importlib.import_module(module)
    summary = DemoSummary()
    with progress:
        for seeder in _SEEDERS:
            await seeder(summary, progress)
    return summary
