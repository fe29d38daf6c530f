"""Finding the heart in a planar image: the region where cardiac counts are measured.

A deliberately simple, documented locator used by quality control (counts in the heart
region) before any ventricular or perfusion analysis: technologists centre the heart in the
field of view, so the hottest smoothed focus in the central part of the image is taken, and
its region at half of that maximum must have the size of a heart. A flood, a lung or a
whole-body image fails the size test and is reported as "no heart found", with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

__all__ = ["HeartRegion", "HeartSearch", "locate_heart"]

#: Projected area of the heart at half-maximum, cm² (adult heart ≈ 12 × 9 cm; a small
#: LV blood pool ≈ 15 cm²). Outside this range the focus is not taken for a heart.
HEART_AREA_RANGE_CM2 = (12.0, 200.0)


@dataclass(frozen=True, slots=True)
class HeartRegion:
    """The heart region of one image.

    Attributes
    ----------
    mask : ndarray of bool, shape (rows, columns)
    centre_rc : tuple of float
        Count-weighted centre (row, column) in pixels.
    area_cm2 : float or None
        None when the pixel spacing is unknown.
    max_counts_per_pixel : float
        Highest raw pixel value inside the region.
    """

    mask: NDArray[np.bool_]
    centre_rc: tuple[float, float]
    area_cm2: float | None
    max_counts_per_pixel: float


@dataclass(frozen=True, slots=True)
class HeartSearch:
    """Outcome of :func:`locate_heart`: a region, or the reason there is none."""

    region: HeartRegion | None
    reason: str = ""


def locate_heart(
    image: NDArray[np.generic],
    pixel_spacing_mm: tuple[float, float] | None,
    *,
    search_fraction: float = 0.6,
    threshold_fraction: float = 0.5,
    smoothing_mm: float = 8.0,
    max_fov_fraction: float = 0.35,
    area_range_cm2: tuple[float, float] = HEART_AREA_RANGE_CM2,
) -> HeartSearch:
    """Locate the heart in a planar image (static, or frames summed).

    Parameters
    ----------
    image : ndarray of shape (rows, columns)
        Counts.
    pixel_spacing_mm : tuple of float or None
        (row, column) spacing. Without it, the size test cannot be made and the search
        reports that.
    search_fraction : float
        Side of the central window, as a fraction of the field of view, that must hold the
        peak.
    threshold_fraction : float
        The region is the connected part of the smoothed image above this fraction of the
        peak that contains the peak.
    smoothing_mm : float
        Gaussian σ of the smoothing.
    max_fov_fraction : float
        A region wider than this fraction of the field of view is not focal uptake.
    area_range_cm2 : tuple of float
        Plausible area of the region.

    Returns
    -------
    HeartSearch
    """
    counts = np.asarray(image, dtype=np.float64)
    if counts.ndim != 2:
        raise ValueError(f"image must be 2-D (rows, columns), got shape {counts.shape}")
    if not np.isfinite(counts).all():
        return HeartSearch(None, "image holds non-finite values")
    if counts.max(initial=0.0) <= 0:
        return HeartSearch(None, "image holds no counts")
    if pixel_spacing_mm is None:
        return HeartSearch(None, "pixel spacing unknown: the heart's size cannot be checked")
    sigma = (smoothing_mm / pixel_spacing_mm[0], smoothing_mm / pixel_spacing_mm[1])
    smooth = ndimage.gaussian_filter(counts, sigma, mode="constant")
    rows, cols = counts.shape
    r0 = int(rows * (1 - search_fraction) / 2)
    c0 = int(cols * (1 - search_fraction) / 2)
    window = smooth[r0 : rows - r0, c0 : cols - c0]
    wr, wc = np.unravel_index(int(np.argmax(window)), window.shape)
    peak_r, peak_c = int(wr) + r0, int(wc) + c0
    peak = smooth[peak_r, peak_c]
    labels, _ = ndimage.label(smooth >= threshold_fraction * peak)
    mask = labels == labels[peak_r, peak_c]
    pixel_cm2 = pixel_spacing_mm[0] * pixel_spacing_mm[1] / 100.0
    area = float(mask.sum()) * pixel_cm2
    fov_fraction = mask.sum() / float((counts > 0).sum() or counts.size)
    if fov_fraction > max_fov_fraction:
        return HeartSearch(
            None,
            f"activity above half of the central maximum covers {fov_fraction:.0%} of the "
            "field of view: no focal cardiac uptake (flood, lung or non-cardiac image?)",
        )
    low, high = area_range_cm2
    if not low <= area <= high:
        return HeartSearch(
            None,
            f"the hottest central focus measures {area:.0f} cm², outside the "
            f"{low:g}–{high:g} cm² of a heart",
        )
    weights = np.where(mask, counts, 0.0)
    com = ndimage.center_of_mass(weights) if weights.sum() > 0 else (peak_r, peak_c)
    centre = (float(com[0]), float(com[1]))
    return HeartSearch(
        HeartRegion(mask, centre, area, float(counts[mask].max())),
        "",
    )
