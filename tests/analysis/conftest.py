"""Simulated gated blood-pool studies with known truth, shared by the function tests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from planarmpi import read_studies
from planarmpi.model import GatedSeries
from planarmpi.simulate import simulate_study
from planarmpi.simulate.phantom import Anatomy
from planarmpi.simulate.presets import preset

Case = tuple[GatedSeries, dict[str, Any]]


def _simulate(folder: Path, name: str, seed: int, **changes: Any) -> Case:
    spec = replace(preset(name), **changes) if changes else preset(name)
    truth = simulate_study(spec, folder, seed=seed)
    (study,) = read_studies(folder).studies
    return study.gated[0], {**truth, "folder": str(folder)}


@pytest.fixture(scope="session")
def muga_cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    """Normal, reduced and severely reduced LVEF, and the normal one at twice the counts."""
    make = tmp_path_factory.mktemp
    return {
        "normal": _simulate(make("n"), "muga-normal", 11),
        "reduced": _simulate(make("r"), "muga-cardiotoxicity", 12),
        "severe": _simulate(make("s"), "muga-normal", 13,
                            anatomy=Anatomy(edv_ml=220.0, lvef_percent=25.0)),
        "normal-2x": _simulate(make("n2"), "muga-normal", 11, counts_per_view=8.0e6),
    }


@pytest.fixture(scope="session")
def gated_perfusion_cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    """Gated LAO perfusion views (Tc-99m sestamibi): normal, scar with reduced EF, and the
    normal one at twice the counts."""
    from planarmpi.model import State

    make = tmp_path_factory.mktemp
    only = {"static_views": (), "states": (State.STRESS_EXERCISE,)}
    return {
        "normal": _simulate(make("gpn"), "normal-male", 21, **only),
        "reduced": _simulate(make("gpr"), "lad-scar", 22, **only),
        "normal-2x": _simulate(make("gpn2"), "normal-male", 21, counts_per_view=2.4e6,
                               **only),
    }
