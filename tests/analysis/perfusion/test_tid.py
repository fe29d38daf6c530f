"""Planar TID: the stress/rest LV size ratio where both images show the wall."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from scipy import ndimage

from planarmpi import read_studies
from planarmpi.analysis.perfusion.profiles import LVGeometry
from planarmpi.analysis.perfusion.study import analyze_perfusion
from planarmpi.analysis.perfusion.tid import TIDParams, lv_size_ratio
from planarmpi.model import State, StaticImage, Study, View
from planarmpi.simulate import simulate_study
from planarmpi.simulate.presets import preset

SHAPE = (96, 96)
CENTRE = (48.0, 48.0)
N_RAYS = 60


def _ring(radius_px: float, centre: tuple[float, float] = CENTRE,
          gap_deg: tuple[float, float] | None = None, gap_uptake: float = 0.3,
          seed: int = 0) -> np.ndarray:
    """A noisy myocardial ring (wall 8 px, peak ~400 counts), smoothed as profiles are,
    with an optional reduced arc (display angles: 0° up, clockwise)."""
    rows, cols = np.indices(SHAPE, dtype=np.float64)
    dr, dc = rows - centre[0], cols - centre[1]
    ring = np.exp(-0.5 * ((np.hypot(dr, dc) - radius_px) / 3.0) ** 2)
    if gap_deg is not None:
        angle = np.degrees(np.arctan2(dc, -dr)) % 360.0
        ring = np.where((angle >= gap_deg[0]) & (angle < gap_deg[1]), gap_uptake * ring, ring)
    counts = np.random.default_rng(seed).poisson(400.0 * ring + 5.0).astype(np.float64)
    return np.asarray(ndimage.gaussian_filter(counts, 1.0))


def _geometry(radius_px: float) -> LVGeometry:
    return LVGeometry(CENTRE, (radius_px, radius_px), 0.0, np.full(N_RAYS, radius_px),
                      np.zeros((0, 2)), 1.0, 0.2)


def test_a_dilated_ring_gives_the_area_ratio() -> None:
    rest = _ring(20.0, seed=1)
    for scale in (1.0, 1.06, 1.12):
        stress = _ring(20.0 * scale, seed=2)
        m = lv_size_ratio(stress, rest, _geometry(20.0), (0.0, 0.0))
        assert m.ratio == pytest.approx(scale**2, abs=0.02)
        assert m.rays_total == N_RAYS


def test_a_stress_defect_does_not_look_like_dilation() -> None:
    rest = _ring(20.0, seed=3)
    stress = _ring(20.0, gap_deg=(0.0, 110.0), seed=4)  # an anterolateral/apical defect
    m = lv_size_ratio(stress, rest, _geometry(20.0), (0.0, 0.0))
    assert m.ratio == pytest.approx(1.0, abs=0.02)
    assert m.rays_used < N_RAYS - 12                    # the defect's rays were left out


def test_the_stress_centre_is_fitted_to_the_wall() -> None:
    rest = _ring(20.0, seed=5)
    stress = _ring(22.0, centre=(CENTRE[0] + 4.0, CENTRE[1] - 3.0), seed=6)
    for shift in ((4.0, -3.0), (2.0, -1.0), (0.0, 0.0)):   # registration right or off
        m = lv_size_ratio(stress, rest, _geometry(20.0), shift)
        assert m.ratio == pytest.approx(1.21, abs=0.02), shift
    unrefined = lv_size_ratio(stress, rest, _geometry(20.0), (0.0, 0.0),
                              TIDParams(refinements=0))
    assert unrefined.ratio != pytest.approx(1.21, abs=0.02)


def test_too_few_rays_give_no_ratio_and_say_why() -> None:
    rest = _ring(20.0, seed=7)
    stress = _ring(20.0, gap_deg=(0.0, 300.0), gap_uptake=0.1, seed=8)
    m = lv_size_ratio(stress, rest, _geometry(20.0), (0.0, 0.0), TIDParams(min_rays=20))
    assert m.ratio is None
    assert "rays only (at least 20 needed)" in m.problem


def test_images_of_different_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        lv_size_ratio(np.zeros((64, 64)), _ring(20.0), _geometry(20.0), (0.0, 0.0))


def _tid(study: Study) -> dict[str, Any]:
    result = analyze_perfusion(study)
    assert result is not None
    tid: dict[str, Any] = result.section["reversibility"]["tid"]
    return tid


def test_no_dilation_is_read_in_simulated_studies(perfusion_cases: dict[str, Any]) -> None:
    # The simulator dilates no ventricle: a reversible defect must not read as TID (the
    # fitted ellipses' areas differ by up to 1.7× in such studies). Over 260 simulated
    # studies the ratio's SD is 0.03 in normals, 0.05 with a reversible defect.
    for case in ("normal", "lad-ischemia", "lcx-ischemia", "rca-scar"):
        tid = _tid(perfusion_cases[case][0])
        assert tid["ratio"] == pytest.approx(1.0, abs=0.11), case
        assert tid["abnormal"] is False
        assert tid["rays_used"] >= 12
        assert tid["ellipse_area_ratio"] is not None


@pytest.fixture(scope="module")
def dilated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Study, dict[str, Any]]:
    """A normal man whose LV cavity is 10% larger (linear) at stress than at rest."""
    spec = replace(preset("normal-male"), gated_view=None,
                   states=(State.STRESS_EXERCISE, State.REST), stress_lv_dilation=1.1)
    folder = tmp_path_factory.mktemp("dilated")
    truth = simulate_study(spec, folder, seed=21)
    (study,) = read_studies(folder).studies
    return study, truth


def test_a_dilated_ventricle_reads_as_tid(dilated: tuple[Study, dict[str, Any]]) -> None:
    study, truth = dilated
    outline = truth["tid"]["lv_outline_area_ratio"]
    cavity = truth["tid"]["lv_cavity_area_ratio"]
    assert 1.12 < outline < cavity                      # the phantom's own projected areas
    tid = _tid(study)
    # The wall's mid-line encloses an area between the outline's and the cavity's.
    assert outline - 0.04 <= tid["ratio"] <= cavity + 0.04
    assert tid["abnormal"] is True


def test_views_of_different_matrices_give_no_tid_and_say_why(
        perfusion_cases: dict[str, Any]) -> None:
    study, _ = perfusion_cases["normal"]
    series = []
    for s in study.series:
        if isinstance(s, StaticImage) and s.acquisition.view is View.ANTERIOR \
                and not s.acquisition.state.is_stress:
            s = replace(s, pixels=np.asarray(s.pixels)[4:-4, 4:-4])   # a 120 × 120 matrix
        series.append(s)
    tid = _tid(replace(study, series=tuple(series)))
    assert tid["ratio"] is None
    assert tid["abnormal"] is None
    assert "differ in matrix or pixel size" in tid["problem"]
    assert tid["ellipse_area_ratio"] is not None          # the ellipses are still reported


def test_the_tid_preset_reads_abnormal_with_its_two_territories(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("tid-preset")
    truth = simulate_study(preset("multivessel-ischemia-tid"), folder, seed=3)
    (study,) = read_studies(folder).studies
    result = analyze_perfusion(study)
    assert result is not None
    tid = result.section["reversibility"]["tid"]
    assert truth["tid"]["lv_outline_area_ratio"] - 0.04 <= tid["ratio"] \
        <= truth["tid"]["lv_cavity_area_ratio"] + 0.04
    assert tid["abnormal"] is True
    assert set(result.section["territories"]) == {"LAD", "LCX"}
