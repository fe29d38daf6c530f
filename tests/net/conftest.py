"""A simulated study to send."""

from __future__ import annotations

from pathlib import Path

import pytest

from planarmpi.simulate import simulate_study
from planarmpi.simulate.presets import preset


@pytest.fixture(scope="session")
def muga_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("muga")
    simulate_study(preset("muga-normal"), folder, seed=5)
    return folder
