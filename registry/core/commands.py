"""What every domain's commands share: the settings, the engine, the progress bar.

The ``registry`` command (``registry.cli``) collects each domain's commands from its manifest;
the commands reach the settings and the list of domains through the click context, so no
domain imports the command that collects it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from registry.config import Settings, load_settings

if TYPE_CHECKING:
    from registry.core.domain import Domain

T = TypeVar("T")

console = Console(stderr=True)


@dataclass
class CommandContext:
    """``ctx.obj`` of the ``registry`` command: its domains, and the settings once read."""

    domains: Sequence[Domain]
    settings: Settings | None = None


def progress_bar() -> Progress:
    """The one progress bar style every long-running command uses."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _context(ctx: click.Context) -> CommandContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, CommandContext):
        raise click.UsageError("run this command through the registry command")
    return obj


def settings_of(ctx: click.Context) -> Settings:
    """The settings, read from the environment the first time a command needs them (so that
    ``--help`` always works)."""
    context = _context(ctx)
    if context.settings is None:
        context.settings = load_settings()
        from registry.core.domain import configure_domains

        configure_domains(context.settings, context.domains)
    return context.settings


def domains_of(ctx: click.Context) -> Sequence[Domain]:
    return _context(ctx).domains


def run_with_engine(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """Open the configured engine, bind the tables to it, run ``work(engine)`` and close it."""
    from registry.db import bind_engine, create_engine
    from registry.web.observability import configure_logging

    # Log lines go to stderr, structured like the server's; stdout is the command's own answer.
    configure_logging(settings.log_format)

    async def runner() -> T:
        engine = create_engine(settings)
        bind_engine(engine)
        await engine.start()
        try:
            return await work(engine)
        finally:
            await engine.stop()

    return asyncio.run(runner())
