"""Shared fixtures: sample files, temporary output, hermetic plotting."""

from __future__ import annotations

from pathlib import Path

import pytest

from testenv import IN_CI, SAMPLES


@pytest.fixture(autouse=True)
def _hermetic(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path_factory.mktemp("mpl")))


@pytest.fixture(scope="session")
def samples() -> Path:
    """The folder of real vendor NM files (outside the repository: ``../shared/samples``,
    or ``$PLANARMPI_SAMPLES``)."""
    if not SAMPLES.is_dir():
        if IN_CI:
            pytest.fail(f"sample folder {SAMPLES} is missing in CI")
        pytest.skip(f"sample folder {SAMPLES} not present")
    return SAMPLES
