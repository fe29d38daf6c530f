"""Shared fixtures: sample files, temporary output, hermetic plotting."""

from __future__ import annotations

from pathlib import Path

import pytest

from testenv import SAMPLES


@pytest.fixture(autouse=True)
def _hermetic(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path_factory.mktemp("mpl")))


@pytest.fixture(scope="session")
def samples() -> Path:
    """The folder of real vendor NM files (outside the repository: ``../shared/samples``,
    or ``$PLANARMPI_SAMPLES``)."""
    if not SAMPLES.is_dir():
        # The samples live beside the repository, not in it (their licences differ); a
        # checkout without them skips these tests loudly rather than failing CI.
        pytest.skip(f"sample folder {SAMPLES} not present (set PLANARMPI_SAMPLES)")
    return SAMPLES
