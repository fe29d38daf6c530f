"""One-day Tc-99m protocols: the first injection's share of the second images."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from factories import simulated_perfusion
from planarmpi.analysis.summary import summarize_series
from planarmpi.model import Level, Radiopharmaceutical, State, Study
from planarmpi.qc.checks import check_study, views_as_analysed
from planarmpi.qc.limits import QCLimits
from planarmpi.qc.protocol import (
    ONE_DAY_MAX_HOURS,
    check_one_day_protocol,
    clinical_dose_ratio,
    myocardial_count_rate,
    one_day_residual,
    residual_share,
)

TC99M_HALF_LIFE_H = 6.0067


def _statics(study: Study):
    return views_as_analysed([summarize_series(s) for s in study.series])


def _finding(study: Study, limits: QCLimits | None = None):
    found = [f for f in check_study(study, [summarize_series(s) for s in study.series],
                                    limits) if f.code == "ONE_DAY_DOSE_RATIO"]
    assert len(found) <= 1
    return found[0] if found else None


def _edit(study: Study, edit) -> Study:
    """``study`` with ``edit(series)`` applied to every series."""
    return replace(study, series=tuple(edit(s) for s in study.series))


def test_the_residual_share_is_the_first_rate_decayed_over_the_second() -> None:
    # One half-life apart, a first rate of 100 counts/s leaves 50 under a second of 400.
    assert residual_share(100.0, 400.0, TC99M_HALF_LIFE_H, TC99M_HALF_LIFE_H) \
        == pytest.approx(0.125)
    assert residual_share(100.0, 400.0, 0.0, TC99M_HALF_LIFE_H) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="must be > 0"):
        residual_share(1.0, 0.0, 1.0, TC99M_HALF_LIFE_H)


def test_the_myocardial_rate_is_the_hottest_quarter_per_second_and_mm2() -> None:
    pixels = np.zeros((4, 4))
    pixels[0] = [400, 400, 100, 100]  # the hottest quarter of the 16 masked pixels: 4
    pixels[1] = [400, 400, 0, 0]
    mask = np.ones((4, 4), dtype=bool)
    assert myocardial_count_rate(pixels, mask, 200000.0, 4.0) == pytest.approx(400 / 200 / 4)
    with pytest.raises(ValueError, match="empty heart region"):
        myocardial_count_rate(pixels, np.zeros((4, 4), dtype=bool), 1000.0, 1.0)


def test_a_3_to_1_one_day_protocol_reads_its_share_and_passes(tmp_path: Path) -> None:
    study, truth = simulated_perfusion(tmp_path, "lad-ischemia", 31)
    # The simulator's default one-day protocol: 370 MBq at stress, 1110 MBq 3 h later.
    assert [s["injection"]["dose_mbq"] for s in truth["states"]] == [370.0, 1110.0]
    share = truth["states"][1]["earlier_injections_share"]
    assert share == pytest.approx(370 * 2 ** (-3 / TC99M_HALF_LIFE_H)
                                  / (370 * 2 ** (-3 / TC99M_HALF_LIFE_H) + 1110))
    est = one_day_residual(study, _statics(study))
    assert est is not None
    assert (est.first_state, est.second_state) == (State.STRESS_EXERCISE, State.REST)
    assert est.hours_between == pytest.approx(3.0)
    assert est.dose_ratio == pytest.approx(3.0)
    assert est.decayed_dose_ratio == pytest.approx(3.0 * 2 ** (3 / TC99M_HALF_LIFE_H))
    assert len(est.views_measured) == 3
    assert est.measured_share == pytest.approx(share, rel=0.15)
    finding = _finding(study)
    assert finding is not None
    assert finding.level is Level.INFO
    assert "at least 3×" in finding.message


def test_equal_doses_leave_the_rest_images_the_stress_distribution(tmp_path: Path) -> None:
    study, truth = simulated_perfusion(tmp_path, "lad-ischemia", 31, doses_mbq=(1110.0, 1110.0))
    share = truth["states"][1]["earlier_injections_share"]
    assert share > 0.4
    est = one_day_residual(study, _statics(study))
    assert est is not None
    assert est.measured_share == pytest.approx(share, rel=0.15)
    finding = _finding(study)
    assert finding is not None
    assert finding.level is Level.WARN
    assert "ischaemia may read as fixed" in finding.message
    assert "below 3×" in finding.message
    # The bound is the site's.
    lenient = _finding(study, QCLimits(min_one_day_dose_ratio=1.2))
    assert lenient is not None
    assert lenient.level is Level.INFO


def test_a_rest_first_protocol_names_the_diluted_stress_defects(tmp_path: Path) -> None:
    study, _ = simulated_perfusion(tmp_path, "lad-ischemia", 32,
                                   states=(State.REST, State.STRESS_EXERCISE),
                                   doses_mbq=(700.0, 1110.0))
    finding = _finding(study)
    assert finding is not None
    assert finding.level is Level.WARN
    assert finding.message.startswith("one-day protocol (rest first, stress-exercise")
    assert "stress-induced defects may be missed" in finding.message


def test_the_recorded_doses_decide_without_acquisition_times(tmp_path: Path) -> None:
    study, _ = simulated_perfusion(tmp_path, "lad-ischemia", 31, doses_mbq=(1110.0, 1110.0))
    blind = _edit(study, lambda s: replace(
        s, acquisition=replace(s.acquisition, acquisition_datetime=None)))
    est = one_day_residual(blind, _statics(blind))
    assert est is not None
    assert est.measured_share is None
    assert est.ratio == pytest.approx(2 ** (3 / TC99M_HALF_LIFE_H))
    finding = _finding(blind)
    assert finding is not None
    assert finding.level is Level.WARN
    assert "by the recorded doses" in finding.message


def test_nothing_to_measure_is_said_not_checked(tmp_path: Path) -> None:
    study, _ = simulated_perfusion(tmp_path, "lad-ischemia", 31)

    def strip(s):
        a = s.acquisition
        pharm = replace(a.radiopharmaceutical, dose_mbq=None)
        return replace(s, acquisition=replace(a, acquisition_datetime=None,
                                              radiopharmaceutical=pharm))

    finding = _finding(_edit(study, strip))
    assert finding is not None
    assert finding.level is Level.INFO
    assert "not checked" in finding.message


def test_a_two_day_protocol_and_thallium_say_nothing(tmp_path: Path) -> None:
    study, _ = simulated_perfusion(tmp_path / "tc", "lad-ischemia", 31,
                                   doses_mbq=(1110.0, 1110.0))
    later = dt.timedelta(hours=ONE_DAY_MAX_HOURS + 4)

    def move_rest(s):
        a = s.acquisition
        if a.state is not State.REST:
            return s
        p = a.radiopharmaceutical
        assert p.injection_datetime
        assert a.acquisition_datetime
        return replace(s, acquisition=replace(
            a, acquisition_datetime=a.acquisition_datetime + later,
            radiopharmaceutical=Radiopharmaceutical(p.tracer, p.name, p.dose_mbq,
                                                    p.injection_datetime + later)))

    assert _finding(_edit(study, move_rest)) is None
    thallium, truth = simulated_perfusion(tmp_path / "tl", "thallium-normal", 33)
    # Redistribution is imaged on the stress injection: one dose, no second injection.
    assert next(s["injection"] for s in truth["states"]) == truth["states"][1]["injection"]
    assert check_one_day_protocol(thallium, _statics(thallium)) == []


def test_the_shine_through_it_warns_of_is_what_the_images_do(tmp_path: Path) -> None:
    """Equal doses, stress first, the rest views holding the stress injection's
    distribution (41% of their activity): the LAD ischaemia keeps a reduction at rest and
    no longer reads as pure ischaemia — and the share is still measured from the count
    rates, now that the second images' counts hold it."""
    from planarmpi.analysis.perfusion.study import analyze_perfusion

    reads = {}
    for residual in (False, True):
        study, truth = simulated_perfusion(tmp_path / str(residual), "lad-ischemia", 41,
                                           doses_mbq=(1110.0, 1110.0),
                                           one_day_residual=residual)
        assert truth["states"][1]["earlier_injections_in_pixels"] is residual
        outcome = analyze_perfusion(study)
        assert outcome is not None
        perf = outcome.section
        est = one_day_residual(study, _statics(study))
        assert est is not None
        assert est.measured_share == pytest.approx(
            truth["states"][1]["earlier_injections_share"], rel=0.15)
        reads[residual] = (perf["states"][1]["summed_score"],
                           perf["reversibility"]["overall"])
    assert reads[False] == (0, "ischemia")
    rest_score, overall = reads[True]
    assert rest_score > 0
    assert overall != "ischemia"


def test_views_of_another_matrix_compare_per_mm2(tmp_path: Path) -> None:
    """The rest views acquired on a 64 × 64 matrix of 6.4 mm pixels (each 2 × 2 block of
    the 128 × 128 image summed): counts per mm² compare, the share is measured alike."""
    study, truth = simulated_perfusion(tmp_path, "lad-ischemia", 31, doses_mbq=(1110.0, 1110.0))

    def bin_rest(s):
        a = s.acquisition
        if a.state is not State.REST:
            return s
        p = np.asarray(s.pixels)
        binned = p.reshape(p.shape[0] // 2, 2, p.shape[1] // 2, 2).sum(axis=(1, 3))
        assert a.pixel_spacing_mm is not None
        return replace(s, pixels=binned, acquisition=replace(
            a, pixel_spacing_mm=(2 * a.pixel_spacing_mm[0], 2 * a.pixel_spacing_mm[1])))

    binned = _edit(study, bin_rest)
    est = one_day_residual(binned, _statics(binned))
    assert est is not None
    assert len(est.views_measured) == 3
    assert est.measured_share == pytest.approx(
        truth["states"][1]["earlier_injections_share"], rel=0.2)


def test_views_acquired_in_time_frames_are_measured_as_their_sum(tmp_path: Path) -> None:
    study, truth = simulated_perfusion(tmp_path, "lad-ischemia", 35, static_frames=5,
                                       doses_mbq=(1110.0, 1110.0))
    assert all(s.pixels.ndim == 3 for s in study.series)  # framed static views only
    est = one_day_residual(study, _statics(study))
    assert est is not None
    assert len(est.views_measured) == 3
    assert est.measured_share == pytest.approx(
        truth["states"][1]["earlier_injections_share"], rel=0.15)


def test_the_clinical_files_injections_give_the_ratio_when_the_dicom_cannot() -> None:
    """Rest 370 MBq at 08:00, stress 1110 MBq at 11:00: 3:1 as given, 4.2:1 against the
    rest dose's activity left at 11:00; no one-day protocol for injections 24 h apart,
    Tl-201, or an injection without a time."""
    from planarmpi.model import Tracer
    from planarmpi.model.clinical import Injection

    day = dt.datetime(2026, 12, 3)
    rest = Injection(State.REST, Tracer.TC99M_SESTAMIBI, 370.0, day.replace(hour=8))
    stress = Injection(State.STRESS_EXERCISE, Tracer.TC99M_SESTAMIBI, 1110.0,
                       day.replace(hour=11))
    found = clinical_dose_ratio([stress, rest])
    assert found is not None
    assert (found["first_state"], found["second_state"]) == ("rest", "stress-exercise")
    assert found["hours_between"] == pytest.approx(3.0)
    assert found["dose_ratio"] == pytest.approx(3.0)
    assert found["ratio"] == pytest.approx(3.0 * 2 ** (3 / TC99M_HALF_LIFE_H))  # 4.24
    assert found["ratio_basis"] == "clinical file doses"
    assert clinical_dose_ratio([rest, replace(stress, time=day + dt.timedelta(hours=32))]) \
        is None
    assert clinical_dose_ratio([rest, replace(stress, time=None)]) is None
    assert clinical_dose_ratio([replace(rest, tracer=Tracer.TL201),
                                replace(stress, tracer=Tracer.TL201)]) is None
    equal = clinical_dose_ratio([replace(stress, time=day.replace(hour=8)),
                                 replace(rest, dose_mbq=1110.0, time=day.replace(hour=11))])
    assert equal is not None
    assert equal["first_state"] == "stress-exercise"
    assert equal["ratio"] == pytest.approx(2 ** (3 / TC99M_HALF_LIFE_H))  # 1.41: too low
