"""Shared fixtures: sample files, temporary output, hermetic plotting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = Path(os.environ.get("PLANARMPI_SAMPLES", REPO.parent / "shared" / "samples"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


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
