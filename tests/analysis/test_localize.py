"""The heart's region that quality control measures (analysis/localize.py, summary.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from factories import static_perfusion_study
from planarmpi.analysis.localize import locate_heart, locate_lv_ring
from planarmpi.analysis.summary import summarize_series
from planarmpi.qc.checks import check_series

SPACING = (3.2, 3.2)


def _ring_beside_a_liver(gap_mm: float, seed: int = 0) -> np.ndarray:
    """A myocardial ring (radius 20–35 mm, 1000 counts, cavity 300) at the image centre and a
    large liver-like plateau at 650 counts starting ``gap_mm`` below the ring's outer edge."""
    rows, cols = np.mgrid[0:128, 0:128]
    r_mm = np.hypot((rows - 64) * SPACING[0], (cols - 64) * SPACING[1])
    image = np.where((r_mm > 20) & (r_mm < 35), 1000.0, 0.0)
    image[r_mm <= 20] = 300.0
    image[((rows - 64) * SPACING[0] > 35 + gap_mm) & (cols > 20) & (cols < 110)] = 650.0
    return np.random.default_rng(seed).poisson(image + 30).astype(np.float64)


def test_a_heart_merged_with_its_neighbour_at_half_maximum_is_found_at_a_higher_threshold():
    image = _ring_beside_a_liver(gap_mm=8.0)
    # At half maximum the ring and the plateau are one region, far too large for a heart
    # (the locator before 2026-12-03 stopped there).
    merged = locate_heart(image, SPACING, max_threshold_fraction=0.5)
    assert merged.region is None
    assert "outside the 12–200 cm² of a heart" in merged.reason
    found = locate_heart(image, SPACING)
    assert found.region is not None
    assert found.region.threshold_fraction > 0.5
    assert 12 <= (found.region.area_cm2 or 0) <= 60  # the ring's disk is 38 cm²
    assert np.hypot(*(np.array(found.region.centre_rc) - 64)) * SPACING[0] < 10
    # Apart at half maximum: the threshold is not raised.
    apart = locate_heart(_ring_beside_a_liver(gap_mm=16.0), SPACING).region
    assert apart is not None
    assert apart.threshold_fraction == 0.5


def test_the_lv_ring_is_found_beside_a_hot_plateau_and_a_flood_is_refused():
    region = locate_lv_ring(_ring_beside_a_liver(gap_mm=4.0), SPACING).region
    assert region is not None
    assert region.method == "LV ring"
    assert np.hypot(*(np.array(region.centre_rc) - 64)) * SPACING[0] < 5
    # The ridge (27.5 mm) plus the 10 mm margin: a disk of ~44 cm².
    assert 35 < (region.area_cm2 or 0) < 55
    assert region.max_counts_per_pixel >= 1000
    flood = np.random.default_rng(1).poisson(500.0, (128, 128)).astype(np.float64)
    refused = locate_lv_ring(flood, SPACING)
    assert refused.region is None
    assert "no focal cardiac uptake" in refused.reason
    assert locate_heart(flood, SPACING).region is None
    assert "spacing unknown" in locate_lv_ring(flood, None).reason


@pytest.mark.parametrize(("preset_name", "changes"), [
    ("normal-male", {"uptake": (("liver", 0.7), ("gut", 0.7))}),  # hot liver and gut
    ("lad-ischemia-high-lung", {}),  # Tl-201, 700 k counts per view
])
def test_perfusion_views_are_measured_on_the_lv_not_on_the_liver(tmp_path: Path,
                                                                  preset_name: str,
                                                                  changes: dict) -> None:
    """The simulator centres each view on the heart. The hottest smoothed focus of these
    views is often the liver or gut (hot Tc-99m agents) or, at half maximum, a region
    joined to the background (Tl-201) — which failed QC as "no heart found" in 80 of 300
    simulated stress/rest studies. The LV ring is found in every view."""
    study = static_perfusion_study(tmp_path, preset_name, 61, **changes)
    for series in study.series:
        summary = summarize_series(series)
        region = summary.heart.region
        assert region is not None, summary.heart.reason
        assert region.method == "LV ring"
        rows, cols = series.pixels.shape[-2:]
        spacing = series.acquisition.pixel_spacing_mm
        assert spacing is not None
        off_mm = np.hypot((region.centre_rc[0] - (rows - 1) / 2) * spacing[0],
                          (region.centre_rc[1] - (cols - 1) / 2) * spacing[1])
        assert off_mm < 20
        codes = [f.code for f in check_series(summary)]
        assert "NO_HEART_FOUND" not in codes
