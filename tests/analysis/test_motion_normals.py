"""Wall-motion normals files: built, written, read, refused, and used by the grading."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from factories import HEADER, PATIENT, beating_ring_series
from planarmpi import write_nm
from planarmpi.analysis.gated_perfusion import analyze_gated_perfusion
from planarmpi.analysis.motion_normals import (
    SEGMENTS,
    MotionMethod,
    SegmentNormal,
    WallMotionNormals,
    build_wall_motion_normals,
    builtin_wall_motion_normals,
    motion_outliers,
    read_wall_motion_normals,
    write_wall_motion_normals,
)
from planarmpi.analysis.pipeline import (
    AnalysisOptions,
    analyze_study,
    normal_wall_motion,
    read_normals_file,
    site_options,
    with_wall_motion_normals,
)
from planarmpi.analysis.wall_motion import builtin_normals
from planarmpi.errors import InvalidInputError
from planarmpi.io.reader import read_studies


def _samples() -> list[dict[str, tuple[float, float | None]]]:
    rng = np.random.default_rng(3)
    return [{k: (float(20 + i + rng.normal(0, 3)), float(1 + 0.1 * i)) for i, k in
             enumerate(SEGMENTS)} for _ in range(12)]


def test_build_takes_each_segments_mean_sd_and_rms_noise() -> None:
    samples = _samples()
    normals = build_wall_motion_normals(samples, MotionMethod.GATED_PERFUSION, name="site",
                                        source="twelve", min_studies=12)
    for key in SEGMENTS:
        values = np.array([s[key][0] for s in samples])
        noise = np.array([s[key][1] for s in samples])
        seg = normals.segments[key]
        assert seg.mean_percent == pytest.approx(values.mean())
        assert seg.sd_percent == pytest.approx(values.std(ddof=1))
        assert seg.measurement_sd_percent == pytest.approx(math.sqrt(np.mean(noise ** 2)))
        assert seg.n == 12
    assert normals.mean_sd()["LAO-3"] == (normals.segments["LAO-3"].mean_percent,
                                          normals.segments["LAO-3"].sd_percent)


def test_build_leaves_out_non_finite_values_and_refuses_too_few() -> None:
    samples = _samples()
    samples[0] = {**samples[0], "LAO-2": (math.nan, None)}
    normals = build_wall_motion_normals(samples, MotionMethod.GATED_PERFUSION, name="s",
                                        min_studies=11)
    assert normals.segments["LAO-2"].n == 11
    assert normals.segments["LAO-1"].n == 12
    with pytest.raises(InvalidInputError, match=r"LAO-2: measured in 11 of 12 .* at least 12"):
        build_wall_motion_normals(samples, MotionMethod.GATED_PERFUSION, name="s",
                                  min_studies=12)
    flat = [{k: (25.0, None) for k in SEGMENTS}] * 10
    with pytest.raises(InvalidInputError, match="does not vary"):
        build_wall_motion_normals(flat, MotionMethod.GATED_BLOOD_POOL, name="s")


def test_an_abnormal_heart_among_normals_is_the_outlier() -> None:
    # 12 normals spread as a Gaussian's quantiles (SD 3%), in another order per segment.
    from statistics import NormalDist

    rng = np.random.default_rng(5)
    spread = [3.0 * NormalDist().inv_cdf((j + 0.5) / 12) for j in range(12)]
    columns = {k: rng.permutation(spread) for k in SEGMENTS}
    samples = {f"s{j}": {k: (25.0 + float(columns[k][j]), 1.0) for k in SEGMENTS}
               for j in range(12)}
    assert motion_outliers(samples) == {}
    values = np.array([s["LAO-3"][0] for s in samples.values()])
    akinetic = float(values.mean() - 8 * values.std(ddof=1))
    samples["akinetic"] = {**samples["s0"], "LAO-3": (akinetic, 1.0)}
    samples["vigorous"] = {**samples["s1"], "LAO-2": (99.0, 1.0)}  # high is not abnormal
    samples["failed"] = {**samples["s2"], "LAO-5": (-40.0, 1.0)}
    out = motion_outliers(samples)
    assert list(out) == ["failed", "akinetic"]  # the lowest first; neither hides the other
    assert out["akinetic"].startswith(f"LAO-3 {akinetic:.1f}% lies ")
    assert "SDs below the other normals' mean" in out["akinetic"]
    lies = float(out["akinetic"].split(" lies ")[1].split(" SDs")[0])
    assert "akinetic" in motion_outliers(samples, z=lies - 0.1)
    assert "akinetic" not in motion_outliers(samples, z=lies + 0.1)
    few = {k: samples[k] for k in ("s0", "s1", "s2", "akinetic")}
    assert motion_outliers(few) == {}  # too few to judge


def test_blood_pool_samples_have_no_noise() -> None:
    samples = [{k: (v, None) for k, (v, _) in s.items()} for s in _samples()]
    normals = build_wall_motion_normals(samples, MotionMethod.GATED_BLOOD_POOL, name="bp")
    assert normals.noise() == {}
    assert "measurement_sd_percent" not in json.dumps(normals.to_json())


def test_written_file_reads_back_equal(tmp_path: Path) -> None:
    normals = build_wall_motion_normals(_samples(), MotionMethod.GATED_PERFUSION,
                                        name="our normals", source="twelve studies")
    path = write_wall_motion_normals(normals, tmp_path / "wm.json")
    back = read_wall_motion_normals(path)
    assert back.segments == normals.segments
    assert (back.name, back.method, back.source) == ("our normals",
                                                     MotionMethod.GATED_PERFUSION,
                                                     "twelve studies")
    assert back.describe()["path"] == str(path)
    assert isinstance(read_normals_file(path), WallMotionNormals)


def _doc() -> dict:
    return builtin_wall_motion_normals(MotionMethod.GATED_PERFUSION).to_json()


@pytest.mark.parametrize(("change", "problem"), [
    (lambda d: {**d, "schema": "planarmpi/wall-motion-normals@9"}, "schema must be"),
    (lambda d: {**d, "method": "spect"}, "method must be one of"),
    (lambda d: {k: v for k, v in d.items() if k != "method"}, "no method"),
    (lambda d: {**d, "segments": {k: v for k, v in d["segments"].items() if k != "LAO-4"}},
     "no normals for segment(s) LAO-4"),
    (lambda d: {**d, "segments": {**d["segments"], "ANT-1": d["segments"]["LAO-1"]}},
     "unknown segment(s) ANT-1"),
    (lambda d: {**d, "segments": {**d["segments"], "LAO-2": {
        **d["segments"]["LAO-2"], "sd_percent": -1}}}, "LAO-2: sd_percent must be positive"),
    (lambda d: {**d, "segments": {**d["segments"], "LAO-3": {"mean_percent": 20}}},
     "LAO-3: missing or invalid field"),
    (lambda d: {**d, "segments": {**d["segments"], "LAO-5": {
        **d["segments"]["LAO-5"], "n": 1}}}, "LAO-5: n must be at least 2"),
])
def test_a_bad_file_is_named_with_its_problem(tmp_path: Path, change, problem: str) -> None:
    path = tmp_path / "site-wm.json"
    path.write_text(json.dumps(change(_doc())))
    with pytest.raises(InvalidInputError) as err:
        read_normals_file(path)
    assert str(err.value).startswith(f"{path}: not a usable wall-motion normals file")
    assert problem in str(err.value)


def test_not_json_is_named(tmp_path: Path) -> None:
    path = tmp_path / "wm.json"
    path.write_bytes(b"\xff\x00{")
    with pytest.raises(InvalidInputError, match="not JSON"):
        read_wall_motion_normals(path)
    with pytest.raises(InvalidInputError, match=f"{path}: not a usable normals file"):
        read_normals_file(path)


def test_builtin_files_name_their_method_and_match_the_grading() -> None:
    bp = builtin_wall_motion_normals(MotionMethod.GATED_BLOOD_POOL)
    gp = builtin_wall_motion_normals(MotionMethod.GATED_PERFUSION)
    assert bp.method is MotionMethod.GATED_BLOOD_POOL
    assert gp.method is MotionMethod.GATED_PERFUSION
    assert bp.mean_sd() == builtin_normals()
    assert set(gp.noise()) == set(SEGMENTS)  # the gated-perfusion normals carry their noise
    options = AnalysisOptions()
    assert options.gated_perfusion.wall_motion.normals_source["name"] == gp.name
    assert options.blood_pool.wall_motion.normals_source["name"] == bp.name


def test_two_files_for_one_method_are_refused(tmp_path: Path) -> None:
    normals = build_wall_motion_normals(_samples(), MotionMethod.GATED_PERFUSION, name="a")
    a = write_wall_motion_normals(normals, tmp_path / "a.json")
    b = write_wall_motion_normals(replace(normals, name="b"), tmp_path / "b.json")
    with pytest.raises(InvalidInputError, match=r"b\.json: a second wall-motion normals file "
                                                r"for gated-perfusion .*a\.json"):
        site_options([a, b])


def _normals_around(measured: dict[str, float], offset: float, sd: float,
                    noise: float | None) -> WallMotionNormals:
    return WallMotionNormals("test normals", MotionMethod.GATED_PERFUSION, {
        k: SegmentNormal(measured[k] + offset, sd, 30, noise) for k in SEGMENTS},
        source="unit test", path="test.json")


def test_site_normals_grade_the_study_and_are_named(tmp_path: Path) -> None:
    """The same study read normal against normals like it and hypokinetic against normals
    that move 15 points more; the limit each segment was graded against is the file's
    mean − 2 × √(SD² + the study's excess noise²), and the result names the file."""
    series = beating_ring_series(7, study_uid=HEADER.study_instance_uid)
    write_nm(tmp_path / "gated.dcm", [series], patient=PATIENT, header=HEADER)
    (study,) = read_studies(tmp_path).studies
    plain = analyze_gated_perfusion(study.gated[0])
    measured = {w.segment: w.shortening_percent for w in plain.wall_motion}
    noise = {w.segment: w.shortening_sd_percent for w in plain.wall_motion}

    alike = _normals_around(measured, 0.0, 3.0, 0.0)
    faster = _normals_around(measured, 15.0, 3.0, 0.0)
    for normals, grade in ((alike, "normal"), (faster, "hypokinetic")):
        result = analyze_study(study, options=with_wall_motion_normals(AnalysisOptions(),
                                                                       normals)).to_dict()
        (entry,) = [f for f in result["function"] if f["method"] == "gated-perfusion"]
        assert entry["wall_motion_normals"]["name"] == "test normals"
        assert entry["wall_motion_normals"]["path"] == "test.json"
        for w in result["wall_motion"]:
            seg = normals.segments[w["segment"]]
            expected = seg.mean_percent - 2.0 * math.hypot(seg.sd_percent, noise[w["segment"]])
            assert w["normal_limit_percent"] == pytest.approx(expected)
            assert w["grade"] == grade
    # Without their noise the site's limits are never widened.
    quiet = replace(_normals_around(measured, 15.0, 3.0, None), name="no noise")
    options = with_wall_motion_normals(AnalysisOptions(), quiet)
    assert options.gated_perfusion.wall_motion.normals_noise == {}
    result = analyze_study(study, options=options).to_dict()
    for w in result["wall_motion"]:
        seg = quiet.segments[w["segment"]]
        assert w["normal_limit_percent"] == pytest.approx(seg.mean_percent - 2 * seg.sd_percent)


def test_a_blood_pool_study_is_measured_and_graded_against_site_normals(
        muga_cases: dict) -> None:
    _, truth = muga_cases["normal"]
    (study,) = read_studies(truth["folder"]).studies
    sample = normal_wall_motion(study, MotionMethod.GATED_BLOOD_POOL)
    result = analyze_study(study).to_dict()
    assert sample == {w["segment"]: (w["regional_ef_percent"], None)
                      for w in result["wall_motion"]}
    (entry,) = [f for f in result["function"] if f["method"] == "gated-blood-pool"]
    assert entry["wall_motion_normals"]["name"] == builtin_wall_motion_normals(
        MotionMethod.GATED_BLOOD_POOL).name
    # Normals whose regional EF is 40 points above this heart's grade every segment down.
    higher = WallMotionNormals("site blood pool", MotionMethod.GATED_BLOOD_POOL, {
        k: SegmentNormal(v + 40.0, 4.0, 25) for k, (v, _) in sample.items()})
    regraded = analyze_study(study, options=with_wall_motion_normals(AnalysisOptions(),
                                                                     higher)).to_dict()
    (entry,) = [f for f in regraded["function"] if f["method"] == "gated-blood-pool"]
    assert entry["wall_motion_normals"]["name"] == "site blood pool"
    assert all(w["grade"] != "normal" for w in regraded["wall_motion"])
    assert all(w["grade"] == "normal" for w in result["wall_motion"])
    with pytest.raises(InvalidInputError, match="no gated series of a perfusion agent"):
        normal_wall_motion(study, MotionMethod.GATED_PERFUSION)
