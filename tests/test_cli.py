"""The ``registry`` command line."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar import Litestar

from registry.app import serving_app
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


def test_the_served_app_is_frozen_out_of_the_cycle_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(tmp_path))
    before = gc.get_freeze_count()
    try:
        app = serving_app()
        assert isinstance(app, Litestar)
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
