"""LV volumes and ejection fraction from gated planar perfusion images (geometric method).

Perfusion agents show the myocardium, not the blood: the cavity is the darker region inside
the myocardial ring, and the EF is geometric — endocardial border per time slot, single-plane
area–length volume ``V = 8 A² / (3 π L)``, EF from the end-diastolic and end-systolic volumes
(the project's domain notes, ``function.md``, "Geometric EF").

Where is the endocardium in a planar image? A camera sees the *projection* of a hollow shell:
along a ray from the cavity centre the projected wall thickness — hence the counts — is
greatest where the line of sight grazes the endocardial surface, so the ridge of maximal
counts lies at the endocardial border, not mid-wall. Blur (collimator, scatter) moves that
maximum outwards by an amount that grows with the wall thickness (the outer flank of the ridge
is broad, the inner one steep) and moves the outer half-maximum inwards by as much, so the sum
of the two is blur-invariant. The wall thickens in systole; the systolic outward shift of the
ridge is therefore half the change of the apparent width (outer half-maximum minus ridge)
relative to end-diastole, and is removed slot by slot. (Checked on projected, blurred shells
of 8–16 mm walls at 7–13 mm FWHM: the residual error of the corrected border is ≤ 0.5 mm
relative to end-diastole.)

Procedure: slots are normalised for acquisition time (forward framing loses counts late in
the cycle) and smoothed in time by a truncated Fourier series and in space by a small
Gaussian; the LV ring is found on the summed image (:func:`find_lv`); rays from its centre
give per slot the ridge radius (sub-sample peak) and the apparent width; rays without a wall
(the valve plane, a severe defect, a hotter neighbour) are left out by their summed-image
counts and filled from their neighbours; the corrected border gives a polygon whose area is
``A`` and whose longest chord is ``L``. The slot volumes are fitted with a truncated Fourier
series; EDV and ESV are its maximum and minimum.

Uncertainty: the spread of the EF over Poisson redraws of the counts, and over shifts of the
LV centre by one pixel (the ROI-seed sensitivity).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from planarmpi.analysis.bloodpool import slot_coverage
from planarmpi.analysis.fourier import fit_fourier
from planarmpi.analysis.motion_normals import MotionMethod, builtin_wall_motion_normals
from planarmpi.analysis.perfusion.profiles import (
    LVGeometry,
    LVNotFoundError,
    ProfileParams,
    _ellipse_radius_from_geometry,
    find_lv,
    ray_directions,
    ring_candidates,
)
from planarmpi.analysis.perfusion.territory import TerritoryParams
from planarmpi.analysis.uncertainty import half_width
from planarmpi.analysis.wall_motion import (
    LAO_SECTORS_DEG,
    TerritoryMotion,
    builtin_signatures,
    grade_motion,
    normal_limit,
    territory_motion,
)
from planarmpi.model import Finding, GatedSeries, Level, View
from planarmpi.model.segments import SEGMENTS

__all__ = [
    "BorderTrace",
    "GatedPerfusionParams",
    "GatedPerfusionResult",
    "GatedWallMotionParams",
    "SegmentExcursion",
    "analyze_gated_perfusion",
    "area_length_ml",
    "border_points_rc",
    "builtin_excursion_noise",
    "builtin_excursion_normals",
    "builtin_excursion_source",
    "endocardial_radii",
    "regional_excursion",
    "segment_shortening",
]

Array = NDArray[np.float64]


def builtin_gated_signatures() -> dict[str, dict[str, float]]:
    """Segment key → territory → relative drop of the regional shortening when the territory
    is akinetic (``bench/wall_motion_signatures.py --method gated-perfusion``)."""
    return builtin_signatures("data/gated_perfusion_territory_signatures.json")


def builtin_excursion_normals() -> dict[str, tuple[float, float]]:
    """Segment key → (mean, SD) of the regional shortening (%) in the built-in normals
    (simulated, ``bench/gated_perfusion_normals.py``)."""
    return builtin_wall_motion_normals(MotionMethod.GATED_PERFUSION).mean_sd()


def builtin_excursion_noise() -> dict[str, float]:
    """Segment key → root-mean-square Poisson SD (%) of the built-in normals' regional
    shortening: the counting noise their SD already holds."""
    return builtin_wall_motion_normals(MotionMethod.GATED_PERFUSION).noise()


def builtin_excursion_source() -> dict[str, str]:
    """What result.json records of the built-in gated-perfusion wall-motion normals."""
    return builtin_wall_motion_normals(MotionMethod.GATED_PERFUSION).describe()


@dataclass(frozen=True, slots=True)
class GatedWallMotionParams:
    """Grades of the regional shortening of the endocardial border (percent).

    A segment is normal at ≥ mean − ``normal_sd`` × SD of the normals (built-in: simulated
    normals, ``bench/gated_perfusion_normals.py``; a site should derive its own); below it,
    hypokinetic down to ``hypokinetic_min_percent``, akinetic down to
    ``akinetic_min_percent``, then dyskinetic (the border moves outwards in systole).
    planarmpi defaults, not guideline values. ``signatures`` and ``territories`` name the
    abnormal territories (:func:`planarmpi.analysis.wall_motion.territory_motion`).

    ``normal_sd`` 2.0, with the widening below and the normals rebuilt with the present
    border (2026-12-01), on the wall-motion bench (975000+, 945000+) and the gated
    perfusion population 1240000+: hypokinesis found in 32 of 34, normal views with every
    territory normal 39 of 40 and 53 of 55 (1.8: 32/34, 35/40, 51/55). It had been 1.8
    with the first normals (docs/validation.md).

    Counting noise: the normals' SD holds the noise of *their* counts. A study whose
    segment is measured with more noise (its Poisson SD, from the EF's redraws, above the
    normals' root-mean-square ``normals_noise``) has that segment's limit widened by the
    excess: mean − ``normal_sd`` × √(SD² + σ² − σ_normals²). A quieter study keeps the
    normals' limit. ``widen_for_noise`` False, no redraws (``resamples`` 0) or a segment
    without ``normals_noise`` keep the plain limit.
    """

    normals: dict[str, tuple[float, float]] = field(default_factory=builtin_excursion_normals)
    normals_noise: dict[str, float] = field(default_factory=builtin_excursion_noise)
    #: Name, method, source and path of ``normals`` (result.json names them).
    normals_source: dict[str, str] = field(default_factory=builtin_excursion_source)
    widen_for_noise: bool = True
    normal_sd: float = 2.0
    normal_min_percent: float = 10.0
    hypokinetic_min_percent: float = 3.0
    akinetic_min_percent: float = -3.0
    signatures: dict[str, dict[str, float]] = field(default_factory=builtin_gated_signatures)
    territories: TerritoryParams = field(default_factory=TerritoryParams)


@dataclass(frozen=True, slots=True)
class SegmentExcursion:
    """One LAO segment's endocardial motion and wall thickening, ED → ES."""

    segment: str
    name: str
    territory: str
    shortening_percent: float
    excursion_mm: float
    thickening_percent: float
    grade: str
    #: Poisson SD of the shortening (NaN when not measured: no redraws).
    shortening_sd_percent: float = float("nan")
    #: The lowest normal shortening this segment was graded against.
    normal_limit_percent: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (entries of result.json ``wall_motion``)."""
        return {"segment": self.segment, "name": self.name, "territory": self.territory,
                "regional_shortening_percent": self.shortening_percent,
                "regional_shortening_sd_percent": _finite_or_none(self.shortening_sd_percent),
                "normal_limit_percent": _finite_or_none(self.normal_limit_percent),
                "excursion_mm": self.excursion_mm,
                "thickening_percent": self.thickening_percent, "grade": self.grade,
                "method": "gated-perfusion"}


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _segment_rays(n_rays: int, wall: NDArray[np.bool_]) -> dict[str, NDArray[np.bool_]]:
    """LAO segment key → the wall rays in its image sector (segments without one left out)."""
    angles, _, _ = ray_directions(n_rays)
    image_angle = (angles - 90.0) % 360.0
    out = {}
    for segment in (s for s in SEGMENTS if s.view is View.LAO):
        start, stop = LAO_SECTORS_DEG[segment.index]
        rays = wall & (image_angle >= start) & (image_angle < stop)
        if rays.any():
            out[segment.key] = rays
    return out


def segment_shortening(radius_mm: Array, wall: NDArray[np.bool_], ed: int, es: int
                       ) -> dict[str, float]:
    """LAO segment key → shortening (%) of its mean endocardial radius from slot ``ed`` to
    slot ``es`` (segments without a wall ray left out)."""
    out = {}
    for key, rays in _segment_rays(radius_mm.shape[1], wall).items():
        r_ed, r_es = float(radius_mm[ed, rays].mean()), float(radius_mm[es, rays].mean())
        out[key] = 100.0 * (r_ed - r_es) / r_ed
    return out


def regional_excursion(radius_mm: Array, wall_counts: Array, wall: NDArray[np.bool_],
                       ed: int, es: int, params: GatedWallMotionParams | None = None,
                       shortening_sd_percent: Mapping[str, float] | None = None
                       ) -> list[SegmentExcursion]:
    """Regional shortening and thickening of the five LAO segments.

    Parameters
    ----------
    radius_mm, wall_counts : ndarray (slots, rays)
        From :func:`endocardial_radii` (rays from :func:`ray_directions`).
    wall : ndarray of bool (rays,)
        Rays that cross visible myocardium; only they measure.
    ed, es : int
        End-diastolic and end-systolic slots.
    params : GatedWallMotionParams, optional
    shortening_sd_percent : mapping of segment key to float, optional
        Each segment's Poisson SD of the shortening (%): a segment noisier than the normals
        is graded against a limit widened by the excess (:class:`GatedWallMotionParams`).

    Returns
    -------
    list of SegmentExcursion
        Shortening = (r_ED − r_ES) / r_ED of the segment's mean endocardial radius;
        thickening = relative rise of the ridge counts (partial-volume effect). Segments
        without a measuring ray are left out. Sectors as for the blood pool
        (:data:`LAO_SECTORS_DEG`, image angles: 0° = right, 90° = down), the image taken
        as displayed.
    """
    p = params or GatedWallMotionParams()
    noise = shortening_sd_percent or {}
    segments = {s.key: s for s in SEGMENTS if s.view is View.LAO}
    out = []
    for key, rays in _segment_rays(radius_mm.shape[1], wall).items():
        segment = segments[key]
        r_ed, r_es = float(radius_mm[ed, rays].mean()), float(radius_mm[es, rays].mean())
        c_ed, c_es = float(wall_counts[ed, rays].mean()), float(wall_counts[es, rays].mean())
        shortening = 100.0 * (r_ed - r_es) / r_ed
        thickening = 100.0 * (c_es - c_ed) / c_ed if c_ed > 0 else float("nan")
        sd = float(noise.get(key, float("nan")))
        extra = _excess_noise(sd, p.normals_noise.get(key)) if p.widen_for_noise else 0.0
        limit = normal_limit(key, p, extra)
        grade = grade_motion(shortening, key, p, extra)
        out.append(SegmentExcursion(key, segment.name, segment.territory, shortening,
                                    r_ed - r_es, thickening, grade, sd, limit))
    return out


def _excess_noise(sd_percent: float, normals_sd_percent: float | None) -> float:
    """Noise (%) of a measurement beyond the normals' own: √(σ² − σ_normals²), 0 when the
    measurement is not noisier, either is unknown or not finite."""
    if normals_sd_percent is None or not math.isfinite(sd_percent) \
            or not math.isfinite(normals_sd_percent):
        return 0.0
    return math.sqrt(max(0.0, sd_percent ** 2 - normals_sd_percent ** 2))


@dataclass(frozen=True, slots=True)
class GatedPerfusionParams:
    """Settings of :func:`analyze_gated_perfusion` (documented in docs/function.md).

    Attributes
    ----------
    image_harmonics : int
        Harmonics kept when the slots are smoothed in time.
    curve_harmonics : int
        Harmonics of the fitted volume curve (EDV, ESV are its extremes).
    smoothing_mm : float
        σ of the Gaussian applied to every slot.
    n_rays : int
    wall_fraction : float
        A ray belongs to the wall when its summed-image ridge holds at least this fraction of
        the median ridge count; others (valve plane, severe defect) are interpolated.
    reach_mm : float
        How far beyond the ridge the outer half-maximum is searched.
    resamples : int
        Poisson redraws for the EF's SD (0: none).
    method_sd_percent : float
        Method uncertainty (SD, points) beyond counts and ROI seed, added to the interval:
        the residual error on simulated studies (docs/function.md); 0 for a
        repeatability-only interval.
    seed_shift_px : float
        Shift of the LV seed (the ring search's centre, from which :func:`find_lv` fits the
        ridge ellipse) for the ROI-seed sensitivity.
    random_seed : int
    min_valid_ray_fraction, max_ci_half_width_percent, min_es_radius_mm : float
        Quality-control limits (planarmpi defaults, see docs/function.md).
    """

    image_harmonics: int = 3
    curve_harmonics: int = 2
    smoothing_mm: float = 6.0
    n_rays: int = 72
    wall_fraction: float = 0.5
    reach_mm: float = 35.0
    resamples: int = 8
    seed_shift_px: float = 1.0
    random_seed: int = 20261129
    method_sd_percent: float = 2.5
    min_valid_ray_fraction: float = 0.5
    max_ci_half_width_percent: float = 10.0
    min_es_radius_mm: float = 12.0
    wall_motion: GatedWallMotionParams = field(default_factory=GatedWallMotionParams)

    def __post_init__(self) -> None:
        if not 1 <= self.image_harmonics <= 8 or not 1 <= self.curve_harmonics <= 8:
            raise ValueError("harmonics must be within 1–8")
        if self.n_rays < 16:
            raise ValueError(f"n_rays must be ≥ 16, got {self.n_rays}")
        if not 0 < self.wall_fraction < 1:
            raise ValueError(f"wall_fraction must be within 0–1, got {self.wall_fraction}")
        if self.resamples < 0 or self.resamples == 1:
            raise ValueError("resamples must be 0 or ≥ 2")


@dataclass(frozen=True, slots=True)
class GatedPerfusionResult:
    """Geometric LV function of one gated perfusion series.

    Volumes in ml (area–length, single plane), times in ms from the R wave, radii in mm.
    """

    series_instance_uid: str
    lvef_percent: float
    ci95_percent: tuple[float, float]
    poisson_sd_percent: float
    roi_sd_percent: float
    edv_ml: float
    esv_ml: float
    ed_time_ms: float
    es_time_ms: float
    frame_mid_ms: Array
    volume_ml: Array
    coverage: Array
    centre_rc: tuple[float, float]
    angles_deg: Array
    radius_mm: Array  # (slots, rays): the endocardial border
    wall_rays: NDArray[np.bool_]
    thickening_shift_mm: Array  # (slots,) systolic ridge shift removed
    harmonics: int
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    wall_motion: tuple[SegmentExcursion, ...] = ()
    repeatability_ci95_percent: tuple[float, float] = (float("nan"), float("nan"))
    method_sd_percent: float = 0.0
    wall_motion_territories: tuple[TerritoryMotion, ...] = ()
    #: The normals the wall motion was graded against (name, method, source, path).
    wall_motion_normals: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no images)."""
        return {
            "method": "gated-perfusion",
            "series_instance_uid": self.series_instance_uid,
            "lvef_percent": self.lvef_percent,
            "ci95_percent": list(self.ci95_percent),
            "repeatability_ci95_percent": list(self.repeatability_ci95_percent),
            "method_sd_percent": self.method_sd_percent,
            "poisson_sd_percent": self.poisson_sd_percent,
            # None when the LV was not found again from any moved seed (EF_ROI_SENSITIVE).
            "roi_sd_percent": self.roi_sd_percent if math.isfinite(self.roi_sd_percent)
            else None,
            "edv_ml": self.edv_ml,
            "esv_ml": self.esv_ml,
            "ed_time_ms": self.ed_time_ms,
            "es_time_ms": self.es_time_ms,
            "volume_formula": "area-length single plane, V = 8 A^2 / (3 pi L)",
            "frame_mid_ms": self.frame_mid_ms.tolist(),
            "volume_ml": self.volume_ml.tolist(),
            "coverage": self.coverage.tolist(),
            "lv_centre_rc": list(self.centre_rc),
            "wall_ray_fraction": float(self.wall_rays.mean()),
            "thickening_shift_mm": self.thickening_shift_mm.tolist(),
            "harmonics": self.harmonics,
            "rois_source": "automatic",
            "wall_motion": [w.to_dict() for w in self.wall_motion],
            "wall_motion_territories": [t.to_dict() for t in self.wall_motion_territories],
            "wall_motion_normals": self.wall_motion_normals,
        }


def _temporal_smooth(frames: Array, harmonics: int) -> Array:
    n = frames.shape[0]
    keep = min(harmonics, (n - 1) // 2)
    spectrum = np.fft.rfft(frames, axis=0)
    spectrum[keep + 1:] = 0
    return np.asarray(np.fft.irfft(spectrum, n=n, axis=0))


@dataclass(frozen=True, slots=True)
class BorderTrace:
    """The endocardial border through the cycle.

    Attributes
    ----------
    radius_mm : ndarray (slots, rays)
        Endocardial radius from the LV centre.
    shift_mm : ndarray (slots,)
        Outward ridge shift from wall thickening, relative to end-diastole, removed.
    wall_counts : ndarray (slots, rays)
        Counts at the ridge (smoothed, time-normalised): they rise as the wall thickens
        (partial-volume effect).
    """

    radius_mm: Array
    shift_mm: Array
    wall_counts: Array


def _sub_sample_peak(samples: Array, lo: Array, hi: Array
                     ) -> tuple[Array, Array, NDArray[np.bool_]]:
    """Per row: index (fractional) and value of the maximum within [lo, hi), and if inside.

    A maximum at either end of its band is not a ridge (``inside`` False).
    """
    n_rows, n_cols = samples.shape
    cols = np.arange(n_cols)[None, :]
    band = (cols >= lo[:, None]) & (cols < hi[:, None])
    masked = np.where(band, samples, -np.inf)
    j = np.argmax(masked, axis=1)
    rows = np.arange(n_rows)
    inside: NDArray[np.bool_] = np.asarray((j > lo) & (j < hi - 1), dtype=bool)
    jm, jp = np.clip(j - 1, 0, n_cols - 1), np.clip(j + 1, 0, n_cols - 1)
    y0, y1, y2 = samples[rows, jm], samples[rows, j], samples[rows, jp]
    denom = y0 - 2 * y1 + y2
    offset = np.where(inside & (denom < 0), 0.5 * (y0 - y2) / np.where(denom < 0, denom, -1),
                      0.0)
    return j + np.clip(offset, -0.5, 0.5), y1, inside


def endocardial_radii(frames: Array, centre_rc: tuple[float, float], ridge_px: Array,
                      spacing_mm: tuple[float, float], wall: NDArray[np.bool_],
                      reach_mm: float, step_px: float = 0.1
                      ) -> BorderTrace:
    """Endocardial radius (mm) per slot and ray, the systolic shift removed, wall counts.

    Parameters
    ----------
    frames : ndarray (slots, rows, columns)
        Smoothed, time-normalised slots.
    centre_rc : tuple of float
        Ray origin (pixels).
    ridge_px : ndarray (rays,)
        Summed-image ridge radius along each ray (pixels): the search band is 0.5–1.6 of it.
    spacing_mm : tuple of float
    wall : ndarray of bool (rays,)
        Rays that cross the wall; the others are interpolated from their neighbours.
    reach_mm : float

    Returns
    -------
    BorderTrace
    """
    n_rays = ridge_px.size
    _, drow, dcol = ray_directions(n_rays)
    mm_per_px = np.hypot(drow * spacing_mm[0], dcol * spacing_mm[1])  # along each ray
    r_max = float(ridge_px.max()) * 1.6 + reach_mm / float(min(spacing_mm)) + 1
    radii = np.arange(0.0, r_max, step_px)
    rows = centre_rc[0] + drow[:, None] * radii[None, :]
    cols = centre_rc[1] + dcol[:, None] * radii[None, :]
    lo = np.floor(0.5 * ridge_px / step_px)
    hi = np.ceil(1.6 * ridge_px / step_px)
    reach = np.ceil(reach_mm / mm_per_px / step_px).astype(int)
    peaks = np.empty((frames.shape[0], n_rays))
    tops = np.empty((frames.shape[0], n_rays))
    widths = np.full((frames.shape[0], n_rays), np.nan)
    ok = np.zeros((frames.shape[0], n_rays), dtype=bool)
    col_index = np.arange(radii.size)[None, :]
    for t, frame in enumerate(frames):
        samples = ndimage.map_coordinates(frame, [rows, cols], order=3, mode="nearest")
        j, top, inside = _sub_sample_peak(samples, lo, hi)
        peaks[t] = j * step_px
        tops[t] = top
        j0 = np.round(j).astype(int)
        beyond = (col_index > j0[:, None]) & (col_index <= (j0 + reach)[:, None])
        floor = np.where(beyond, samples, np.inf).min(axis=1)
        half = floor + 0.5 * (top - floor)
        below = beyond & (samples < half[:, None])
        has = below.any(axis=1) & (top - floor > 0.3 * np.abs(top))
        k = np.argmax(below, axis=1)
        ray = np.arange(n_rays)
        v0, v1 = samples[ray, np.maximum(k - 1, 0)], samples[ray, k]
        frac = np.where(v0 > v1, (v0 - half) / np.where(v0 > v1, v0 - v1, 1.0), 0.0)
        outer = (k - 1 + np.clip(frac, 0, 1)) * step_px
        widths[t] = np.where(has, outer - peaks[t], np.nan)
        ok[t] = inside & wall
    peaks_mm = peaks * mm_per_px[None, :]
    widths_mm = widths * mm_per_px[None, :]
    usable = ok & np.isfinite(widths_mm)
    width = np.array([np.median(w[u]) if u.sum() >= 3 else np.nan
                      for w, u in zip(widths_mm, usable, strict=True)])
    if not np.isfinite(width).all():
        raise ValueError("the wall's outer edge is not found in every slot")
    # End-diastole for the shift: the slot whose ridge polygon is largest.
    filled = np.array([_fill(p, o) for p, o in zip(peaks_mm, ok, strict=True)])
    ridge_area = np.array([_polygon_area(r, drow, dcol, spacing_mm, mm_per_px)
                           for r in filled])
    ed = int(np.argmax(ridge_area))
    shift = (width - width[ed]) / 2.0
    return BorderTrace(np.asarray(filled - shift[:, None]), np.asarray(shift), tops)


def _fill(values: Array, ok: NDArray[np.bool_]) -> Array:
    """Replace values of rays not ``ok`` by circular linear interpolation."""
    if ok.all():
        return values
    if ok.sum() < 3:
        raise ValueError("fewer than 3 rays cross the wall")
    n = values.size
    idx = np.flatnonzero(ok)
    x = np.concatenate([idx - n, idx, idx + n])
    y = np.tile(values[idx], 3)
    return np.asarray(np.interp(np.arange(n), x, y))


def _contour_mm(radius_mm: Array, drow: Array, dcol: Array, spacing_mm: tuple[float, float],
                mm_per_px: Array) -> Array:
    """Border points (x, y) in mm from the centre."""
    px = radius_mm / mm_per_px
    return np.column_stack([dcol * px * spacing_mm[1], drow * px * spacing_mm[0]])


def border_points_rc(radius_mm: Array, centre_rc: tuple[float, float],
                     spacing_mm: tuple[float, float]) -> Array:
    """Border points (row, column) in pixels of one slot's endocardial radii (mm)."""
    _, drow, dcol = ray_directions(radius_mm.size)
    mm_per_px = np.hypot(drow * spacing_mm[0], dcol * spacing_mm[1])
    px = np.asarray(radius_mm) / mm_per_px
    return np.column_stack([centre_rc[0] + drow * px, centre_rc[1] + dcol * px])


def _polygon_area(radius_mm: Array, drow: Array, dcol: Array,
                  spacing_mm: tuple[float, float], mm_per_px: Array) -> float:
    xy = _contour_mm(radius_mm, drow, dcol, spacing_mm, mm_per_px)
    x, y = xy[:, 0], xy[:, 1]
    return float(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def area_length_ml(area_mm2: float, length_mm: float) -> float:
    """Single-plane area–length volume ``8 A² / (3 π L)`` (ml) of a cavity outline.

    Parameters
    ----------
    area_mm2 : float
        Area enclosed by the endocardial border.
    length_mm : float
        Long axis.

    Examples
    --------
    An ellipse of semi-axes 40 and 25 mm is the outline of a prolate ellipsoid of volume
    4/3 π · 40 · 25² mm³ = 104.7 ml:

    >>> round(area_length_ml(np.pi * 40 * 25, 80.0), 1)
    104.7
    """
    if length_mm <= 0 or area_mm2 < 0:
        raise ValueError("the long axis must be > 0 and the area ≥ 0")
    return float(8 * area_mm2**2 / (3 * np.pi * length_mm) / 1000.0)


def _volumes(radius_mm: Array, spacing_mm: tuple[float, float]) -> Array:
    _, drow, dcol = ray_directions(radius_mm.shape[1])
    mm_per_px = np.hypot(drow * spacing_mm[0], dcol * spacing_mm[1])
    out = []
    for r in radius_mm:
        xy = _contour_mm(r, drow, dcol, spacing_mm, mm_per_px)
        area = _polygon_area(r, drow, dcol, spacing_mm, mm_per_px)
        d = xy[:, None, :] - xy[None, :, :]
        length = float(np.sqrt((d**2).sum(axis=-1)).max())
        out.append(area_length_ml(area, length))
    return np.asarray(out)


@dataclass(frozen=True, slots=True)
class _Measure:
    ef: float
    edv: float
    esv: float
    t_ed: float
    t_es: float
    volumes: Array
    radius: Array
    shift: Array
    wall_counts: Array


def _measure(norm: Array, centre: tuple[float, float], ridge: Array, wall: NDArray[np.bool_],
             spacing: tuple[float, float], period_ms: float, p: GatedPerfusionParams
             ) -> _Measure:
    smooth = _temporal_smooth(norm, p.image_harmonics)
    sigma = (p.smoothing_mm / spacing[0], p.smoothing_mm / spacing[1])
    smooth = np.asarray(ndimage.gaussian_filter(smooth, (0, *sigma), mode="nearest"))
    trace = endocardial_radii(smooth, centre, ridge, spacing, wall, p.reach_mm)
    volumes = _volumes(trace.radius_mm, spacing)
    n = volumes.size
    curve = fit_fourier(volumes, period_ms, min(p.curve_harmonics, (n - 1) // 2))
    t = np.arange(0.0, period_ms, 1.0)
    fitted = curve(t)
    edv, esv = float(fitted.max()), float(fitted.min())
    if edv <= 0:
        raise ValueError("the fitted end-diastolic volume is not positive")
    return _Measure(100.0 * (edv - esv) / edv, edv, esv, float(t[np.argmax(fitted)]),
                    float(t[np.argmin(fitted)]), volumes, trace.radius_mm, trace.shift_mm,
                    trace.wall_counts)


def _ridge_along_rays(g: LVGeometry, n_rays: int) -> Array:
    _, drow, dcol = ray_directions(n_rays)
    return np.asarray(_ellipse_radius_from_geometry(g, drow, dcol))


def analyze_gated_perfusion(series: GatedSeries,
                            params: GatedPerfusionParams | None = None
                            ) -> GatedPerfusionResult:
    """LVEF and volumes of a gated planar perfusion series by the geometric method.

    Parameters
    ----------
    series : GatedSeries
        ≥ 8 time slots of a perfusion agent (any view; LAO is usual).
    params : GatedPerfusionParams, optional

    Returns
    -------
    GatedPerfusionResult

    Raises
    ------
    ValueError
        Fewer than 8 slots, no pixel spacing, no LV ring, too few rays crossing the wall,
        or no outer wall edge.
    """
    p = params or GatedPerfusionParams()
    a = series.acquisition
    name = a.display_name
    uid = a.series_instance_uid
    counts = np.asarray(series.pixels, dtype=np.float64)
    n = counts.shape[0]
    if n < 8:
        raise ValueError(f"{name}: {n} time slots; a gated EF needs ≥ 8")
    if a.pixel_spacing_mm is None:
        raise ValueError(f"{name}: pixel spacing unknown, so volumes cannot be measured")
    spacing = (float(a.pixel_spacing_mm[0]), float(a.pixel_spacing_mm[1]))
    period_ms = float(series.frame_duration_ms.sum())
    coverage = slot_coverage(counts, 6.0 / float(np.mean(spacing)))
    norm = counts / coverage[:, None, None]
    summed = norm.sum(axis=0)
    ring_params = ProfileParams(smoothing_mm=p.smoothing_mm)
    try:
        ring = ring_candidates(summed, spacing, ring_params, k=1)[0]
        g = find_lv(summed, spacing, ring_params, ring=ring)
    except LVNotFoundError as exc:
        raise ValueError(f"{name}: {exc}") from exc
    ridge = _ridge_along_rays(g, p.n_rays)
    wall = _wall_rays(summed, g.centre_rc, ridge, spacing, p)
    if wall.mean() < p.min_valid_ray_fraction / 2:
        raise ValueError(f"{name}: only {wall.mean():.0%} of the rays cross the myocardial "
                         "wall; no endocardial border can be drawn")
    try:
        m = _measure(norm, g.centre_rc, ridge, wall, spacing, period_ms, p)
        rng = np.random.default_rng(p.random_seed)
        redrawn = [_measure(rng.poisson(counts).astype(float) / coverage[:, None, None],
                            g.centre_rc, ridge, wall, spacing, period_ms, p)
                   for _ in range(p.resamples)]
        redraws = [r.ef for r in redrawn]
        # ROI seed: the LV is found again from the ring's centre moved by
        # ``seed_shift_px`` (ridge rays, ellipse fit), and the rays, their search bands and
        # the wall test are drawn from the ellipse found.
        shifted = []
        lost: list[str] = []
        for dr, dc in ((p.seed_shift_px, 0), (-p.seed_shift_px, 0), (0, p.seed_shift_px),
                       (0, -p.seed_shift_px)):
            try:
                g_s = find_lv(summed, spacing, ring_params,
                              ring=((ring[0][0] + dr, ring[0][1] + dc), ring[1], ring[2]))
                ridge_s = _ridge_along_rays(g_s, p.n_rays)
                wall_s = _wall_rays(summed, g_s.centre_rc, ridge_s, spacing, p)
                shifted.append(_measure(norm, g_s.centre_rc, ridge_s, wall_s, spacing,
                                        period_ms, p).ef)
            except ValueError as exc:  # LVNotFoundError included
                lost.append(f"({dr:+g}, {dc:+g}) px: {exc}")
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from exc
    poisson_sd = float(np.std(redraws, ddof=1)) if len(redraws) > 1 else float("nan")
    roi_sd = float(np.std([m.ef, *shifted], ddof=1)) if shifted else float("nan")
    # The Poisson and ROI SDs come from a few redraws and shifts: a Student-t quantile at
    # the Welch–Satterthwaite degrees of freedom keeps the interval's coverage.
    poisson = (poisson_sd, max(len(redraws) - 1, 1))
    roi = (roi_sd, max(len(shifted), 1))
    precision_half = half_width([poisson, roi])
    half = half_width([poisson, roi, (p.method_sd_percent, math.inf)])
    angles, _, _ = ray_directions(p.n_rays)
    findings = _qc(name, uid, m, precision_half, wall, p)
    if lost:
        findings.append(Finding(
            "EF_ROI_SENSITIVE", Level.WARN,
            f"{name}: with the LV seed moved by {p.seed_shift_px:g} pixel the ventricle was "
            f"not found again ({'; '.join(lost)}): the automatic border is fragile — check "
            f"it; the ROI SD is from {len(shifted)} of 4 moves", uid))
    mid = series.frame_mid_ms
    ed = int(np.argmin(np.abs(mid - m.t_ed)))
    es = int(np.argmin(np.abs(mid - m.t_es)))
    # Each segment's counting noise: the spread of its shortening over the Poisson redraws,
    # measured between the same two slots.
    per_redraw = [segment_shortening(r.radius, wall, ed, es) for r in redrawn]
    shortening_sd = {k: float(np.std([d[k] for d in per_redraw], ddof=1))
                     for k in (per_redraw[0] if len(per_redraw) > 1 else {})}
    regional = regional_excursion(m.radius, m.wall_counts, wall, ed, es, p.wall_motion,
                                  shortening_sd)
    territories = territory_motion(regional, {w.segment: w.shortening_percent
                                              for w in regional},
                                   p.wall_motion.normals, p.wall_motion.signatures,
                                   p.wall_motion.territories)
    return GatedPerfusionResult(
        series_instance_uid=uid, lvef_percent=m.ef, ci95_percent=(m.ef - half, m.ef + half),
        poisson_sd_percent=poisson_sd, roi_sd_percent=roi_sd, edv_ml=m.edv, esv_ml=m.esv,
        repeatability_ci95_percent=(m.ef - precision_half, m.ef + precision_half),
        method_sd_percent=p.method_sd_percent,
        ed_time_ms=m.t_ed, es_time_ms=m.t_es, frame_mid_ms=series.frame_mid_ms,
        volume_ml=m.volumes, coverage=coverage, centre_rc=g.centre_rc, angles_deg=angles,
        radius_mm=m.radius, wall_rays=wall, thickening_shift_mm=m.shift,
        harmonics=p.curve_harmonics, findings=tuple(findings), wall_motion=tuple(regional),
        wall_motion_territories=territories,
        wall_motion_normals=dict(p.wall_motion.normals_source) if regional else None)


def _wall_rays(summed: Array, centre: tuple[float, float], ridge: Array,
               spacing: tuple[float, float], p: GatedPerfusionParams) -> NDArray[np.bool_]:
    """Rays whose summed-image ridge holds ≥ ``wall_fraction`` of the median ridge count."""
    sigma = (p.smoothing_mm / spacing[0], p.smoothing_mm / spacing[1])
    smooth = ndimage.gaussian_filter(summed, sigma, mode="nearest")
    _, drow, dcol = ray_directions(ridge.size)
    frac = np.linspace(0.7, 1.3, 25)
    rows = centre[0] + drow[:, None] * ridge[:, None] * frac[None, :]
    cols = centre[1] + dcol[:, None] * ridge[:, None] * frac[None, :]
    top = ndimage.map_coordinates(smooth, [rows, cols], order=1, mode="nearest").max(axis=1)
    floor = float(np.percentile(smooth, 10))
    net = top - floor
    return np.asarray(net >= p.wall_fraction * float(np.median(net)))


def _qc(name: str, uid: str, m: _Measure, half_ci: float, wall: NDArray[np.bool_],
        p: GatedPerfusionParams) -> list[Finding]:
    out: list[Finding] = []
    if wall.mean() < p.min_valid_ray_fraction:
        out.append(Finding(
            "GATED_WALL_INCOMPLETE", Level.WARN,
            f"{name}: only {wall.mean():.0%} of the border crosses visible myocardium (a "
            "large defect or the valve plane); the rest is interpolated and the EF is less "
            "reliable", uid))
    es_radius = float(m.radius[int(np.argmin(m.volumes))].mean())
    if es_radius < p.min_es_radius_mm:
        out.append(Finding(
            "SMALL_CAVITY", Level.WARN,
            f"{name}: end-systolic cavity radius {es_radius:.1f} mm (< {p.min_es_radius_mm:g}"
            " mm): in a small ventricle the blurred cavity is hard to delineate and a "
            "geometric EF tends to be over-estimated", uid))
    if half_ci > p.max_ci_half_width_percent:
        out.append(Finding(
            "EF_UNCERTAIN", Level.WARN,
            f"{name}: gated-perfusion LVEF {m.ef:.1f}% ± {half_ci:.1f} (95%): too "
            "uncertain to rely on", uid))
    return out
