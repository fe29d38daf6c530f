"""Finding the heart in a planar image: the region where cardiac counts are measured.

A deliberately simple, documented locator used by quality control (counts in the heart
region) before any ventricular or perfusion analysis: technologists centre the heart in the
field of view, so the hottest smoothed focus in the central part of the image is taken, and
its region at half of that maximum must have the size of a heart. A flood, a lung or a
whole-body image fails the size test and is reported as "no heart found", with the reason.

At half maximum a heart can merge with what lies next to it: Tl-201's soft-tissue
background, or a liver or gut loop at 50–70% of the myocardium's counts below the
inferior wall (Tc-99m agents). The region is then too large for a heart though the heart
is plain to see. Before giving up, the threshold is raised in steps (to
``max_threshold_fraction`` of the peak) until the peak's region has a heart's size —
hot neighbours separate from the myocardium well before the myocardium itself breaks
up. A flood stays wider than ``max_fov_fraction`` at every step and still fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

__all__ = ["HeartRegion", "HeartSearch", "locate_heart", "locate_lv_ring"]

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
    threshold_fraction : float
        The fraction of the smoothed peak that bounds the region: 0.5 unless a higher one
        was needed to separate the heart from its neighbours (:func:`locate_heart`); NaN
        for an LV ring (:func:`locate_lv_ring`).
    method : str
        ``half-maximum focus`` (:func:`locate_heart`) or ``LV ring``
        (:func:`locate_lv_ring`).
    """

    mask: NDArray[np.bool_]
    centre_rc: tuple[float, float]
    area_cm2: float | None
    max_counts_per_pixel: float
    threshold_fraction: float = 0.5
    method: str = "half-maximum focus"


@dataclass(frozen=True, slots=True)
class HeartSearch:
    """Outcome of :func:`locate_heart`: a region, or the reason there is none."""

    region: HeartRegion | None
    reason: str = ""


def _checked(image: NDArray[np.generic], pixel_spacing_mm: tuple[float, float] | None
             ) -> tuple[NDArray[np.float64], str]:
    """The image as float counts, and why no heart can be looked for in it ("" if none).

    Raises
    ------
    ValueError
        The image is not 2-D (a programming error, not bad data).
    """
    counts = np.asarray(image, dtype=np.float64)
    if counts.ndim != 2:
        raise ValueError(f"image must be 2-D (rows, columns), got shape {counts.shape}")
    if not np.isfinite(counts).all():
        return counts, "image holds non-finite values"
    if counts.max(initial=0.0) <= 0:
        return counts, "image holds no counts"
    if pixel_spacing_mm is None:
        return counts, "pixel spacing unknown: the heart's size cannot be checked"
    return counts, ""


def locate_heart(
    image: NDArray[np.generic],
    pixel_spacing_mm: tuple[float, float] | None,
    *,
    search_fraction: float = 0.6,
    threshold_fraction: float = 0.5,
    smoothing_mm: float = 8.0,
    max_fov_fraction: float = 0.35,
    area_range_cm2: tuple[float, float] = HEART_AREA_RANGE_CM2,
    max_threshold_fraction: float = 0.8,
    threshold_step: float = 0.05,
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
    max_threshold_fraction, threshold_step : float
        When the region at ``threshold_fraction`` is too large (or too wide) for a heart,
        the threshold rises by ``threshold_step`` up to this fraction of the peak; the
        first region of a heart's size is taken. ``max_threshold_fraction`` equal to
        ``threshold_fraction`` turns the steps off.

    Returns
    -------
    HeartSearch
    """
    counts, problem = _checked(image, pixel_spacing_mm)
    if problem or pixel_spacing_mm is None:
        return HeartSearch(None, problem)
    sigma = (smoothing_mm / pixel_spacing_mm[0], smoothing_mm / pixel_spacing_mm[1])
    smooth = ndimage.gaussian_filter(counts, sigma, mode="constant")
    rows, cols = counts.shape
    r0 = int(rows * (1 - search_fraction) / 2)
    c0 = int(cols * (1 - search_fraction) / 2)
    window = smooth[r0 : rows - r0, c0 : cols - c0]
    wr, wc = np.unravel_index(int(np.argmax(window)), window.shape)
    peak_r, peak_c = int(wr) + r0, int(wc) + c0
    peak = smooth[peak_r, peak_c]
    pixel_cm2 = pixel_spacing_mm[0] * pixel_spacing_mm[1] / 100.0
    body = float((counts > 0).sum() or counts.size)
    low, high = area_range_cm2
    n_steps = max(0, round((max_threshold_fraction - threshold_fraction) / threshold_step)
                  if threshold_step > 0 else 0)
    problems: list[str] = []
    for step in range(n_steps + 1):
        level = threshold_fraction + step * threshold_step
        labels, _ = ndimage.label(smooth >= level * peak)
        mask = labels == labels[peak_r, peak_c]
        area = float(mask.sum()) * pixel_cm2
        fov_fraction = mask.sum() / body
        if fov_fraction > max_fov_fraction:
            problems.append(f"activity above {level:.0%} of the central maximum covers "
                            f"{fov_fraction:.0%} of the field of view: no focal cardiac "
                            "uptake (flood, lung or non-cardiac image?)")
        elif not low <= area <= high:
            problems.append(f"the hottest central focus measures {area:.0f} cm², outside "
                            f"the {low:g}–{high:g} cm² of a heart")
            if area < low:
                break  # a higher threshold only makes it smaller
        else:
            break
    else:
        top = threshold_fraction + n_steps * threshold_step
        more = f" (and at every threshold up to {top:.0%} of the maximum)" if n_steps else ""
        return HeartSearch(None, problems[0] + more)
    if area < low:
        return HeartSearch(None, problems[0])
    weights = np.where(mask, counts, 0.0)
    com = ndimage.center_of_mass(weights) if weights.sum() > 0 else (peak_r, peak_c)
    centre = (float(com[0]), float(com[1]))
    return HeartSearch(
        HeartRegion(mask, centre, area, float(counts[mask].max()), round(level, 4)),
        "",
    )


def locate_lv_ring(
    image: NDArray[np.generic],
    pixel_spacing_mm: tuple[float, float] | None,
    *,
    wall_margin_mm: float = 10.0,
    smoothing_mm: float = 8.0,
    max_fov_fraction: float = 0.35,
    flat_threshold_fraction: float = 0.8,
    area_range_cm2: tuple[float, float] = HEART_AREA_RANGE_CM2,
) -> HeartSearch:
    """Locate the LV of a myocardial perfusion image: its myocardial ring, found as the
    perfusion analysis finds it (:func:`~planarmpi.analysis.perfusion.profiles.find_lv`).

    In a perfusion image the hottest smoothed focus is often not the heart: a liver or gut
    loop at half or more of the myocardium's counts is larger than the thin myocardial wall
    and outshines it once smoothed, and Tl-201's soft-tissue background joins everything
    at half maximum. The ring search looks for a compact ring brighter than its cavity and
    its surroundings instead. The region is the ridge ellipse widened by
    ``wall_margin_mm`` (the outer half of the wall), cavity included.

    Parameters
    ----------
    image : ndarray of shape (rows, columns)
        Counts (a static view, or the time slots of a gated view summed).
    pixel_spacing_mm : tuple of float or None
    wall_margin_mm : float
        Added to the ridge radius along every ray.
    smoothing_mm, max_fov_fraction, flat_threshold_fraction : float
        A flood is refused before the ring search: when the smoothed image (Gaussian σ
        ``smoothing_mm``) above ``flat_threshold_fraction`` of the central maximum covers
        more than ``max_fov_fraction`` of the field of view, there is no focal uptake.
    area_range_cm2 : tuple of float
        Plausible area of the region.

    Returns
    -------
    HeartSearch
        With ``method`` ``LV ring``, or the reason no LV was found.
    """
    from planarmpi.analysis.perfusion.profiles import LVNotFoundError, find_lv, ray_directions

    counts, problem = _checked(image, pixel_spacing_mm)
    if problem or pixel_spacing_mm is None:
        return HeartSearch(None, problem)
    smooth = ndimage.gaussian_filter(counts, (smoothing_mm / pixel_spacing_mm[0],
                                              smoothing_mm / pixel_spacing_mm[1]),
                                     mode="constant")
    rows, cols = counts.shape
    centre_window = smooth[int(rows * 0.2): rows - int(rows * 0.2),
                           int(cols * 0.2): cols - int(cols * 0.2)]
    flat = float((smooth >= flat_threshold_fraction * centre_window.max()).sum()) \
        / float((counts > 0).sum() or counts.size)
    if flat > max_fov_fraction:
        return HeartSearch(None, f"activity above {flat_threshold_fraction:.0%} of the central "
                                 f"maximum covers {flat:.0%} of the field of view: no focal "
                                 "cardiac uptake (flood, lung or non-cardiac image?)")
    try:
        lv = find_lv(counts, pixel_spacing_mm)
    except LVNotFoundError as exc:
        return HeartSearch(None, f"no LV myocardial ring found: {exc}")
    angles, _, _ = ray_directions(len(lv.ridge_radius_px))
    rr, cc = np.mgrid[0:rows, 0:cols].astype(np.float64)
    drow, dcol = rr - lv.centre_rc[0], cc - lv.centre_rc[1]
    # Display angle: 0 up, clockwise, as the rays (drow, dcol) = (−cos φ, sin φ).
    phi = np.degrees(np.arctan2(dcol, -drow)) % 360.0
    radius = np.interp(phi, np.append(angles, 360.0),
                       np.append(lv.ridge_radius_px, lv.ridge_radius_px[0]))
    margin_px = wall_margin_mm / float(np.mean(pixel_spacing_mm))
    mask = np.hypot(drow, dcol) <= radius + margin_px
    area = float(mask.sum()) * pixel_spacing_mm[0] * pixel_spacing_mm[1] / 100.0
    low, high = area_range_cm2
    if not low <= area <= high:
        return HeartSearch(None, f"the LV ring found measures {area:.0f} cm², outside the "
                                 f"{low:g}–{high:g} cm² of a heart")
    return HeartSearch(HeartRegion(mask, (float(lv.centre_rc[0]), float(lv.centre_rc[1])),
                                   area, float(counts[mask].max()), float("nan"), "LV ring"),
                       "")
