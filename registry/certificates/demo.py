"""``registry demo``: a registration certificate for every demo entry on the register."""

from __future__ import annotations

from typing import TYPE_CHECKING

from registry.audit.context import Actor, acting_as
from registry.certificates import service

if TYPE_CHECKING:
    from rich.progress import Progress

    from registry.demo import DemoSummary


async def seed_demo_certificates(summary: DemoSummary, progress: Progress) -> None:
    # Entries made through the register's change point have theirs already; this catches the rest.
    task = progress.add_task("Demo certificates", total=None)
    with acting_as(Actor(id=None, label="system: demo")):
        await service.issue_missing()
    progress.update(task, total=1, completed=1)
    from registry.certificates.tables import Certificate

    summary.counts["certificates"] = await Certificate.count()
