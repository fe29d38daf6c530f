"""A view's own measurements: activity below the inferior wall (issue #5, item 5)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from factories import ring_image
from planarmpi.analysis.perfusion.params import PerfusionParams
from planarmpi.analysis.perfusion.profiles import circumferential_profile
from planarmpi.analysis.perfusion.views import below_inferior_wall_deg, extracardiac_activity

SPACING = (3.2, 3.2)
PEAK, BACKGROUND = 400.0, 20.0


def _with_organ(image: np.ndarray, centre_rc: tuple[float, float], radius_px: float,
                level: float) -> np.ndarray:
    """``image`` plus a blurred disc of ``level`` counts (an organ under the heart)."""
    rr, cc = np.indices(image.shape, dtype=np.float64)
    disc = (np.hypot(rr - centre_rc[0], cc - centre_rc[1]) <= radius_px).astype(float)
    return image + level * ndimage.gaussian_filter(disc, 1.5)


def _measure(image: np.ndarray, view: str = "ANT") -> dict:
    profile = circumferential_profile(image, SPACING)
    return extracardiac_activity(image, profile, PerfusionParams(), SPACING, view)


def test_a_heart_alone_has_no_activity_below_it_not_even_its_apex() -> None:
    # A long LV whose apex points down-right (ANT): the search steps over the wall's blur.
    heart = ring_image((128, 128), (50.0, 64.0), radii=(14.0, 9.0), tilt_deg=140.0,
                       peak=PEAK, background=BACKGROUND)
    found = _measure(heart)
    assert found["ratio"] < 0.15  # the background, not the wall's edge
    assert found["ratio_above_background"] < 0.05
    assert not found["affects_profile"]


@pytest.mark.parametrize("level", [150.0, 300.0, 600.0])
def test_an_organ_below_the_inferior_wall_is_measured_at_its_level(level: float) -> None:
    heart = ring_image((128, 128), (50.0, 64.0), radii=(12.0, 9.0), tilt_deg=140.0,
                       peak=PEAK, background=BACKGROUND)
    # An organ centred 4 cm below the LV centre, 2 cm in radius: its top lies ~1 cm
    # beyond the wall's blurred edge.
    image = _with_organ(heart, (50.0 + 40.0 / 3.2 + 12.0, 60.0), 20.0 / 3.2, level)
    found = _measure(image)
    myo_max = float(ndimage.gaussian_filter(heart, 1.5).max())
    assert found["ratio"] == pytest.approx((level + BACKGROUND) / myo_max, rel=0.15)
    assert found["ratio_above_background"] == pytest.approx(level / (myo_max - BACKGROUND),
                                                            rel=0.15)
    assert found["body_background_ratio"] == pytest.approx(BACKGROUND / myo_max, rel=0.1)
    assert found["max_rc"][0] > 50.0 + 12.0  # below the heart
    assert (found["ratio"] >= 0.5) == ((level + BACKGROUND) / myo_max >= 0.5)


def test_the_lao_search_leaves_out_the_lateral_rays_a_breast_crosses() -> None:
    heart = ring_image((128, 128), (50.0, 64.0), radii=(11.0, 9.0), tilt_deg=150.0,
                       peak=PEAK, background=BACKGROUND)
    # Bright tissue lateral and below (the breast in LAO 45°: image right, at 120–150°).
    breast = _with_organ(heart, (50.0 + 22.0, 64.0 + 30.0), 12.0, 300.0)
    assert _measure(breast, "RAO")["ratio"] > 0.5  # searched 120–240°: found
    assert _measure(breast, "LAO")["ratio"] < 0.2  # the LAO inferior wall's rays: not
    assert below_inferior_wall_deg("LAO").min() >= 155.0
    assert below_inferior_wall_deg("RAO").min() == 120.0
