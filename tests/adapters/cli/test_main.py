"""The ``brokerwire`` console script."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from brokerwire.adapters.cli import main
from tests.adapters.cli.helpers import run_cli


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"brokerwire {version('brokerwire')}"


def test_help_without_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "usage: brokerwire" in capsys.readouterr().out


def test_unknown_option_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--no-such-option"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "brokerwire"
    assert script.exists(), "the brokerwire console script is not installed beside this Python"
    result = subprocess.run(  # noqa: S603 - the project's own installed script
        [str(script), "--version"], capture_output=True, text=True, check=True, timeout=30
    )
    assert result.stdout.startswith("brokerwire ")


@pytest.mark.parametrize(
    "command",
    [
        ["stream"],
        ["stream", "tradovate"],
        ["stream", "ctrader"],
        ["decode"],
        ["simulate"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: brokerwire {' '.join(command)}")
    assert "--log-level" in result.stdout


def test_log_level_before_or_after_the_command() -> None:
    for args in (
        ["--log-level", "info", "stream", "ctrader", "--count", "1"],
        ["stream", "ctrader", "--count", "1", "--log-level", "info"],
    ):
        result = run_cli(*args)
        assert result.returncode == 0, result.stderr
        assert "INFO brokerwire.client: ready on ws://127.0.0.1:" in result.stderr
    quiet = run_cli("stream", "ctrader", "--count", "1")
    assert quiet.stderr == ""
