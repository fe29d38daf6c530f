"""First-pass analysis against the simulator's truth, and the gamma-variate shunt method."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from planarmpi import read_studies
from planarmpi.analysis.firstpass import (
    FirstPassParams,
    _qp_qs,
    analyze_first_pass,
    gamma_variate,
    roi_sanity,
)
from planarmpi.model import DynamicSeries
from planarmpi.simulate import simulate_study
from planarmpi.simulate.firstpass import FirstPassSpec
from planarmpi.simulate.presets import preset

Case = tuple[DynamicSeries, dict[str, Any]]


def _simulate(folder: Path, seed: int, anatomy: dict[str, Any] | None = None,
              **first_pass: Any) -> Case:
    base = preset("first-pass-normal")
    spec = replace(base, static_views=(), gated_view=None,
                   anatomy=replace(base.anatomy, **(anatomy or {})),
                   first_pass=FirstPassSpec(**first_pass))
    truth = simulate_study(spec, folder, seed=seed)
    (study,) = read_studies(folder).studies
    return study.dynamics[0], truth["states"][0]["first_pass"]


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    return {
        "normal": _simulate(tmp_path_factory.mktemp("fpn"), 41, peak_count_rate_kcps=400.0),
        "fragmented": _simulate(tmp_path_factory.mktemp("fpf"), 42, fragmented=True),
    }


def test_first_pass_matches_the_phantom(cases: dict[str, Case]) -> None:
    series, truth = cases["normal"]
    r = analyze_first_pass(series)
    assert r.lv is not None
    assert r.rv is not None
    # Within the benchmark's MAE targets (LV 4, RV 5 points) with a point of slack for the RV,
    # which this version under-reads by 1–3 points (bench/first_pass_accuracy.py).
    assert r.lv.ef_percent == pytest.approx(truth["voxelised_lvef_percent"], abs=4.0)
    assert r.rv.ef_percent == pytest.approx(truth["voxelised_rvef_percent"], abs=6.0)
    assert r.lv.ci95_percent[0] < r.lv.ef_percent < r.lv.ci95_percent[1]
    assert r.lv.beats_used >= 2
    assert r.heart_rate_bpm == pytest.approx(70.0, abs=2.5)
    assert r.pulmonary_transit_s == pytest.approx(truth["rv_to_lv_peak_s"], abs=0.5)
    assert r.bolus_fwhm_s == pytest.approx(truth["svc_fwhm_s"], abs=0.35)
    assert "BOLUS_FRAGMENTED" not in {f.code for f in r.findings}


def test_both_backgrounds_measure_the_normal_study(cases: dict[str, Case]) -> None:
    series, truth = cases["normal"]
    fitted = analyze_first_pass(series)
    classic = analyze_first_pass(series, FirstPassParams(background="lung-frame"))
    assert fitted.lv is not None
    assert classic.lv is not None
    assert fitted.to_dict()["lv"]["background_method"] == "fitted"
    assert classic.to_dict()["lv"]["background_method"] == "lung-frame"
    # The same ROI and beats: only the background differs.
    assert fitted.lv.ed_counts == classic.lv.ed_counts
    assert fitted.lv.background_counts != classic.lv.background_counts
    assert classic.lv.ef_percent == pytest.approx(truth["voxelised_lvef_percent"], abs=6.0)


@pytest.mark.parametrize("kwargs", [{"background": "crescent"}, {"ed_roi_fraction": 1.2}])
def test_bad_first_pass_params_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"background|ed_roi_fraction"):
        FirstPassParams(**kwargs)


def test_fragmented_bolus_is_reported(cases: dict[str, Case]) -> None:
    series, _ = cases["fragmented"]
    r = analyze_first_pass(series)
    assert "BOLUS_FRAGMENTED" in {f.code for f in r.findings}


def test_too_short_series_is_refused(cases: dict[str, Case]) -> None:
    series, _ = cases["normal"]
    short = DynamicSeries.from_phases(series.acquisition, np.asarray(series.pixels)[:100],
                                      [replace(series.phases[0], number_of_frames=100)])
    with pytest.raises(ValueError, match="shorter than the 6 s"):
        analyze_first_pass(short)


def test_gamma_variate_area() -> None:
    t = np.linspace(0, 60, 60001)
    y = gamma_variate(t, 123.0, 2.0, 3.0, 1.2)
    assert np.trapezoid(y, t) == pytest.approx(123.0, rel=1e-4)
    assert (y[t <= 2.0] == 0).all()


@pytest.mark.parametrize("qp_qs", [1.0, 1.5, 2.0, 3.0])
def test_maltz_treves_recovers_the_shunt_on_ideal_curves(qp_qs: float) -> None:
    """First pass A1 plus an early recirculation of A2 = A1 (1 − 1/Qp:Qs), later and wider."""
    t = np.arange(0, 30, 0.04)
    a1 = 1000.0
    a2 = a1 * (1 - 1 / qp_qs)
    lung = gamma_variate(t, a1, 3.0, 2.5, 0.8) + gamma_variate(t, a2, 7.0, 2.5, 1.6)
    ratio, why = _qp_qs(t, lung)
    assert ratio is not None, why
    assert ratio == pytest.approx(qp_qs, rel=0.12)


def test_a_fast_pulmonary_transit_still_finds_the_left_ventricle(
        tmp_path: Path) -> None:
    # A large, fast heart (EDV 240 ml, 100/min, EF 70%): the bolus reaches the LV 2.2 s after
    # the RV peak. With the left heart required to peak ≥ 2.5 s after the right heart, its
    # pixels were excluded and no LV was measured (in a benchmark study the liver was taken).
    series, truth = _simulate(tmp_path, 43, {"edv_ml": 240.0, "heart_rate_bpm": 100.0,
                                             "lvef_percent": 70.0},
                              peak_count_rate_kcps=400.0, bolus_fwhm_s=0.9)
    assert truth["rv_to_lv_peak_s"] < 2.5
    r = analyze_first_pass(series)
    assert r.lv is not None
    assert r.pulmonary_transit_s == pytest.approx(truth["rv_to_lv_peak_s"], abs=0.3)
    assert analyze_first_pass(series, FirstPassParams(left_heart_lag_s=2.5)).lv is None


def _disc(centre: tuple[int, int], radius: float, shape: tuple[int, int] = (64, 64)
          ) -> np.ndarray:
    rr, cc = np.indices(shape)
    return np.hypot(rr - centre[0], cc - centre[1]) <= radius


def test_roi_sanity_measures_and_flags_size_position_and_overlap() -> None:
    p = FirstPassParams()
    spacing = (6.4, 6.4)
    rv, lv = _disc((30, 24), 4.5), _disc((31, 34), 4.5)  # LV 10 px to the image's right
    geometry, problems = roi_sanity(lv, rv, spacing, ("L", "F"), p)
    assert problems == []
    assert geometry["lv_roi_area_cm2"] == pytest.approx(lv.sum() * 0.4096)
    assert geometry["lv_from_rv_mm"] == pytest.approx([10 * 6.4, 6.4])
    assert geometry["overlap_pixels"] == 0
    # The same image with the patient's left on the image's left: the LV lies to his right.
    _, problems = roi_sanity(lv, rv, spacing, ("R", "F"), p)
    assert problems == ["the LV ROI does not lie to the patient's left of the RV ROI"]
    # A 3-pixel LV fragment far below the RV (the liver), overlapping nothing.
    _, problems = roi_sanity(_disc((50, 30), 1.0), rv, spacing, ("L", "F"), p)
    assert any("cm²" in x for x in problems)
    assert any("mm from the RV" in x for x in problems)
    _, problems = roi_sanity(_disc((30, 27), 4.5), rv, spacing, ("L", "F"), p)
    assert any("share" in x for x in problems)
    # Without a pixel spacing only the overlap can be judged.
    geometry, problems = roi_sanity(lv, rv, None, None, p)
    assert geometry["lv_roi_area_cm2"] is None
    assert problems == []


def test_normal_first_pass_rois_are_plausible(cases: dict[str, Case]) -> None:
    r = analyze_first_pass(cases["normal"][0])
    assert "FIRST_PASS_ROI_IMPLAUSIBLE" not in {f.code for f in r.findings}
    g = r.roi_geometry
    assert g["lv_roi_area_cm2"] > 10
    assert g["rv_roi_area_cm2"] > 10
    assert 20 < g["lv_from_rv_mm"][0] < 90  # the LV to the patient's left of the RV
