"""Gated blood-pool LVEF against the phantom's true (voxelised) volume EF."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from planarmpi.analysis.bloodpool import (
    BloodPoolParams,
    ManualRois,
    analyze_blood_pool,
    slot_coverage,
)

#: The accuracy measured on 100+ simulated studies is in docs/validation.md (not yet the
#: issue's target); every single case here must at least fall within this many points.
TOLERANCE_POINTS = 8.0


@pytest.mark.parametrize("name", ["normal", "reduced", "severe"])
def test_ef_close_to_true_volume_ef(muga_cases: dict, name: str) -> None:
    series, truth = muga_cases[name]
    result = analyze_blood_pool(series)
    true_ef = truth["lv"]["voxelised_lvef_percent"]
    assert result.lvef_percent == pytest.approx(true_ef, abs=TOLERANCE_POINTS)
    assert result.ci95_percent[0] < result.lvef_percent < result.ci95_percent[1]
    assert result.rois_source == "automatic"


def test_ef_follows_the_truth_across_studies(muga_cases: dict) -> None:
    efs = {k: analyze_blood_pool(muga_cases[k][0]).lvef_percent
           for k in ("normal", "reduced", "severe")}
    assert efs["normal"] > efs["reduced"] + 5 > efs["severe"] + 10


def test_same_input_same_output(muga_cases: dict) -> None:
    series, _ = muga_cases["normal"]
    a, b = analyze_blood_pool(series), analyze_blood_pool(series)
    assert a.to_dict() == b.to_dict()


@pytest.mark.parametrize("name", ["normal", "severe"])
def test_moving_the_roi_seeds_barely_moves_the_ef(muga_cases: dict, name: str) -> None:
    series, _ = muga_cases[name]
    result = analyze_blood_pool(series)
    # Issue #4: ROI-seed perturbation (the ventricles' seeds moved one pixel in four
    # directions, every automatic ROI redrawn) → EF SD ≤ 1.0 point.
    assert result.seed_sd_percent <= 1.0
    assert result.to_dict()["seed_sd_percent"] == result.seed_sd_percent
    # The edge level and background perturbations are reported beside it.
    p = BloodPoolParams()
    assert set(result.roi_variants_percent) >= {
        f"edge {p.edge_fraction - p.edge_fraction_shift:.2f}",
        f"edge {p.edge_fraction + p.edge_fraction_shift:.2f}"}
    assert result.roi_sd_percent > 0
    # Seeds moved far enough leave the chamber: the map really is redrawn from them.
    far = analyze_blood_pool(series, BloodPoolParams(seed_shift_px=4))
    assert far.seed_sd_percent > result.seed_sd_percent


def test_moved_seeds_are_returned_with_the_map(muga_cases: dict) -> None:
    from planarmpi.analysis.bloodpool import _smooth, slot_coverage
    from planarmpi.analysis.ventricles import find_ventricles

    series, _ = muga_cases["normal"]
    counts = np.asarray(series.pixels, dtype=float)
    pixel_mm = float(np.mean(series.acquisition.pixel_spacing_mm))
    smooth = _smooth(counts / slot_coverage(counts, 1.0)[:, None, None], 1.0)
    vmap = find_ventricles(smooth, pixel_mm, seed_offsets_px=((1, 0), (0, -2)))
    assert [m.lv_seed_rc for m in vmap.moved] == [
        (vmap.lv_seed_rc[0] + 1, vmap.lv_seed_rc[1]), (vmap.lv_seed_rc[0], vmap.lv_seed_rc[1] - 2)]
    assert find_ventricles(smooth, pixel_mm).moved == ()


def test_doubling_counts_leaves_ef_within_noise(muga_cases: dict) -> None:
    one = analyze_blood_pool(muga_cases["normal"][0])
    two = analyze_blood_pool(muga_cases["normal-2x"][0])
    # The count noise of an EF whose ROIs are redrawn: the fixed-ROI Poisson SD (0.7) is
    # far below how the EF moves when the counts change (SD 2.5 on simulated studies whose
    # counts were halved), so it cannot say what "within noise" is.
    sd = np.hypot(one.noise_sd_percent, two.noise_sd_percent)
    assert sd > 2 * np.hypot(one.poisson_sd_percent, two.poisson_sd_percent)
    assert abs(one.lvef_percent - two.lvef_percent) <= 3 * sd + max(one.roi_sd_percent,
                                                                     two.roi_sd_percent)
    # Twice the counts: the Poisson SD of the EF shrinks by about √2.
    assert two.poisson_sd_percent < one.poisson_sd_percent


def test_manual_rois_replace_the_automatic_ones(muga_cases: dict) -> None:
    series, _ = muga_cases["normal"]
    auto = analyze_blood_pool(series)
    manual = ManualRois(lv=auto.lv_masks, background=auto.background, who="tech1")
    again = analyze_blood_pool(series, manual=manual)
    assert again.rois_source == "manual"
    assert again.lvef_percent == pytest.approx(auto.lvef_percent, abs=1e-9)
    # A background drawn inside the LV subtracts the LV itself: the EF is absurd and QC
    # says the background is as hot as the ventricle.
    wrong = analyze_blood_pool(series, manual=ManualRois(lv=auto.lv_masks,
                                                         background=auto.lv_masks[0]))
    assert wrong.lvef_percent > auto.lvef_percent + 10
    assert "LOW_TARGET_TO_BACKGROUND" in {f.code for f in wrong.findings}


def test_two_roi_method_with_ed_and_es_only(muga_cases: dict) -> None:
    series, truth = muga_cases["normal"]
    auto = analyze_blood_pool(series)
    es = int(np.argmin(auto.curve_counts))
    result = analyze_blood_pool(series, manual=ManualRois(
        lv=(auto.lv_masks[0], auto.lv_masks[es]), background=auto.background))
    assert result.lvef_percent == pytest.approx(truth["lv"]["voxelised_lvef_percent"],
                                                abs=TOLERANCE_POINTS + 3)


def test_rates_are_physiological(muga_cases: dict) -> None:
    # Normal PFR 2.2 ± 0.6 EDV/s, TTPF 198 ± 22 ms (Int J Card Imaging 1997, domain notes
    # function.md); the bounds are wider because the phantom's rapid filling is steeper
    # (PFR ≈ 3.5 EDV/s, TTPF ≈ 100 ms — noted in docs/simulator.md).
    result = analyze_blood_pool(muga_cases["normal"][0])
    assert 1.0 < result.peak_ejection_rate_edv_per_s < 6.0
    assert 1.0 < result.peak_filling_rate_edv_per_s < 6.0
    assert 0 < result.time_to_peak_filling_ms < 400
    assert 0 < result.first_third_filling_fraction < 1


def test_too_few_slots_is_refused(muga_cases: dict) -> None:
    series, _ = muga_cases["normal"]
    short = replace(series, pixels=series.pixels[:6], frame_duration_ms=
                    series.frame_duration_ms[:6])
    with pytest.raises(ValueError, match="6 time slots"):
        analyze_blood_pool(short)


def test_params_are_validated() -> None:
    with pytest.raises(ValueError, match="harmonics"):
        BloodPoolParams(harmonics=0)


def test_slot_coverage_recovers_forward_framing_loss() -> None:
    rng = np.random.default_rng(1)
    base = rng.uniform(50, 100, (64, 64))
    heart = np.zeros((64, 64))
    heart[28:36, 28:36] = 1.0
    cover = np.ones(16)
    cover[-2:] = (0.9, 0.6)
    frames = np.stack([(base + 200 * heart * (1 + 0.5 * np.cos(2 * np.pi * t / 16))) * c
                       for t, c in enumerate(cover)])
    np.testing.assert_allclose(slot_coverage(frames, 1.0), cover / np.median(cover), rtol=1e-6)


def test_renaming_and_reordering_files_changes_nothing(muga_cases: dict, tmp_path) -> None:
    """Metamorphic: the result depends on the DICOM content, not on names or folders."""
    import json
    import shutil
    from pathlib import Path

    from planarmpi.cli.main import main

    _, truth = muga_cases["normal"]
    source = Path(truth["folder"])
    shuffled = tmp_path / "renamed" / "deeper"
    shuffled.mkdir(parents=True)
    for i, name in enumerate(sorted(truth["files"], reverse=True)):
        shutil.copy(source / name, shuffled / f"zz_{i:03d}.IMA")
    a, b = tmp_path / "a", tmp_path / "b"
    clock = ["--generated-at", "2026-03-01T10:00"]  # the report's clock is an input
    assert main(["analyze", str(source), "--out", str(a), *clock]) == 0
    assert main(["analyze", str(tmp_path / "renamed"), "--out", str(b), *clock]) == 0
    name = f"{truth['study_instance_uid']}/result.json"
    assert json.loads((a / name).read_text()) == json.loads((b / name).read_text())
