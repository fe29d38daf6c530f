"""The frame index is built from the vectors, never assumed."""

from __future__ import annotations

import numpy as np
import pytest

from planarmpi.io.frames import FrameIndexError, index_frames
from planarmpi.model import SeriesKind

GATED_POINTERS = ["EnergyWindowVector", "DetectorVector", "RRIntervalVector", "TimeSlotVector"]


def test_gated_time_slot_outer_loop() -> None:
    """A GE-like layout: time slot outer, detector inner (see domain notes)."""
    slots = [1, 1, 2, 2, 3, 3]
    dets = [1, 2, 1, 2, 1, 2]
    groups = index_frames(
        SeriesKind.GATED, 6, GATED_POINTERS,
        {"EnergyWindowVector": [1] * 6, "DetectorVector": dets, "RRIntervalVector": [1] * 6,
         "TimeSlotVector": slots},
        {"NumberOfDetectors": 2, "NumberOfTimeSlots": 3},
    )
    assert [(g.detector, g.frames.tolist()) for g in groups] == [(1, [0, 2, 4]), (2, [1, 3, 5])]


def test_dynamic_keeps_file_order_within_phase() -> None:
    groups = index_frames(
        SeriesKind.DYNAMIC, 5, ["EnergyWindowVector", "DetectorVector", "PhaseVector"],
        {"EnergyWindowVector": [1] * 5, "DetectorVector": [1] * 5,
         "PhaseVector": [2, 1, 2, 1, 1]},
        {"NumberOfPhases": 2}, frames_per_phase=[3, 2],
    )
    (g,) = groups
    assert g.frames.tolist() == [1, 3, 4, 0, 2]
    np.testing.assert_array_equal(g.phases, [1, 1, 1, 2, 2])


def test_dynamic_phase_counts_must_match() -> None:
    with pytest.raises(FrameIndexError, match=r"frames per phase are \[3, 2\]"):
        index_frames(
            SeriesKind.DYNAMIC, 5, ["PhaseVector"],
            {"PhaseVector": [1, 1, 1, 2, 2]}, {"NumberOfPhases": 2}, frames_per_phase=[4, 1],
        )


def test_missing_vector_with_several_detectors_is_an_error() -> None:
    with pytest.raises(FrameIndexError, match="NumberOfDetectors is 2 but DetectorVector"):
        index_frames(SeriesKind.STATIC, 2, ["EnergyWindowVector"],
                     {"EnergyWindowVector": [1, 1]}, {"NumberOfDetectors": 2})


def test_pointer_naming_absent_vector() -> None:
    with pytest.raises(FrameIndexError, match="names EnergyWindowVector but it is absent"):
        index_frames(SeriesKind.GATED, 2, GATED_POINTERS, {}, {})


def test_multi_frame_without_any_order_is_an_error() -> None:
    with pytest.raises(FrameIndexError, match="frame order is unknown"):
        index_frames(SeriesKind.GATED, 8, [], {}, {})


def test_spect_pointer_is_refused() -> None:
    with pytest.raises(FrameIndexError, match="does not use"):
        index_frames(SeriesKind.STATIC, 2, ["AngularViewVector"], {}, {})


def test_two_frames_one_static_image() -> None:
    with pytest.raises(FrameIndexError, match="2 frames share energy window 1, detector 1"):
        index_frames(SeriesKind.STATIC, 2, ["EnergyWindowVector", "DetectorVector"],
                     {"EnergyWindowVector": [1, 1], "DetectorVector": [1, 1]}, {})
