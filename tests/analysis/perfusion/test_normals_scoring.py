"""Normal-limit files and defect scoring against limits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from planarmpi.analysis.perfusion.build import outlier_scores
from planarmpi.analysis.perfusion.normals import (
    DIFFERENCE_SCALE_QUANTILE,
    SCHEMA,
    NormalLimits,
    ViewLimits,
    build_limits,
    builtin_limits,
    difference_scale,
    difference_shifts,
    parse_limits,
    read_limits,
    select_limits,
    smooth_sd,
    stress_rest_difference,
    tail_scale,
    write_limits,
)
from planarmpi.analysis.perfusion.profiles import LVGeometry, Profile, ProfileParams
from planarmpi.analysis.perfusion.scoring import ScoringParams, defect_runs, score_view
from planarmpi.errors import InvalidInputError
from planarmpi.model import Sex, State, Tracer, View

N = 60
ANGLES = np.arange(N) * 6.0


def _profile(values: np.ndarray, noise_sd: np.ndarray | None = None) -> Profile:
    g = LVGeometry((32.0, 32.0), (10.0, 8.0), 0.0, np.full(N, 9.0), np.zeros((0, 2)), 1.0, 0.5)
    return Profile(ANGLES, values, values * 100, 100.0, np.full(N, 9.0), g,
                   np.zeros((64, 64)), (0, 64, 0, 64), noise_sd)


def test_build_limits_mean_sd_and_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    truth_mean = 0.7 + 0.2 * np.cos(np.radians(ANGLES))
    profiles = [(View.LAO, State.STRESS_EXERCISE, _profile(truth_mean + rng.normal(0, 0.05, N)))
                for _ in range(400)]
    limits = build_limits(profiles, name="t", tracer=Tracer.TC99M_TETROFOSMIN, sex=Sex.FEMALE,
                          params=ProfileParams(), source="unit test")
    (v,) = limits.views
    assert (v.view, v.state, v.n_studies) == ("LAO", "stress", 400)
    np.testing.assert_allclose(v.mean, truth_mean, atol=0.012)
    np.testing.assert_allclose(v.sd, 0.05, atol=0.006)
    path = write_limits(limits, tmp_path / "site.json")
    again = read_limits(path)
    assert again.tracer_group == "tc99m"
    assert again.sex is Sex.FEMALE
    assert again.for_view(View.LAO, State.STRESS_PHARMACOLOGIC) is not None
    assert again.for_view(View.LAO, State.REST) is None
    np.testing.assert_allclose(again.views[0].mean, v.mean, atol=1e-5)
    # Site limits win over the built-in ones for their tracer group and sex only.
    chosen = select_limits((again, *builtin_limits()), Tracer.TC99M_SESTAMIBI, Sex.FEMALE)
    assert chosen is again
    assert select_limits((again,), Tracer.TL201, Sex.FEMALE) is None


def test_a_misplaced_ring_stands_out_of_the_normals() -> None:
    rng = np.random.default_rng(1)
    shape = 0.7 + 0.2 * np.cos(np.radians(ANGLES))
    studies = {f"s{i}": [(View.ANTERIOR, State.REST, _profile(shape + rng.normal(0, 0.05, N))),
                         (View.LAO, State.REST, _profile(shape + rng.normal(0, 0.05, N)))]
               for i in range(30)}
    # One study's LAO ring sat on the breast edge: one hot arc on the wrong side.
    wrong = 0.3 + 0.6 * np.clip(np.cos(np.radians(ANGLES - 180.0)), 0.0, None)
    studies["s7"][1] = (View.LAO, State.REST, _profile(wrong))
    scores = outlier_scores(studies)
    assert scores["s7"][1] == "LAO/rest"
    assert scores["s7"][0] > 5.0
    # Normal scatter: the mean |z| of Gaussian noise is √(2/π) ≈ 0.8 robust SDs.
    others = [d for label, (d, _) in scores.items() if label != "s7"]
    assert max(others) < 1.6


def test_stress_rest_difference_registers_and_keeps_the_dip() -> None:
    base = 0.7 + 0.2 * np.cos(np.radians(ANGLES))
    stress = base.copy()
    stress[10:16] -= 0.3  # a stress-only dip at 60–90°
    rest = np.roll(base, 2)  # the patient turned by 12° between the acquisitions
    d = stress_rest_difference(stress, rest, base, alignment_max_deg=12.0)
    # The rest image is registered exactly; the difference is the dip alone, carried with
    # the stress profile onto the template (within ±12°).
    dip = np.flatnonzero(d < -0.29)
    assert dip.size == 6
    assert np.all(np.diff(dip) == 1)
    assert abs(dip[0] - 10) <= 2
    np.testing.assert_allclose(d[dip], -0.3, atol=1e-9)
    np.testing.assert_allclose(np.delete(d, dip), 0.0, atol=1e-9)


def test_the_rest_profile_is_scaled_when_the_hottest_wall_moves() -> None:
    # Uptake of a ventricle whose hottest wall (around 180°) is where stress loses 40%:
    # each image is normalised to its own maximum, so the two normalisers differ.
    uptake = 0.75 + 0.25 * np.cos(np.radians(ANGLES - 180.0))
    defect = np.abs(((ANGLES - 180.0 + 180.0) % 360.0) - 180.0) <= 60.0
    stressed = np.where(defect, 0.6 * uptake, uptake)
    rest = uptake / uptake.max()
    stress = stressed / stressed.max()
    d = stress_rest_difference(stress, rest, stress, alignment_max_deg=0.0)
    # Scaled: nothing outside the defect, and there the loss relative to the stress
    # normaliser, 0.4 of the uptake.
    np.testing.assert_allclose(d[~defect], 0.0, atol=1e-12)
    np.testing.assert_allclose(d[defect], -0.4 * uptake[defect] / stressed.max(), atol=1e-12)
    assert difference_scale(stress, rest, DIFFERENCE_SCALE_QUANTILE) == pytest.approx(
        uptake.max() / stressed.max())
    # Unscaled (older limits files): every wall seems to gain, and the loss is understated.
    old = stress_rest_difference(stress, rest, stress, alignment_max_deg=0.0,
                                 scale_quantile=None)
    assert old[~defect].min() > 0.05
    assert old[defect].min() > d[defect].min() + 0.1


def test_difference_scale_needs_enough_bright_points() -> None:
    rest = np.full(N, 0.3)
    rest[:9] = 1.0  # 9 of 60 points ≥ 0.5: fewer than a sixth
    assert difference_scale(0.8 * rest, rest, 0.75) == 1.0
    rest[:10] = 1.0
    assert difference_scale(0.8 * rest, rest, 0.75) == pytest.approx(0.8)
    assert difference_scale(0.8 * rest, rest, None) == 1.0


def test_difference_limits_are_built_from_pairs_and_read_back(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    shape = 0.7 + 0.2 * np.cos(np.radians(ANGLES))
    profiles, pairs = [], []
    for _ in range(40):
        # Patients differ by ±0.1 (habitus); a patient's two images by ±0.02 (noise).
        patient = shape + rng.normal(0, 0.1, N)
        stress = _profile(patient + rng.normal(0, 0.02, N))
        rest = _profile(patient + rng.normal(0, 0.02, N))
        profiles += [(View.ANTERIOR, State.STRESS_EXERCISE, stress),
                     (View.ANTERIOR, State.REST, rest)]
        pairs.append((View.ANTERIOR, stress, rest))
    limits = build_limits(profiles, name="t", tracer=Tracer.TL201, sex=Sex.MALE,
                          params=ProfileParams(), source="unit test", alignment_max_deg=0.0,
                          pairs=pairs)
    diff = limits.difference_for(View.ANTERIOR)
    stress_limits = limits.for_view(View.ANTERIOR, State.STRESS_EXERCISE)
    assert diff is not None
    assert stress_limits is not None
    assert diff.state == "stress-rest"
    assert diff.n_studies == 40
    # √2 × 0.02 for the pair, against ≈ 0.1 between patients.
    assert float(np.median(diff.sd)) == pytest.approx(0.028, abs=0.006)
    assert float(np.median(stress_limits.sd)) > 0.08
    again = read_limits(write_limits(limits, tmp_path / "paired.json"))
    again_diff = again.difference_for(View.ANTERIOR)
    assert again_diff is not None
    np.testing.assert_allclose(again_diff.sd, diff.sd, atol=1e-5)
    assert limits.difference_for(View.LAO) is None
    # The file says how its differences were taken; a file without it (built before the
    # rest profile was scaled) is used with the unscaled difference.
    assert again.difference_scale_quantile == DIFFERENCE_SCALE_QUANTILE
    doc = limits.to_json()
    del doc["provenance"]["difference_scale_quantile"]
    assert parse_limits(doc).difference_scale_quantile is None


def test_build_limits_refuses_too_few_studies_and_other_tracers() -> None:
    few = [(View.ANTERIOR, State.REST, _profile(np.ones(N)))] * 3
    with pytest.raises(InvalidInputError, match="only 3 normal ANT rest"):
        build_limits(few, name="t", tracer=Tracer.TL201, sex=Sex.MALE,
                     params=ProfileParams(), source="x")
    with pytest.raises(InvalidInputError, match="red blood cells"):
        build_limits(few, name="t", tracer=Tracer.TC99M_RED_CELLS, sex=Sex.MALE,
                     params=ProfileParams(), source="x")


@pytest.mark.parametrize(("content", "problem"), [
    ("not json", "not JSON"),
    (json.dumps({"schema": "other"}), "schema"),
    (json.dumps({"schema": SCHEMA, "n_angles": 60, "sex": "M", "tracer_group": "tc99m",
                 "views": [{"view": "ANT", "state": "rest", "n_studies": 3,
                            "mean": [1.0] * 59, "sd": [0.1] * 59}]}), "60 values"),
    (json.dumps({"schema": SCHEMA, "n_angles": 2, "sex": "M", "tracer_group": "tc99m",
                 "views": [{"view": "ANT", "state": "rest", "n_studies": 3,
                            "mean": [1.0, 1.0], "sd": [0.1, -0.1]}]}), "non-positive"),
    (json.dumps({"schema": SCHEMA, "sex": "M"}), "missing or invalid"),
])
def test_bad_limits_files_are_named(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=problem) as info:
        read_limits(path)
    assert str(path) in str(info.value)


def test_view_angle_range_round_trips_and_a_bad_one_is_named(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    profiles = [(view, State.STRESS_EXERCISE, _profile(0.8 + rng.normal(0, 0.05, N)))
                for _ in range(12) for view in (View.ANTERIOR, View.LAO)]
    limits = build_limits(profiles, name="t", tracer=Tracer.TL201, sex=Sex.MALE,
                          params=ProfileParams(), source="unit test",
                          view_angle_ranges_deg={"LAO": (40, 50)})
    angles = {v.view: v.view_angle_range_deg for v in limits.views}
    assert angles == {"ANT": None, "LAO": (40.0, 50.0)}
    again = read_limits(write_limits(limits, tmp_path / "a.json"))
    assert {v.view: v.view_angle_range_deg for v in again.views} == angles
    doc = json.loads((tmp_path / "a.json").read_text())
    doc["views"][1]["view_angle_range_deg"] = [50, 40]
    (tmp_path / "b.json").write_text(json.dumps(doc))
    with pytest.raises(InvalidInputError, match="LAO/stress: view_angle_range_deg must be"):
        read_limits(tmp_path / "b.json")


def test_builtin_limits_cover_both_tracers_and_sexes() -> None:
    found = {(lim.tracer_group, lim.sex) for lim in builtin_limits()}
    assert found == {(g, s) for g in ("tc99m", "tl201") for s in (Sex.MALE, Sex.FEMALE)}
    for lim in builtin_limits():
        assert {(v.view, v.state) for v in lim.views} == {
            (view, state) for view in ("ANT", "LAO", "LLAT")
            for state in ("stress", "rest", "stress-rest")}
        assert all(v.n_studies >= 20 for v in lim.views)
        # Simulated at LAO 45°; anterior and left lateral have no recorded angle.
        assert {v.view: v.view_angle_range_deg for v in lim.views} == {
            "ANT": None, "LAO": (45.0, 45.0), "LLAT": None}


def test_defect_runs_wrap_around_and_drop_isolated_points() -> None:
    below = np.zeros(12, dtype=bool)
    below[[0, 1, 11, 5, 8, 9]] = True
    runs = defect_runs(below, 3)
    assert np.flatnonzero(runs).tolist() == [0, 1, 11]
    assert defect_runs(np.ones(5, dtype=bool), 3).all()
    assert not defect_runs(np.zeros(5, dtype=bool), 1).any()


def _limits() -> ViewLimits:
    return ViewLimits("LAO", "stress", np.full(N, 0.8), np.full(N, 0.05), 30)


def test_score_view_grades_depth_and_ignores_noise() -> None:
    values = np.full(N, 0.8)
    values[3] = 0.5  # one point: noise, not a defect
    result = score_view(View.LAO, _profile(values), _limits())
    assert result.extent_percent == 0
    assert all(s.score == 0 for s in result.segments)
    # 40% below the normal mean over the inferoapical arc (135–225°): LAO-3 severely reduced.
    values = np.full(N, 0.8)
    arc = (ANGLES >= 135) & (ANGLES < 225)
    values[arc] = 0.8 * 0.6
    result = score_view(View.LAO, _profile(values), _limits())
    scores = {s.segment.key: s.score for s in result.segments}
    assert scores == {"LAO-1": 0, "LAO-2": 0, "LAO-3": 3, "LAO-4": 0, "LAO-5": 0}
    assert result.extent_percent == pytest.approx(100 * arc.sum() / N)
    assert result.mean_depth_percent == pytest.approx(40.0)
    lower = 0.8 - 2.5 * 0.05
    assert result.summed_deficit == pytest.approx(100 * arc.sum() * (lower - 0.48))


def test_deeper_profile_defect_never_scores_lower() -> None:
    arc = (ANGLES >= 20) & (ANGLES < 140)
    previous = (-1, -1.0)
    for depth in np.linspace(0, 0.7, 15):
        values = np.full(N, 0.8)
        values[arc] = 0.8 * (1 - depth)
        r = score_view(View.LAO, _profile(values), _limits(), ScoringParams())
        now = (sum(s.score for s in r.segments), r.summed_deficit)
        assert now[0] >= previous[0]
        assert now[1] >= previous[1]
        previous = now


def test_orientation_differences_do_not_widen_the_limits() -> None:
    """Normals whose hearts are rotated by up to ±12°: the limits stay as narrow as the
    noise, and a rotated normal profile is not called a defect."""
    rng = np.random.default_rng(3)
    template = 0.6 + 0.35 * np.cos(np.radians(ANGLES - 120))  # steep flanks
    rotated = [np.roll(template, int(rng.integers(-2, 3))) + rng.normal(0, 0.02, N)
               for _ in range(60)]
    limits = build_limits([(View.ANTERIOR, State.REST, _profile(v)) for v in rotated],
                          name="t", tracer=Tracer.TL201, sex=Sex.MALE,
                          params=ProfileParams(), source="unit test")
    assert limits.views[0].sd.max() < 0.035
    unaligned = build_limits([(View.ANTERIOR, State.REST, _profile(v)) for v in rotated],
                             name="t", tracer=Tracer.TL201, sex=Sex.MALE,
                             params=ProfileParams(), source="unit test", alignment_max_deg=0,
                             sd_window_deg=0)
    assert unaligned.views[0].sd.max() > 0.05
    patient = np.roll(template, -2) + rng.normal(0, 0.02, N)
    result = score_view(View.ANTERIOR, _profile(patient), limits.views[0])
    assert result.rotation_deg == pytest.approx(12.0)
    assert result.extent_percent == 0


def test_pooling_the_sd_lifts_its_chance_lows_and_keeps_its_peaks() -> None:
    """30 normals with a true SD of 0.05 everywhere but a broad 0.10 band and a narrow
    0.15 peak (two angles): the SD pooled over 30° never falls below the angle's own
    estimate, keeps the level, the band and the peak, and is far less often well below
    the truth by chance (the per-angle SD's relative standard error is 1/√58 ≈ 13%)."""
    rng = np.random.default_rng(5)
    true_sd = np.where((ANGLES >= 120) & (ANGLES < 240), 0.10, 0.05)
    true_sd[[50, 51]] = 0.15
    shape = 0.7 + 0.2 * np.cos(np.radians(ANGLES))
    inside = (ANGLES >= 138) & (ANGLES < 222)  # away from the band's edges
    outside = ((ANGLES < 102) | (ANGLES >= 258)) & ~np.isin(np.arange(N), range(47, 55))
    lows = {0.0: 0, 30.0: 0}
    for _ in range(20):
        profiles = [(View.LAO, State.REST, _profile(shape + rng.normal(0, true_sd)))
                    for _ in range(30)]
        sd = {}
        for window in lows:
            (v,) = build_limits(profiles, name="t", tracer=Tracer.TL201, sex=Sex.MALE,
                                params=ProfileParams(), source="unit test",
                                alignment_max_deg=0, sd_window_deg=window,
                                tail_probability=None).views
            sd[window] = v.sd
            lows[window] += int(np.sum(v.sd < 0.85 * true_sd))
        assert np.all(sd[30.0] >= sd[0.0])
        assert np.median(sd[30.0][inside]) == pytest.approx(0.10, rel=0.12)
        assert np.median(sd[30.0][outside]) == pytest.approx(0.05, rel=0.12)
        # The narrow peak keeps its own estimate and stands out of its surroundings.
        np.testing.assert_array_equal(sd[30.0][[50, 51]], sd[0.0][[50, 51]])
        assert sd[30.0][[50, 51]].mean() > 1.6 * np.median(sd[30.0][outside])
    assert lows[30.0] < 0.3 * lows[0.0]
    # The window is recorded in the file's provenance.
    limits = build_limits(profiles, name="t", tracer=Tracer.TL201, sex=Sex.MALE,
                          params=ProfileParams(), source="unit test", sd_window_deg=30.0)
    assert limits.provenance["sd_window_deg"] == 30.0


def test_smooth_sd_keeps_a_flat_sd_and_ignores_windows_below_two_points() -> None:
    flat = np.full(N, 0.07)
    np.testing.assert_allclose(smooth_sd(flat, 30.0), flat)
    bumpy = np.where(np.arange(N) % 2 == 0, 0.04, 0.08)
    np.testing.assert_array_equal(smooth_sd(bumpy, 6.0), bumpy)
    pooled = smooth_sd(bumpy, 30.0)  # 5 points: 3 of one kind, 2 of the other
    low = bumpy == 0.04
    # sqrt((3 × 0.04² + 2 × 0.08²) / 5) at the lows; the highs keep their own 0.08.
    np.testing.assert_allclose(pooled[low], np.sqrt((3 * 0.04**2 + 2 * 0.08**2) / 5))
    np.testing.assert_allclose(pooled[~low], 0.08)
    np.testing.assert_array_equal(smooth_sd(bumpy, 12.0), bumpy)  # 2 points → 1 (odd)


def _smooth_noise(rng: np.random.Generator, n_rows: int, sd: float) -> np.ndarray:
    """Gaussian profiles whose neighbouring angles vary alike (as a smoothed image's do)."""
    raw = rng.normal(0.0, 1.0, (n_rows, N))
    kernel = np.ones(5) / np.sqrt(5.0)  # unit variance after the circular moving sum
    padded = np.concatenate([raw[:, -2:], raw, raw[:, :2]], axis=1)
    return sd * np.stack([np.convolve(row, kernel, mode="valid") for row in padded])


def _heavy_tailed(rng: np.random.Generator, n_rows: int) -> np.ndarray:
    """Normal profiles where one patient in twenty has a shadow over 60° (a large breast):
    the population's lower tail is heavier than its SD says."""
    shape = 0.7 + 0.2 * np.cos(np.radians(ANGLES))
    rows = shape + _smooth_noise(rng, n_rows, 0.04)
    shadow = (ANGLES >= 120) & (ANGLES < 180)
    rows[rng.random(n_rows) < 0.05] -= 0.3 * shadow
    return rows


def test_tail_scale_calibrates_the_limits_to_a_new_patients_tail() -> None:
    rng = np.random.default_rng(0)
    gaussian = 0.7 + _smooth_noise(rng, 60, 0.05)
    # Gaussian normals: only the prediction-interval widening of 60 studies (a few %).
    assert 1.0 <= tail_scale(gaussian, 0.0) < 1.1
    normals = _heavy_tailed(rng, 120)
    scale = tail_scale(normals, 30.0)
    assert scale > 1.15
    profiles = [(View.ANTERIOR, State.STRESS_EXERCISE, _profile(row)) for row in normals]
    def build(tail: float | None) -> NormalLimits:
        return build_limits(profiles, name="t", tracer=Tracer.TL201, sex=Sex.MALE,
                            params=ProfileParams(), source="unit test", alignment_max_deg=0,
                            tail_probability=tail)

    (plain,) = build(None).views
    limits = build(0.01)
    (calibrated,) = limits.views
    assert calibrated.tail_scale == pytest.approx(scale)
    np.testing.assert_allclose(calibrated.sd, scale * plain.sd)
    # New patients from the same population fall below mean − 2.33·SD (a Gaussian's 1%)
    # about 1% of the time with the calibrated limits, half as often again or more with
    # the SD as measured.
    new = _heavy_tailed(rng, 4000)
    below = {name: float(np.mean(new < v.mean - 2.326 * v.sd))
             for name, v in (("plain", plain), ("calibrated", calibrated))}
    assert below["plain"] > 0.013
    assert 0.003 < below["calibrated"] < 0.011
    assert limits.provenance["tail_probability"] == 0.01
    assert plain.tail_scale == 1.0
    assert limits.to_json()["views"][0]["sd_tail_scale"] == pytest.approx(scale, abs=1e-4)
    assert parse_limits(limits.to_json()).views[0].tail_scale == pytest.approx(scale, abs=1e-4)
    with pytest.raises(ValueError, match="within"):
        tail_scale(normals, 30.0, probability=0.7)


def test_limits_record_the_normals_counting_noise_and_read_it_back(tmp_path: Path) -> None:
    """The limits keep the root mean square of the normals' noise, per angle, aligned as
    their profiles are; the paired difference's is the two images' noise combined."""
    rng = np.random.default_rng(3)
    shape = 0.7 + 0.2 * np.cos(np.radians(ANGLES))
    noise_levels = rng.uniform(0.01, 0.04, 30)
    profiles, pairs = [], []
    for level in noise_levels:
        stress = _profile(shape + rng.normal(0, 0.05, N), np.full(N, level))
        rest = _profile(shape + rng.normal(0, 0.05, N), np.full(N, 2 * level))
        profiles += [(View.LAO, State.STRESS_EXERCISE, stress), (View.LAO, State.REST, rest)]
        pairs.append((View.LAO, stress, rest))
    limits = build_limits(profiles, name="t", tracer=Tracer.TC99M_SESTAMIBI, sex=Sex.MALE,
                          params=ProfileParams(), source="unit test", pairs=pairs)
    stress_limits = limits.for_view(View.LAO, State.STRESS_EXERCISE)
    rest_limits = limits.for_view(View.LAO, State.REST)
    diff = limits.difference_for(View.LAO)
    assert stress_limits is not None
    assert rest_limits is not None
    assert diff is not None
    rms = float(np.sqrt(np.mean(noise_levels ** 2)))
    np.testing.assert_allclose(stress_limits.noise_sd, rms, rtol=1e-9)
    np.testing.assert_allclose(rest_limits.noise_sd, 2 * rms, rtol=1e-9)
    # The rest noise is scaled with the rest profile (each pair's own scale).
    registered = [np.roll(re.values, difference_shifts(
        st.values, re.values, stress_limits.mean, stress_limits.alignment_max_deg)[0])
        for _, st, re in pairs]
    scales = np.array([difference_scale(st.values, r, DIFFERENCE_SCALE_QUANTILE)
                       for (_, st, _), r in zip(pairs, registered, strict=True)])
    # The upper quartile of two noisy profiles' ratios lies a little above 1.
    assert scales.min() > 1.0
    assert scales.max() < 1.15
    np.testing.assert_allclose(
        diff.noise_sd, np.sqrt(np.mean(noise_levels ** 2 * (1 + 4 * scales ** 2))), rtol=1e-9)
    again = read_limits(write_limits(limits, tmp_path / "noise.json"))
    for before, after in zip(limits.views, again.views, strict=True):
        np.testing.assert_allclose(after.noise_sd, before.noise_sd, atol=1e-5)
    # One normal without a noise estimate (an image that did not hold counts): none kept.
    mixed = [*profiles, (View.LAO, State.STRESS_EXERCISE, _profile(shape))]
    unknown = build_limits(mixed, name="t", tracer=Tracer.TC99M_SESTAMIBI, sex=Sex.MALE,
                           params=ProfileParams(), source="unit test")
    assert unknown.for_view(View.LAO, State.STRESS_EXERCISE).noise_sd is None
    assert "noise_sd" not in unknown.to_json()["views"][1]


def test_a_bad_noise_sd_in_a_limits_file_is_named(tmp_path: Path) -> None:
    doc = ViewLimits("LAO", "stress", np.full(N, 0.8), np.full(N, 0.05), 30)
    limits = NormalLimits("t", "tc99m", Sex.MALE, N, (doc,))
    content = limits.to_json()
    content["views"][0]["noise_sd"] = [-0.01] * N
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(content))
    with pytest.raises(InvalidInputError, match=r"bad.json.*LAO/stress: noise_sd must hold 60"):
        read_limits(path)


def test_widened_sd_adds_only_the_noise_in_excess_of_the_normals() -> None:
    limits = ViewLimits("LAO", "stress", np.full(N, 0.8), np.full(N, 0.05), 30,
                        noise_sd=np.full(N, 0.02))
    np.testing.assert_allclose(limits.widened_sd(np.full(N, 0.02)), 0.05)
    np.testing.assert_allclose(limits.widened_sd(np.full(N, 0.01)), 0.05)  # never narrower
    np.testing.assert_allclose(limits.widened_sd(np.full(N, 0.04)),
                               np.sqrt(0.05 ** 2 + 0.04 ** 2 - 0.02 ** 2))
    np.testing.assert_allclose(limits.widened_sd(None), 0.05)
    old_file = ViewLimits("LAO", "stress", np.full(N, 0.8), np.full(N, 0.05), 30)
    np.testing.assert_allclose(old_file.widened_sd(np.full(N, 0.04)), 0.05)


def test_a_noisier_profile_is_compared_with_wider_limits() -> None:
    """A dip that crosses the limits of a profile as noisy as the normals stays inside
    the limits widened for a profile with three times their noise; the switch restores
    the unwidened comparison."""
    limits = ViewLimits("LAO", "stress", np.full(N, 0.8), np.full(N, 0.05), 30,
                        noise_sd=np.full(N, 0.02))
    values = np.full(N, 0.8)
    arc = (ANGLES >= 135) & (ANGLES < 225)
    values[arc] = 0.8 - 2.8 * 0.05  # below mean − 2.5 SD, above mean − 2.5 × widened SD
    as_noisy = score_view(View.LAO, _profile(values, np.full(N, 0.02)), limits)
    noisier = score_view(View.LAO, _profile(values, np.full(N, 0.06)), limits)
    switched_off = score_view(View.LAO, _profile(values, np.full(N, 0.06)), limits,
                              ScoringParams(noise_widening=False))
    assert as_noisy.extent_percent > 0
    assert switched_off.extent_percent > 0
    assert noisier.extent_percent == 0
    assert noisier.sd_used is not None
    np.testing.assert_allclose(noisier.sd_used, np.sqrt(0.05 ** 2 + 0.06 ** 2 - 0.02 ** 2))
    np.testing.assert_allclose(switched_off.sd_used, 0.05)
