"""The README's two commands exist, and CI runs exactly the test command."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_readme_names_the_two_commands() -> None:
    text = (REPO / "README.md").read_text()
    commands = re.findall(r"^(\./scripts/\S+)", text, flags=re.MULTILINE)
    assert commands[:2] == ["./scripts/demo.sh", "./scripts/test.sh"]
    for command in commands[:2]:
        assert (REPO / command).stat().st_mode & 0o111, f"{command} is not executable"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert "exec scripts/test.sh" in ci


def test_readme_cli_matches_the_parser() -> None:
    from planarmpi.cli.main import _parser

    text = (REPO / "README.md").read_text()
    sub = next(a for a in _parser()._actions if a.dest == "command")
    for name in sub.choices:  # type: ignore[union-attr]
        assert f"planarmpi {name}" in text


def test_readme_presets_are_the_real_ones() -> None:
    from planarmpi.simulate.presets import PRESETS

    text = (REPO / "README.md").read_text()
    for name in PRESETS:
        assert f"`{name}`" in text
