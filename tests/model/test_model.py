"""The domain model refuses to exist in an invalid state."""

from __future__ import annotations

import numpy as np
import pytest

from factories import acquisition
from planarmpi.model import (
    DynamicPhase,
    DynamicSeries,
    EnergyWindow,
    Finding,
    GatedSeries,
    GatingInfo,
    Level,
    Patient,
    SeriesKind,
    State,
    StaticImage,
    overall_status,
)


def test_pixels_are_read_only() -> None:
    img = StaticImage(acquisition(SeriesKind.STATIC), np.ones((4, 4), dtype=np.uint16), 1000.0)
    with pytest.raises(ValueError, match="read-only"):
        img.pixels[0, 0] = 5


def test_static_must_be_2d() -> None:
    with pytest.raises(ValueError, match="2 dimensions"):
        StaticImage(acquisition(SeriesKind.STATIC), np.ones((2, 4, 4)), 1000.0)


def test_kind_must_match_class() -> None:
    with pytest.raises(ValueError, match="cannot be of kind"):
        StaticImage(acquisition(SeriesKind.GATED), np.ones((4, 4)), 1000.0)


def test_gated_needs_positive_slots() -> None:
    with pytest.raises(ValueError, match="> 0 ms"):
        GatedSeries(acquisition(SeriesKind.GATED), np.ones((3, 4, 4)), np.array([50, 0, 50]))


def test_gating_window_order() -> None:
    with pytest.raises(ValueError, match="exceeds High R-R"):
        GatingInfo(low_rr_ms=900, high_rr_ms=700)
    assert GatingInfo(intervals_acquired=90, intervals_rejected=10).rejected_fraction == 0.1


def test_dynamic_frame_times_from_phases() -> None:
    dyn = DynamicSeries.from_phases(
        acquisition(SeriesKind.DYNAMIC), np.zeros((3, 2, 2)),
        [DynamicPhase(25.0, 2), DynamicPhase(40.0, 1, phase_delay_ms=10.0)],
    )
    np.testing.assert_array_equal(dyn.frame_start_ms, [0.0, 25.0, 60.0])
    np.testing.assert_array_equal(dyn.frame_mid_ms, [12.5, 37.5, 80.0])


def test_dynamic_phase_count_must_match_frames() -> None:
    with pytest.raises(ValueError, match="phases describe 2 frames but the series has 3"):
        DynamicSeries.from_phases(acquisition(SeriesKind.DYNAMIC), np.zeros((3, 2, 2)),
                                  [DynamicPhase(25.0, 2)])


def test_energy_window_limits() -> None:
    with pytest.raises(ValueError, match="below upper"):
        EnergyWindow(1, ((154.0, 126.0),))
    assert EnergyWindow(1, ((126.0, 154.0),)).contains_kev(140.5)


def test_patient_ranges_and_phi() -> None:
    with pytest.raises(ValueError, match="weight_kg"):
        Patient(weight_kg=-3)
    assert "name" not in Patient(name="DOE^JOHN").to_dict()


def test_findings_and_status() -> None:
    with pytest.raises(ValueError, match="UPPER_SNAKE_CASE"):
        Finding("bad code", Level.WARN, "x")
    assert overall_status([]) == "pass"
    assert overall_status([Finding("A", "warn", "x")]) == "warn"
    assert overall_status([Finding("A", "warn", "x"), Finding("B", "fail", "y")]) == "fail"


def test_state_stress_family() -> None:
    assert State.STRESS_PHARMACOLOGIC.is_stress
    assert not State.REDISTRIBUTION.is_stress
