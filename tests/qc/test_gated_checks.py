"""Gated-series quality checks: the late-slot count fall-off of R-R variability."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from factories import make_images
from planarmpi.analysis.summary import summarize_series
from planarmpi.model import GatedSeries, Level, SeriesKind, Tracer
from planarmpi.qc.checks import check_series
from planarmpi.qc.limits import QCLimits


def _gated(tracer: Tracer, last_slot_fraction: float) -> GatedSeries:
    (series,) = make_images(SeriesKind.GATED, tracer=tracer, frames=8, slot_ms=40.0)
    assert isinstance(series, GatedSeries)
    flat = np.full(series.pixels.shape, 500, dtype=np.int64)
    flat[-1] = round(500 * last_slot_fraction)  # fewer beats reach the last slot
    return replace(series, pixels=flat)


def _falloff(series: GatedSeries, limits: QCLimits | None = None) -> list:
    return [f for f in check_series(summarize_series(series), limits)
            if f.code == "LATE_FRAME_FALLOFF"]


@pytest.mark.parametrize(("tracer", "level"), [
    (Tracer.TC99M_RED_CELLS, Level.WARN),  # a count-based curve's diastole is distorted
    (Tracer.TC99M_SESTAMIBI, Level.INFO),  # a geometric EF from ED/ES contours is not
])
def test_a_late_slot_fall_off_is_reported_by_what_it_distorts(tracer, level) -> None:
    (finding,) = _falloff(_gated(tracer, 0.75))
    assert finding.level is level
    assert "25% fewer counts than the median slot" in finding.message


def test_the_fall_off_bound_is_the_sites() -> None:
    assert _falloff(_gated(Tracer.TC99M_RED_CELLS, 0.90)) == []  # 10% < 15%
    assert _falloff(_gated(Tracer.TC99M_RED_CELLS, 0.90),
                    QCLimits(max_late_frame_falloff_fraction=0.05))
