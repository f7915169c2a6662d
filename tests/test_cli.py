"""The ``registry`` command line."""

from __future__ import annotations

from click.testing import CliRunner

from registry.cli import cli


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("migrate", "serve", "demo"):
        assert command in result.output


def test_every_command_has_help() -> None:
    for command in cli.commands:
        result = CliRunner().invoke(cli, [command, "--help"])
        assert result.exit_code == 0, command
        assert "Usage:" in result.output
