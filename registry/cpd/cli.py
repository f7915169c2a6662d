"""``registry cpd sample``: draw a registration year's CPD audit sample (or show the one drawn)."""

from __future__ import annotations

from typing import Any

import click

ACTOR_LABEL = "system: registry cpd sample"


@click.group("cpd")
def cpd() -> None:
    """Continuing professional development: the yearly audit sample."""


@cpd.command("sample")
@click.option("--year", type=click.IntRange(1900, 2999), required=True, help="Registration year.")
@click.option("--rate", default="0.025", show_default=True, help="Share of eligible to choose.")
@click.option("--seed", default=None, help="Seed of the draw (recorded); random if not given.")
@click.pass_context
def sample(ctx: click.Context, year: int, rate: str, seed: str | None) -> None:
    """Choose a reproducible random sample of YEAR's renewed practitioners registered for two
    years or more, and tell them. A year is drawn once: running it again shows that draw and
    changes nothing."""
    from registry.audit.context import Actor, acting_as
    from registry.core.commands import run_with_engine, settings_of
    from registry.cpd import sampling
    from registry.errors import RegistryError
    from registry.register.renewals import RenewalCalendar

    settings = settings_of(ctx)
    calendar = RenewalCalendar.from_settings(settings)

    async def work(engine: Any) -> int:
        with acting_as(Actor(id=None, label=ACTOR_LABEL)):
            try:
                drawn = await sampling.draw_sample(
                    year, calendar, rate=sampling.parse_rate(rate), seed=seed, by=ACTOR_LABEL
                )
            except RegistryError as refused:
                click.echo(f"error: {refused.detail}", err=True)
                return 2
        said = "drew" if drawn.new else "already drawn, nothing changed:"
        click.echo(
            f"{said} CPD audit sample {year}: seed {drawn.seed}, rate {drawn.rate}, "
            f"{len(drawn.chosen)} chosen of {len(drawn.eligible)} eligible"
        )
        for entry_id in drawn.chosen:
            click.echo(f"chosen entry {entry_id}")
        return 0

    status = run_with_engine(settings, work)
    if status:
        raise SystemExit(status)
