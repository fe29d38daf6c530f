"""Synthetic rings and simulated perfusion studies with known truth."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import ndimage

from planarmpi import read_studies
from planarmpi.model import Study
from planarmpi.simulate import simulate_study
from planarmpi.simulate.phantom import Defect
from planarmpi.simulate.presets import preset


def ring_image(shape: tuple[int, int] = (96, 96), centre: tuple[float, float] = (48.0, 50.0),
               radii: tuple[float, float] = (11.0, 8.0), tilt_deg: float = 30.0,
               wall: float = 3.0, peak: float = 400.0, background: float = 20.0,
               defect: tuple[float, float, float] | None = None, blob: bool = False,
               ) -> NDArray[np.float64]:
    """A blurred elliptical myocardial ring (noise-free), optionally with a defect.

    ``radii`` are the ridge semi-axes (pixels) along the tilted long axis and across;
    ``tilt_deg`` is the long axis in the display convention (0° up, clockwise); ``defect``
    is (centre°, width°, fraction removed) in the same convention.
    """
    rr, cc = np.indices(shape, dtype=np.float64)
    dr, dc = rr - centre[0], cc - centre[1]
    phi = np.radians(tilt_deg)
    along = -dr * np.cos(phi) + dc * np.sin(phi)
    across = dr * np.sin(phi) + dc * np.cos(phi)
    rho = np.hypot(along / radii[0], across / radii[1])  # 1 on the ridge
    dist = np.hypot(dr, dc)
    ridge = dist / np.maximum(rho, 1e-9)  # the ridge's distance along this pixel's ray
    if blob:
        img = np.where(dist <= ridge + wall / 2, 1.0, 0.0)
    else:
        img = np.where(np.abs(dist - ridge) <= wall / 2, 1.0, 0.0)
    if defect is not None:
        angle = np.degrees(np.arctan2(dc, -dr)) % 360
        d = np.abs((angle - defect[0] + 180) % 360 - 180)
        img = img * np.where(d <= defect[1] / 2, 1 - defect[2], 1.0)
    img = ndimage.gaussian_filter(img, 1.5)
    return background + peak * img / img.max()


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
