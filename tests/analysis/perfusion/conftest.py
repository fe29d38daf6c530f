"""Synthetic rings and simulated perfusion studies with known truth."""

from __future__ import annotations

from typing import Any

import pytest

from factories import simulated_perfusion
from planarmpi.model import Study
from planarmpi.simulate.phantom import Defect
from planarmpi.simulate.presets import preset


@pytest.fixture(scope="session")
def perfusion_cases(tmp_path_factory: pytest.TempPathFactory
                    ) -> dict[str, tuple[Study, dict[str, Any]]]:
    """Simulated stress/rest studies (static views only) of known perfusion."""
    make = tmp_path_factory.mktemp
    return {
        "normal": simulated_perfusion(make("normal"), "normal-male", 21,
                                      states=preset("lad-ischemia").states),
        "lad-ischemia": simulated_perfusion(make("lad"), "lad-ischemia", 22),
        "rca-scar": simulated_perfusion(make("rca"), "rca-scar", 23),
        "lcx-ischemia": simulated_perfusion(make("lcx"), "lcx-ischemia", 24),
    }


@pytest.fixture(scope="session")
def severity_series(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[float, Study]]:
    """The same patient and seed with an LAD defect of increasing severity (stress only)."""
    out = []
    for severity in (0.0, 0.3, 0.5, 0.7):
        folder = tmp_path_factory.mktemp(f"sev{int(severity * 100)}")
        study, _ = simulated_perfusion(
            folder, "normal-male", 31,
            defects=(Defect("LAD", severity, 0.8, reversible=False),))
        out.append((severity, study))
    return out
