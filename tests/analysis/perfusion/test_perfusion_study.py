"""Perfusion analysis of simulated studies against the phantom's ground truth."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from factories import acquisition, ring_image, static_perfusion_study
from planarmpi import read_studies
from planarmpi.analysis.perfusion.normals import builtin_limits
from planarmpi.analysis.perfusion.params import PerfusionParams
from planarmpi.analysis.perfusion.rings import camera_angle_deg
from planarmpi.analysis.perfusion.study import analyze_perfusion
from planarmpi.analysis.perfusion.verdict import paired_views
from planarmpi.analysis.perfusion.views import view_limits_for
from planarmpi.analysis.pipeline import analyze_study
from planarmpi.model import SeriesKind, Sex, State, StaticImage, Study, Tracer, View
from planarmpi.simulate import simulate_study
from planarmpi.simulate.phantom import Defect
from planarmpi.simulate.presets import random_normal_spec

Case = tuple[Study, dict[str, Any]]


def _report_text(section: dict[str, Any], findings: Sequence[Any] = ()) -> str:
    """The written report of a study with this perfusion section and QC findings, its
    whitespace collapsed."""
    import datetime as dt

    from planarmpi.report.model import build_report
    from planarmpi.report.render import render_text

    return " ".join(render_text(build_report(
        {"study_instance_uid": "1.2.3", "perfusion": section,
         "qc": {"status": "pass", "findings": [f.to_dict() for f in findings]}},
        clock=dt.datetime(2026, 6, 1))).split())


def _states(section: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["state"]: s for s in section["states"]}


def test_normal_study_is_normal(perfusion_cases: dict[str, Case]) -> None:
    study, _ = perfusion_cases["normal"]
    result = analyze_perfusion(study)
    assert result is not None
    section = result.section
    assert section["verdict"] == "normal"
    assert section["territories"] == []
    assert section["limits"]["tracer_group"] == "tc99m"
    assert section["limits"]["sex"] == "M"
    assert section["reversibility"]["overall"] == "none"
    assert section["reversibility"]["stress_induced_segments"] == []
    for state in section["states"]:
        assert {v["view"] for v in state["views"]} == {"ANT", "LAO", "LLAT"}
        for v in state["views"]:
            assert len(v["profile"]["values"]) == 60
            assert len(v["segments"]) == 5
    tid = section["reversibility"]["tid"]
    assert tid["ratio"] == pytest.approx(1.0, abs=0.08)
    assert not tid["abnormal"]


@pytest.mark.parametrize(("case", "territory", "kind"), [
    ("lad-ischemia", "LAD", "ischemia"),
    ("rca-scar", "RCA", "scar"),
    ("lcx-ischemia", "LCX", "ischemia"),
])
def test_defects_found_in_their_territory(perfusion_cases: dict[str, Case], case: str,
                                          territory: str, kind: str) -> None:
    study, truth = perfusion_cases[case]
    result = analyze_perfusion(study)
    assert result is not None
    section = result.section
    assert section["verdict"] == "abnormal"
    assert section["territories"][0] == territory
    assert section["territory_sources"][territory] == "stress"
    assert set(section["territory_sources"]) == set(section["territories"])
    assert section["reversibility"]["overall"] == kind
    stress = next(s for s in section["states"] if s["state"].startswith("stress"))
    true_extent = truth["perfusion"]["states"][stress["state"]]["defect_extent_percent"]
    # Profile extent (% of profile points) against myocardial extent (% of LV mass): the
    # bench measures their correlation (docs/validation.md); per study they may differ a lot
    # (a lateral wall seen edge-on spans a wide arc of the LAO profile).
    assert stress["extent_percent"] == pytest.approx(true_extent, abs=25)
    assert any(f.code == "PERFUSION_ABNORMAL" for f in result.findings)


@pytest.mark.parametrize(("case", "territory"), [("lad-ischemia", "LAD"),
                                              ("lcx-ischemia", "LCX")])
def test_paired_difference_finds_the_reversible_defect(perfusion_cases: dict[str, Case],
                                                       case: str, territory: str) -> None:
    study, _ = perfusion_cases[case]
    result = analyze_perfusion(study)
    assert result is not None
    rev = result.section["reversibility"]
    induced = rev["stress_induced_segments"]
    assert induced
    # The induced segments lie where the territory's projected signature is largest.
    from planarmpi.analysis.perfusion.territory import signatures

    sig = signatures()
    share = [sig[k][territory] / max(sig[k].values()) for k in induced]
    assert np.mean(share) > 0.7
    for view, paired in rev["paired_difference"].items():
        assert len(paired["difference"]) == 60
        assert len(paired["induced"]) == 60, view


def test_a_fixed_defect_shows_no_stress_induced_reduction(perfusion_cases: dict[str, Case]
                                                          ) -> None:
    study, _ = perfusion_cases["rca-scar"]
    result = analyze_perfusion(study)
    assert result is not None
    assert result.section["reversibility"]["stress_induced_segments"] == []
    # A real scar is seen at rest in more than one view: every fixed segment is corroborated.
    fixed = [g for g in result.section["reversibility"]["segments"]
             if g["classification"] in ("scar", "mixed") and g["stress_score"]]
    assert fixed
    assert all(g["corroborated_at_rest"] for g in fixed)


def test_paired_score_raises_a_hidden_ischaemia(perfusion_cases: dict[str, Case]) -> None:
    study, _ = perfusion_cases["lad-ischemia"]
    default = analyze_perfusion(study)
    assert default is not None
    stress = next(s for s in default.section["states"] if s["state"].startswith("stress"))
    # Thresholds just above the stress score alone: only the paired segments can cross them.
    above = stress["summed_score"] + 1
    strict = PerfusionParams(abnormal_summed_score=above, equivocal_summed_score=above)
    base = analyze_perfusion(study, params=replace(strict, paired_segment_score=0))
    paired = analyze_perfusion(study, params=replace(strict, paired_segment_score=4))
    assert base is not None
    assert paired is not None
    assert base.section["verdict"] == "normal"
    assert paired.section["verdict"] == "abnormal"
    assert "stress-induced" in paired.section["verdict_reasons"][-1]


def test_paired_views_needed_are_capped_by_the_views_compared() -> None:
    every = [f"{v}-{i}" for v in ("ANT", "LAO", "LLAT") for i in range(1, 6)]
    seen, compared, needed = paired_views(["LLAT-1", "LLAT-2"], ["LLAT-3"], every, 2)
    assert (seen, compared, needed) == ({"LLAT"}, {"ANT", "LAO", "LLAT"}, 2)
    seen, _, _ = paired_views(["LLAT-1"], {"ANT-4": 1}, every, 2)
    assert seen == {"ANT", "LLAT"}
    # A study of one view compared at stress and rest needs only that one.
    assert paired_views(["LLAT-1"], [], [f"LLAT-{i}" for i in range(1, 6)], 2)[2] == 1
    assert paired_views(["LLAT-1"], [], every, 1)[2] == 1


def test_a_stress_induced_reduction_in_one_view_alone_is_not_counted(
        perfusion_cases: dict[str, Case]) -> None:
    """The LAD ischaemia's lateral view (its stress − rest difference is reduced in the
    anterior wall, LLAT-1/2, its stress score there is 0) with a normal patient's anterior
    and LAO views: the paired segments lie in one view of three."""
    lad, _ = perfusion_cases["lad-ischemia"]
    normal, _ = perfusion_cases["normal"]
    uid = lad.study_instance_uid
    others = tuple(replace(s, acquisition=replace(s.acquisition, study_instance_uid=uid))
                   for s in normal.series if s.acquisition.view is not View.LEFT_LATERAL)
    study = replace(lad, series=others + tuple(
        s for s in lad.series if s.acquisition.view is View.LEFT_LATERAL))
    # Each paired segment weighs 2 here, so that the lateral view's two or three paired
    # segments would make the study abnormal if they were counted.
    weight = 2
    one_view = analyze_perfusion(study, params=PerfusionParams(
        paired_min_views=1, paired_segment_score=weight))
    default = analyze_perfusion(study, params=PerfusionParams(paired_segment_score=weight))
    assert one_view is not None
    assert default is not None
    induced = default.section["reversibility"]["stress_induced_segments"]
    assert induced
    assert {k.split("-")[0] for k in induced} == {"LLAT"}
    stress = next(s for s in default.section["states"] if s["state"].startswith("stress"))
    assert stress["summed_score"] + weight * len(induced) \
        >= PerfusionParams().abnormal_summed_score
    assert one_view.section["verdict"] == "abnormal"
    assert default.section["verdict"] != "abnormal"
    assert "1 of the 3 views compared" in default.section["verdict_reasons"][-1]
    # (The whole LAD study, its paired segments in all three views, counts them:
    # test_paired_score_raises_a_hidden_ischaemia, with the default paired_min_views.)


def test_camera_angle_is_the_recorded_one_for_an_oblique_view() -> None:
    base = acquisition(SeriesKind.STATIC, 2)  # LAO 45°
    assert camera_angle_deg(base) == 45.0
    assert camera_angle_deg(replace(base, view_angle_deg=60.0)) == 60.0
    assert camera_angle_deg(replace(base, view_angle_deg=None)) == 45.0
    assert camera_angle_deg(replace(base, view=View.RAO, view_angle_deg=30.0)) == -30.0
    assert camera_angle_deg(replace(base, view=View.LEFT_LATERAL, view_angle_deg=None)) == 90.0
    assert camera_angle_deg(replace(base, view=View.POSTERIOR, view_angle_deg=None)) is None


def test_view_limits_apply_only_near_the_normals_angles() -> None:
    (limits,) = [lim for lim in builtin_limits() if lim.tracer_group == "tc99m"
                 and lim.sex is Sex.MALE]
    lao = replace(acquisition(SeriesKind.STATIC, 2), state=State.STRESS_EXERCISE)
    for angle in (None, 40.0, 45.0, 50.0):
        found, problem = view_limits_for(limits, replace(lao, view_angle_deg=angle), 5.0)
        assert found is not None
        assert problem == ""
    found, problem = view_limits_for(limits, replace(lao, view_angle_deg=60.0), 5.0)
    assert found is None
    assert problem == ("LAO 60° lies outside the angles of the normal limits' LAO views "
                       "(45°, ± 5°)")
    assert view_limits_for(limits, replace(lao, view_angle_deg=60.0), 15.0)[0] is not None
    # Limits that did not record their normals' angles are used as before.
    unknown = replace(limits, views=tuple(replace(v, view_angle_range_deg=None)
                                          for v in limits.views))
    assert view_limits_for(unknown, replace(lao, view_angle_deg=60.0), 5.0)[0] is not None


def test_views_the_limits_do_not_hold_are_shown_not_compared(tmp_path: Path) -> None:
    """A simulated normal woman seen at LAO 60° (and RAO 30°): against the built-in LAO 45°
    limits her septum reads reduced; by default the view is not compared and the reader is
    told. The RAO view, for which no limits exist, is profiled and named, not scored."""
    spec = random_normal_spec(np.random.default_rng(1_300_003), 3, Sex.FEMALE,
                              Tracer.TC99M_SESTAMIBI)
    spec = replace(spec, states=(State.STRESS_EXERCISE,), gated_view=None,
                   static_views=("ANT", "LAO60", "LLAT", "RAO30"))
    simulate_study(spec, tmp_path, seed=1_300_003)
    (study,) = read_studies(tmp_path).studies
    default = analyze_perfusion(study)
    compared = analyze_perfusion(study, params=PerfusionParams(view_angle_tolerance_deg=20.0))
    assert default is not None
    assert compared is not None

    def lao(result: Any) -> dict[str, Any]:
        (view,) = [v for v in result.section["states"][0]["views"] if v["view"] == "LAO"]
        return dict(view)

    assert lao(default)["view_angle_deg"] == 60.0
    assert "segments" not in lao(default)
    assert any(f.code == "VIEW_ANGLE_OUTSIDE_LIMITS" and "LAO 60°" in f.message
               for f in default.findings)
    reduced = {g["segment"] for g in lao(compared)["segments"] if g["score"]}
    assert {"LAO-1", "LAO-2", "LAO-3"} <= reduced
    assert not any(f.code == "VIEW_ANGLE_OUTSIDE_LIMITS" for f in compared.findings)
    (rao,) = [v for v in default.section["states"][0]["views"] if v["view"] == "RAO"]
    assert "segments" not in rao
    assert any(f.code == "VIEW_WITHOUT_LIMITS" and "RAO 30° view" in f.message
               for f in default.findings)


def test_an_ischaemic_and_a_scarred_territory_read_mixed(tmp_path: Path) -> None:
    """A large reversible LAD defect beside a small fixed RCA one (the phantom's truth:
    mixed): the LAD's share of the summed score alone would call the study ischaemia."""
    study = static_perfusion_study(tmp_path, "lad-ischemia", 41,
                                   defects=(Defect("LAD", 0.55, 1.0, reversible=True),
                                            Defect("RCA", 0.5, 0.5, reversible=False)))
    result = analyze_perfusion(study)
    by_shares = analyze_perfusion(study, params=PerfusionParams(territory_reversibility=False))
    assert result is not None
    assert by_shares is not None
    reversibility = result.section["reversibility"]
    assert set(result.section["territories"]) == {"LAD", "RCA"}
    assert reversibility["territories"]["LAD"] == "ischemia"
    assert reversibility["territories"]["RCA"] in ("scar", "mixed")
    assert reversibility["overall"] == "mixed"
    assert by_shares.section["reversibility"]["overall"] == "ischemia"
    assert reversibility["overall_reason"].endswith("by the summed score alone: ischemia")


def test_lung_heart_ratio_matches_the_phantom(perfusion_cases: dict[str, Case]) -> None:
    for case in ("normal", "lad-ischemia"):
        study, truth = perfusion_cases[case]
        result = analyze_perfusion(study)
        assert result is not None
        for m in result.section["lung_heart_ratio"]:
            true = next(s["lung_heart_ratio"] for s in truth["states"]
                        if s["state"] == m["state"])
            assert m["value"] == pytest.approx(true, abs=0.06)
            assert m["upper_limit"] == 0.42


def _with_focus(study: Study, field_rc: list[int], fwhm_mm: float, times_max: float) -> Study:
    """``study`` with a hot Gaussian focus (an injection site, a marker) in the lung field
    of its anterior views, 25 mm inside the field's outer edge, ``times_max`` × the view's
    maximum; Poisson counts."""
    from dataclasses import replace

    from planarmpi.model import StaticImage, View

    rng = np.random.default_rng(5)
    series = []
    for s in study.series:
        if isinstance(s, StaticImage) and s.acquisition.view is View.ANTERIOR:
            pixels = np.asarray(s.pixels, dtype=float)
            spacing = s.acquisition.pixel_spacing_mm[0]
            r0, _, r1, c1 = field_rc
            yy, xx = np.mgrid[0:pixels.shape[0], 0:pixels.shape[1]]
            sigma = fwhm_mm / 2.355 / spacing
            blob = np.exp(-((yy - (r0 + r1) / 2) ** 2 + (xx - (c1 - 25 / spacing)) ** 2)
                          / (2 * sigma ** 2))
            hot = rng.poisson(times_max * pixels.max() * blob)
            s = replace(s, pixels=(pixels + hot).astype(np.asarray(s.pixels).dtype))
        series.append(s)
    return replace(study, series=tuple(series))


def test_a_hot_focus_in_the_lung_field_is_not_the_lung(perfusion_cases: dict[str, Case]) -> None:
    """An injection site or marker in the lung field: left out of the lung ROI, the ratio
    stays the lung's (it read 2–3 when the focus became the ROI), and the reader is told;
    a focus over most of the field leaves the ratio unmeasured, not wrong."""
    study, truth = perfusion_cases["normal"]
    clean = analyze_perfusion(study)
    assert clean is not None
    before = {m["state"]: m for m in clean.section["lung_heart_ratio"]}
    assert all(m["excluded_focus_pixels"] == 0 for m in before.values())
    assert "LUNG_FIELD_FOCUS" not in [f.code for f in clean.findings]
    field = next(iter(before.values()))["lung_field_rc"]
    for fwhm_mm, times_max in ((12.0, 0.5), (24.0, 3.0), (24.0, 20.0), (47.0, 3.0)):
        result = analyze_perfusion(_with_focus(study, field, fwhm_mm, times_max))
        assert result is not None
        for m in result.section["lung_heart_ratio"]:
            assert m["excluded_focus_pixels"] > 0, (fwhm_mm, times_max)
            assert m["value"] == pytest.approx(before[m["state"]]["value"], abs=0.02)
            true = next(s["lung_heart_ratio"] for s in truth["states"]
                        if s["state"] == m["state"])
            assert m["value"] == pytest.approx(true, abs=0.06)
            assert not m["abnormal"]
        codes = [f.code for f in result.findings]
        assert codes.count("LUNG_FIELD_FOCUS") == len(before)
        assert "HIGH_LUNG_HEART_RATIO" not in codes
    flooded = analyze_perfusion(_with_focus(study, field, 90.0, 20.0))
    assert flooded is not None
    for m in flooded.section["lung_heart_ratio"]:
        assert m["value"] is None
        assert "hot focus" in m["reason"]
        assert "of the lung field" in m["reason"]
    assert "HIGH_LUNG_HEART_RATIO" not in [f.code for f in flooded.findings]
    assert any("lung/heart ratio not measured" in f.message for f in flooded.findings)
    # The report says so: the ROI left the focus out, or the ratio was not measured.
    assert "left out of the lung ROI" in _report_text(result.section)
    assert "left out of the lung ROI" not in _report_text(clean.section)
    assert ("Lung/heart ratio (exercise stress) not measured: a hot focus"
            in _report_text(flooded.section))


def _with_box_edge_focus(study: Study, clean: dict[str, Any], side: str, times_max: float,
                         seed: int) -> Study:
    """``study`` with a Gaussian focus (8 mm σ) at ``times_max`` × each static view's
    maximum added on one side of that view's background box (as ``clean`` placed it)."""
    boxes = {(s["state"], v["view"]): v["background_box_rc"]
             for s in clean["states"] for v in s["views"]}
    rng = np.random.default_rng(seed)
    series = []
    for s in study.series:
        if isinstance(s, StaticImage):
            r0, r1, c0, c1 = boxes[(s.acquisition.state.value, s.acquisition.view.value)]
            row, col = {"top": (r0, (c0 + c1) / 2), "bottom": (r1 - 1, (c0 + c1) / 2),
                        "left": ((r0 + r1) / 2, c0), "right": ((r0 + r1) / 2, c1 - 1)}[side]
            pixels = np.asarray(s.pixels, dtype=float)
            sigma = 8.0 / s.acquisition.pixel_spacing_mm[0]
            yy, xx = np.mgrid[0:pixels.shape[0], 0:pixels.shape[1]]
            blob = times_max * pixels.max() * np.exp(
                -((yy - row) ** 2 + (xx - col) ** 2) / (2 * sigma ** 2))
            s = replace(s, pixels=(pixels + rng.poisson(blob)).astype(np.asarray(s.pixels).dtype))
        series.append(s)
    return replace(study, series=tuple(series))


@pytest.mark.parametrize("side", ["top", "left", "right", "bottom"])
def test_a_hot_focus_beside_the_heart_is_not_interpolated_under_it(
        perfusion_cases: dict[str, Case], side: str) -> None:
    """A focus as hot as the myocardium (a gut loop, an injection site) on the edge of every
    view's background region: Goris' interpolation carried it under the heart and read the
    normal abnormal (10 of 12 simulated normals, each side); it is left out, said, and the
    verdict stays the clean one."""
    study, _ = perfusion_cases["normal"]
    clean = analyze_perfusion(study)
    assert clean is not None
    assert clean.section["verdict"] == "normal"
    assert all(v["background_edge_foci"] == 0
               for s in clean.section["states"] for v in s["views"])
    focused = _with_box_edge_focus(study, clean.section, side, 1.0, 9)
    result = analyze_perfusion(focused)
    assert result is not None
    assert result.section["verdict"] == "normal"
    assert result.section["territories"] == []
    views = [v for s in result.section["states"] for v in s["views"]]
    assert all(v["background_edge_foci"] >= 1 for v in views)
    assert [f.code for f in result.findings].count("BACKGROUND_FOCUS_EXCLUDED") == len(views)
    # The report's image-quality section names it without lowering the grade.
    def quality(findings: list[Any]) -> str:
        text = _report_text(result.section, findings)
        return text[text.index("Image quality: "):]

    named = quality(list(result.findings))
    assert "BACKGROUND_FOCUS_EXCLUDED: " in named
    unnamed = quality([f for f in result.findings if f.code != "BACKGROUND_FOCUS_EXCLUDED"])
    assert "BACKGROUND_FOCUS_EXCLUDED" not in unnamed
    assert named.split(".")[0] == unnamed.split(".")[0]  # the same grade


def test_a_focus_much_hotter_than_the_heart_beside_it_does_not_draw_the_lv_outline(
        perfusion_cases: dict[str, Case]) -> None:
    """A focus three times the view's maximum above the background box (a gut loop, the
    stomach): in the left lateral views the ring search and the ridge ellipse took it in,
    the LV's long semi-axis grew from 29 to 43 mm and every lateral segment scored 4, so
    the normal read abnormal. With the focus left out of the outline (and only there) the
    outline and the verdict are the clean ones, and the reader is told."""
    study, _ = perfusion_cases["normal"]
    clean = analyze_perfusion(study)
    assert clean is not None
    result = analyze_perfusion(_with_box_edge_focus(study, clean.section, "top", 3.0, 3))
    assert result is not None
    assert result.section["verdict"] == "normal"

    def views(section: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
        return {(s["state"], v["view"]): v for s in section["states"] for v in s["views"]}

    before, after = views(clean.section), views(result.section)
    tamed = [k for k, v in after.items() if v["lv_hot_neighbour_pixels"] > 0]
    assert {view for _, view in tamed} >= {"LLAT"}
    for key, view in after.items():
        np.testing.assert_allclose(view["lv_semi_axes_mm"], before[key]["lv_semi_axes_mm"],
                                   rtol=0.15)
        np.testing.assert_allclose(view["lv_centre_rc"], before[key]["lv_centre_rc"], atol=2.0)
    assert all(v["lv_hot_neighbour_pixels"] == 0 for v in before.values())
    codes = [f.code for f in result.findings]
    assert codes.count("HOT_NEIGHBOUR_EXCLUDED") == len(tamed)
    text = _report_text(result.section, result.findings)
    assert "HOT_NEIGHBOUR_EXCLUDED: " in text[text.index("Image quality: "):]


def test_high_lung_uptake_is_measured_over_the_lung_not_the_mediastinum(tmp_path) -> None:
    """Tl-201 with lungs at 0.7–0.9 of the myocardial counts (the phantom's scatter-free
    ratio): the lung field beside the mediastinum reads it, abnormal (> 0.50, Wackers),
    within 25%; the ratio falls from stress to redistribution as in the phantom."""
    from factories import simulated_perfusion

    study, truth = simulated_perfusion(tmp_path, "lad-ischemia-high-lung", 62)
    result = analyze_perfusion(study)
    assert result is not None
    measured = {m["state"]: m for m in result.section["lung_heart_ratio"]}
    for state in truth["states"]:
        m = measured[state["state"]]
        assert m["value"] == pytest.approx(state["lung_heart_ratio"], rel=0.25)
        assert m["abnormal"]
        assert m["upper_limit"] == 0.50
    assert measured["stress-exercise"]["value"] > measured["redistribution"]["value"]
    # High lung uptake is the lung, not a hot focus to be left out.
    assert all(m["excluded_focus_pixels"] == 0 for m in measured.values())
    assert "HIGH_LUNG_HEART_RATIO" in [f.code for f in result.findings]
    # The report says it, and that the ratio depends on the heart rate reached.
    text = _report_text(result.section)
    assert "Increased lung uptake (lung/heart ratio" in text
    assert "heart-rate dependent" in text


def test_deeper_defect_never_lowers_severity(severity_series: list[tuple[float, Study]]) -> None:
    previous = (-1, -1.0)
    for severity, study in severity_series:
        result = analyze_perfusion(study)
        assert result is not None
        stress = result.section["states"][0]
        deficit = sum(v.get("summed_deficit", 0.0) for v in stress["views"])
        assert stress["summed_score"] >= previous[0], severity
        assert deficit >= previous[1] - 1e-9, severity
        previous = (stress["summed_score"], deficit)
    assert previous[0] >= 4  # the 70% defect is abnormal
    assert analyze_perfusion(severity_series[0][1]).section["verdict"] == "normal"  # type: ignore[union-attr]


def test_mirrored_file_gives_the_same_profile(perfusion_cases: dict[str, Case]) -> None:
    study, _ = perfusion_cases["normal"]
    image = study.statics[0]
    acq = replace(image.acquisition, patient_orientation=("R", "F"))
    mirrored = replace(image, acquisition=acq, pixels=np.ascontiguousarray(image.pixels[:, ::-1]))
    one = replace(study, series=(image,))
    two = replace(study, series=(mirrored,))
    a = analyze_perfusion(one)
    b = analyze_perfusion(two)
    assert a is not None
    assert b is not None
    pa = a.section["states"][0]["views"][0]["profile"]["values"]
    pb = b.section["states"][0]["views"][0]["profile"]["values"]
    np.testing.assert_allclose(pa, pb, atol=1e-9)
    assert any(f.code == "IMAGE_REORIENTED" for f in b.findings)


def test_low_counts_are_flagged_and_never_called_normal(perfusion_cases: dict[str, Case]) -> None:
    study, _ = perfusion_cases["normal"]
    scaled = replace(study, series=tuple(
        replace(s, pixels=np.random.default_rng(0).poisson(np.asarray(s.pixels) / 8.0))
        for s in study.statics))
    result = analyze_perfusion(scaled)
    assert result is not None
    assert any(f.code == "LOW_LV_COUNTS_PERFUSION" for f in result.findings)
    assert result.section["verdict"] != "normal"


def test_tid_from_rings_of_known_size() -> None:
    from planarmpi.analysis.perfusion.profiles import find_lv

    small = find_lv(ring_image(radii=(10.0, 8.0)), (3.2, 3.2))
    large = find_lv(ring_image(radii=(11.5, 9.2)), (3.2, 3.2))
    assert large.area_px() / small.area_px() == pytest.approx(1.15**2, rel=0.06)


def test_result_json_carries_perfusion(perfusion_cases: dict[str, Case]) -> None:
    study, _ = perfusion_cases["lad-ischemia"]
    result = analyze_study(study).to_dict()
    assert "perfusion" in result["analyses_run"]
    assert result["perfusion"]["verdict"] == "abnormal"
    assert result["lung_heart_ratio"] == pytest.approx(
        result["perfusion"]["lung_heart_ratio"][0]["value"])


def test_params_are_honoured(perfusion_cases: dict[str, Case]) -> None:
    study, _ = perfusion_cases["rca-scar"]
    strict = analyze_perfusion(study, params=PerfusionParams(abnormal_summed_score=99,
                                                             equivocal_summed_score=98))
    assert strict is not None
    assert strict.section["verdict"] == "normal"


@pytest.mark.parametrize("defect", [None, (120.0, 60.0, 0.95)])
def test_thallium_washout_is_decay_corrected(defect) -> None:
    """Delayed images with 60% of the stress counts 4 h later: washout 1 − 0.6 · 2^(4/73.1);
    a deep defect's segment (the anterior apex, 95% lost) is not measured."""
    import datetime as dt

    from pydicom.uid import NuclearMedicineImageStorage, generate_uid

    from factories import HEADER, PATIENT
    from planarmpi.model import (
        Acquisition,
        Radiopharmaceutical,
        SeriesKind,
        Sex,
        State,
        StaticImage,
        Tracer,
        View,
    )

    images = []
    start = dt.datetime(2026, 1, 2, 9, 0)
    for state, factor, when in ((State.STRESS_EXERCISE, 1.0, start),
                                (State.REDISTRIBUTION, 0.6, start + dt.timedelta(hours=4))):
        for view, tilt in ((View.ANTERIOR, 130.0), (View.LAO, 70.0), (View.LEFT_LATERAL, 150.0)):
            acq = Acquisition(
                HEADER.study_instance_uid, generate_uid(), generate_uid(),
                NuclearMedicineImageStorage, SeriesKind.STATIC, view=view, state=state,
                radiopharmaceutical=Radiopharmaceutical(Tracer.TL201, "Tl-201", 111.0, start),
                pixel_spacing_mm=(3.2, 3.2), acquisition_datetime=when)
            pixels = factor * ring_image((128, 128), centre=(63.5, 64.5), radii=(9.0, 7.0),
                                         tilt_deg=tilt, wall=3.0, peak=600.0, background=40.0,
                                         defect=defect if view is View.ANTERIOR else None)
            images.append(StaticImage(acq, pixels, 600000.0))
    study = Study(HEADER, replace(PATIENT, sex=Sex.MALE), tuple(images))
    result = analyze_perfusion(study)
    assert result is not None
    washout = result.section["reversibility"]["washout"]
    expected = 100 * (1 - 0.6 * 2 ** (4 / 73.1))
    for view in ("ANT", "LAO", "LLAT"):
        assert washout[view]["hours_between"] == pytest.approx(4.0)
        missing = ["ANT-3"] if defect and view == "ANT" else []
        assert washout[view]["not_measured"] == missing
        for key, value in washout[view]["washout_percent"].items():
            if key in missing:
                assert value is None
            else:
                assert value == pytest.approx(expected, abs=0.5)


def _thinned(study: Study, fraction: float, seed: int) -> Study:
    """The same study with ``fraction`` of its counts: binomial thinning keeps Poisson
    statistics, so it is the study a smaller dose or a shorter acquisition would give."""
    rng = np.random.default_rng(seed)
    return replace(study, series=tuple(
        replace(s, pixels=rng.binomial(np.asarray(s.pixels, dtype=np.int64), fraction))
        for s in study.statics))


@pytest.mark.parametrize("case", ["normal", "lad-ischemia", "rca-scar", "lcx-ischemia"])
def test_verdict_and_territory_hold_when_the_counts_are_scaled(
        perfusion_cases: dict[str, Case], case: str) -> None:
    """Metamorphic (issue #5): with half or twice the counts of the phantom's images —
    twice, as every pixel doubled, which a profile normalised to its maximum must not
    see apart from the counting noise it reads lower — the verdict, the territories and
    the reversibility are those of the study as simulated."""
    study, _ = perfusion_cases[case]
    original = analyze_perfusion(study)
    assert original is not None
    doubled = replace(study, series=tuple(
        replace(s, pixels=np.asarray(s.pixels, dtype=np.int64) * 2) for s in study.statics))
    for scaled in (_thinned(study, 0.5, seed=5), doubled):
        result = analyze_perfusion(scaled)
        assert result is not None
        assert result.section["verdict"] == original.section["verdict"]
        assert result.section["territories"] == original.section["territories"]
        assert (result.section.get("reversibility") or {}).get("overall") \
            == (original.section.get("reversibility") or {}).get("overall")
        assert not any(f.code == "LOW_LV_COUNTS_PERFUSION" for f in result.findings)


def test_thallium_washout_against_the_simulated_clearance(tmp_path) -> None:
    """The phantom clears 40% of its Tl-201 by the redistribution images: normal segments
    read 40% washout; an LAD ischaemia that fills in clears slowest in the septum it left
    reduced at stress (slow washout of ischaemic myocardium)."""
    import numpy as np

    from factories import simulated_perfusion
    from planarmpi.model.segments import segments_of_territory
    from planarmpi.simulate.phantom import Defect

    def washout(folder, **changes):
        study, truth = simulated_perfusion(tmp_path / folder, "thallium-normal", 9,
                                           tl201_washout_fraction=0.4, **changes)
        assert truth["states"][1]["tl201_washout_fraction"] == 0.4
        result = analyze_perfusion(study)
        assert result is not None
        return {k: v for view in result.section["reversibility"]["washout"].values()
                for k, v in view["washout_percent"].items() if v is not None}

    normal = washout("normal")
    assert len(normal) >= 12
    assert np.median(list(normal.values())) == pytest.approx(40.0, abs=3.0)
    assert all(abs(v - 40.0) < 10.0 for v in normal.values()), normal
    ischaemia = washout("lad", defects=(Defect("LAD", 0.7, 0.5, reversible=True),))
    lad = {s.key for s in segments_of_territory("LAD")}
    slowest = min(ischaemia, key=ischaemia.__getitem__)
    assert slowest in lad, ischaemia
    assert ischaemia[slowest] < 30.0
    others = [v for k, v in ischaemia.items() if k not in lad]
    assert np.median(others) == pytest.approx(40.0, abs=5.0)
