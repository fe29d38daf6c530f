"""Synthetic rings and simulated perfusion studies with known truth."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from planarmpi import read_studies
from planarmpi.model import Study
from planarmpi.simulate import simulate_study
from planarmpi.simulate.phantom import Defect
from planarmpi.simulate.presets import preset


def _simulate(folder: Path, name: str, seed: int, **changes: Any) -> tuple[Study, dict[str, Any]]:
    spec = replace(preset(name), gated_view=None, **changes)
    truth = simulate_study(spec, folder, seed=seed)
    (study,) = read_studies(folder).studies
    return study, {**truth, "folder": str(folder)}


@pytest.fixture(scope="session")
def perfusion_cases(tmp_path_factory: pytest.TempPathFactory
                    ) -> dict[str, tuple[Study, dict[str, Any]]]:
    """Simulated stress/rest studies (static views only) of known perfusion."""
    make = tmp_path_factory.mktemp
    return {
        "normal": _simulate(make("normal"), "normal-male", 21,
                            states=preset("lad-ischemia").states),
        "lad-ischemia": _simulate(make("lad"), "lad-ischemia", 22),
        "rca-scar": _simulate(make("rca"), "rca-scar", 23),
        "lcx-ischemia": _simulate(make("lcx"), "lcx-ischemia", 24),
    }


@pytest.fixture(scope="session")
def severity_series(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[float, Study]]:
    """The same patient and seed with an LAD defect of increasing severity (stress only)."""
    out = []
    for severity in (0.0, 0.3, 0.5, 0.7):
        folder = tmp_path_factory.mktemp(f"sev{int(severity * 100)}")
        study, _ = _simulate(folder, "normal-male", 31,
                             defects=(Defect("LAD", severity, 0.8, reversible=False),))
        out.append((severity, study))
    return out
