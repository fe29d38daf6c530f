"""Simulated studies shared by the tests that need a realistic planar study."""

from __future__ import annotations

from pathlib import Path

import pytest

from planarmpi.simulate import simulate_study
from planarmpi.simulate.presets import preset


@pytest.fixture(scope="session")
def normal_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("normal-male")
    truth = simulate_study(preset("normal-male"), folder, seed=5)
    return folder, truth
