"""Whole simulated studies: valid DICOM, truthful metadata, deterministic per seed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from planarmpi import read_studies
from planarmpi.cli.main import main
from planarmpi.model import SeriesKind, State, Tracer, View
from planarmpi.simulate import simulate_study
from planarmpi.simulate.presets import PRESETS, preset
from planarmpi.simulate.study import PatientMotion


def test_study_reads_back_with_its_truth(normal_study: tuple[Path, dict]) -> None:
    folder, truth = normal_study
    outcome = read_studies(folder)
    (study,) = outcome.studies
    assert study.study_instance_uid == truth["study_instance_uid"]
    views = {(s.acquisition.kind, s.acquisition.view) for s in study.series}
    assert views == {(SeriesKind.STATIC, View.ANTERIOR), (SeriesKind.STATIC, View.LAO),
                     (SeriesKind.STATIC, View.LEFT_LATERAL), (SeriesKind.GATED, View.LAO)}
    for s in study.series:
        assert s.acquisition.tracer is Tracer.TC99M_SESTAMIBI
        assert s.acquisition.state is State.STRESS_EXERCISE
    assert truth["lv"]["voxelised_lvef_percent"] == pytest.approx(truth["lv"]["lvef_percent"],
                                                                  abs=1.5)
    assert truth["expected_cpt"] == ["78453"]
    (state,) = truth["states"]
    # Normal Tc-99m lung/heart ratio: below the 0.42 threshold (Wackers p.100).
    assert 0.1 < state["lung_heart_ratio"] < 0.42
    gated = study.gated[0]
    assert gated.gating.intervals_acquired == state["gating"]["intervals_acquired"]


def test_same_seed_same_files(tmp_path: Path, normal_study: tuple[Path, dict]) -> None:
    folder, _ = normal_study
    simulate_study(preset("normal-male"), tmp_path, seed=5)
    for name in json.loads((folder / "truth.json").read_text())["files"]:
        a = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        b = hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
        assert a == b, name


def test_heart_found_where_the_camera_was_centred(normal_study: tuple[Path, dict]) -> None:
    from planarmpi.analysis.summary import summarize_series

    (study,) = read_studies(normal_study[0]).studies
    for s in study.series:
        summary = summarize_series(s)
        region = summary.heart.region
        assert region is not None, summary.heart.reason
        rows, cols = s.pixels.shape[-2:]
        # The simulator centres the FOV on the heart: the region's centre is within 5 cm.
        spacing = s.acquisition.pixel_spacing_mm[0]
        dr = (region.centre_rc[0] - rows / 2) * spacing
        dc = (region.centre_rc[1] - cols / 2) * spacing
        assert (dr**2 + dc**2) ** 0.5 < 50.0
        assert 20 < (region.area_cm2 or 0) < 150


def test_low_counts_are_flagged_and_normal_counts_are_not(
    tmp_path: Path, normal_study: tuple[Path, dict], capsys: pytest.CaptureFixture[str]
) -> None:
    low = replace(preset("normal-male"), counts_per_view=4e4, gated_view=None)
    simulate_study(low, tmp_path / "low", seed=2)
    assert main(["inspect", "--json", str(tmp_path / "low")]) == 0
    (doc,) = json.loads(capsys.readouterr().out)
    low_codes = [f["code"] for f in doc["qc"]["findings"]]
    assert low_codes.count("LOW_VIEW_COUNTS") == 3
    assert "LOW_LV_COUNTS" in low_codes
    main(["inspect", "--json", str(normal_study[0])])
    (doc,) = json.loads(capsys.readouterr().out)
    codes = [f["code"] for f in doc["qc"]["findings"]]
    assert "LOW_VIEW_COUNTS" not in codes
    assert "LOW_LV_COUNTS" not in codes
    assert doc["qc"]["status"] != "fail"


def test_view_only_in_description(tmp_path: Path) -> None:
    spec = replace(preset("normal-male"), view_encoding="description", gated_view=None,
                   counts_per_view=2e5)
    simulate_study(spec, tmp_path, seed=4)
    (study,) = read_studies(tmp_path).studies
    assert {s.acquisition.view_source for s in study.series} == {"SeriesDescription"}
    assert {s.acquisition.view for s in study.series} == {View.ANTERIOR, View.LAO,
                                                          View.LEFT_LATERAL}


def test_presets_are_valid() -> None:
    assert {"normal-male", "normal-female", "lad-ischemia", "muga-normal"} <= set(PRESETS)
    with pytest.raises(KeyError, match="known: "):
        preset("nonsense")


def test_multi_detector_layout(tmp_path: Path) -> None:
    spec = replace(preset("normal-male"), static_layout="multi-detector", gated_view=None,
                   counts_per_view=2e5)
    truth = simulate_study(spec, tmp_path, seed=6)
    assert truth["files"] == ["stress-exercise_static_views.dcm"]
    (study,) = read_studies(tmp_path).studies
    assert [(s.acquisition.detector, s.acquisition.view) for s in study.series] == [
        (1, View.ANTERIOR), (2, View.LAO), (3, View.LEFT_LATERAL)]


def test_framed_static_views_and_motion(tmp_path: Path) -> None:
    """Each static view as a DYNAMIC series of equal frames; motion recorded in the truth."""
    spec = replace(preset("normal-male"), gated_view=None, static_views=("ANT", "LLAT"),
                   static_frames=4, counts_per_view=4e5,
                   motion=(PatientMotion("LLAT", 0.75, (10.0, 0.0)),))
    truth = simulate_study(spec, tmp_path, seed=7)
    assert truth["files"] == ["stress-exercise_ANT_framed.dcm", "stress-exercise_LLAT_framed.dcm"]
    assert truth["motion"] == [{"view": "LLAT", "after_fraction": 0.75, "shift_mm": [10.0, 0.0],
                                "states": "all"}]
    (study,) = read_studies(tmp_path).studies
    ant, llat = study.framed_statics
    assert ant.pixels.shape[0] == 4
    assert list(ant.frame_duration_ms) == [75000.0] * 4
    # the last frame holds the patient 10 mm lower (cross-correlation of smoothed frames)
    from scipy import ndimage
    from skimage.registration import phase_cross_correlation

    smooth = [ndimage.gaussian_filter(f.astype(float), 1.5) for f in llat.pixels]
    still = phase_cross_correlation(smooth[0], smooth[1], upsample_factor=10,
                                    normalization=None)[0]
    moved = phase_cross_correlation(np.mean(smooth[:3], axis=0), smooth[3], upsample_factor=10,
                                    normalization=None)[0]
    assert np.hypot(*still) * 3.2 < 1.0
    assert -moved[0] * 3.2 == pytest.approx(10.0, abs=1.0)
    assert abs(moved[1]) * 3.2 < 1.0
    with pytest.raises(ValueError, match="per-view layout"):
        replace(spec, static_layout="multi-detector")
    with pytest.raises(ValueError, match="static_frames"):
        replace(spec, static_frames=0)
    with pytest.raises(ValueError, match="after_fraction"):
        PatientMotion("LLAT", 1.0, (1.0, 0.0))


def test_stress_dilation_enlarges_the_stress_ventricle_only() -> None:
    from planarmpi.model import State
    from planarmpi.simulate.study import SimulationSpec, state_anatomy

    spec = SimulationSpec(states=(State.STRESS_EXERCISE, State.REST), stress_lv_dilation=1.1)
    assert state_anatomy(spec, State.STRESS_EXERCISE).edv_ml == pytest.approx(
        spec.anatomy.edv_ml * 1.331)
    assert state_anatomy(spec, State.REST) == spec.anatomy
    with pytest.raises(ValueError, match="stress_lv_dilation"):
        replace(spec, stress_lv_dilation=2.0)


def test_population_is_reproducible(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from planarmpi.simulate.presets import random_spec

    a = random_spec(np.random.default_rng([9, 3]), 3)
    b = random_spec(np.random.default_rng([9, 3]), 3)
    assert a == b
    specs = [random_spec(np.random.default_rng([9, i]), i) for i in range(40)]
    assert {s.sex.value for s in specs} == {"M", "F"}
    assert any(s.defects for s in specs)
    assert any(not s.defects for s in specs)


@pytest.mark.external
def test_every_simulated_kind_passes_dciodvfy(tmp_path: Path,
                                              normal_study: tuple[Path, dict]) -> None:
    from dicom_tools import errors_of

    spec = replace(preset("first-pass-normal"), matrix=64, pixel_mm=6.4,
                   static_layout="multi-detector", counts_per_view=2e5)
    truth = simulate_study(spec, tmp_path, seed=8)
    framed = replace(preset("normal-male"), matrix=64, pixel_mm=6.4, gated_view=None,
                     static_views=("LLAT",), static_frames=3, counts_per_view=2e5)
    framed_truth = simulate_study(framed, tmp_path / "framed", seed=9)
    folder, normal = normal_study
    paths = [tmp_path / f for f in truth["files"]] + [folder / f for f in normal["files"]] \
        + [tmp_path / "framed" / f for f in framed_truth["files"]]
    kinds = set()
    for path in paths:
        assert errors_of(path) == [], path.name
        kinds |= {s.acquisition.kind for s in read_studies(path).studies[0].series}
    assert kinds == {SeriesKind.STATIC, SeriesKind.GATED, SeriesKind.DYNAMIC}
