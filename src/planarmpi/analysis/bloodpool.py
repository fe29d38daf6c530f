"""Gated blood-pool (ERNA, "MUGA") left-ventricular function from the LAO best-septal view.

Count-based: LV counts are proportional to LV volume, so
``EF = (ED_net − ES_net) / ED_net × 100`` with ``net = ROI counts − background per pixel ×
ROI pixels`` (the project's domain notes, "Count-based EF"). A variable (per-frame) LV ROI is
used (a fixed ED ROI under-estimates EF: Slutsky 1980); the background is a crescent a few
pixels outside the LV's lateral and inferior wall (4–6 o'clock), counted at end-systole,
avoiding the RV, atria and hot vessels; the curve is smoothed by a Fourier series.

Forward framing leaves the last slots with fewer beats. Pixels away from the heart hold the
same activity all through the cycle, so their counts measure each slot's share of the
acquisition time (``coverage``), and every slot is corrected by it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from planarmpi.analysis.fourier import FourierCurve, fit_fourier
from planarmpi.analysis.uncertainty import half_width
from planarmpi.analysis.ventricles import VentricleMap, find_ventricles
from planarmpi.analysis.wall_motion import (
    SegmentMotion,
    TerritoryMotion,
    WallMotionParams,
    regional_wall_motion,
    territory_motion,
)
from planarmpi.model import Finding, GatedSeries, Level, View

__all__ = ["BloodPoolParams", "BloodPoolResult", "ManualRois", "analyze_blood_pool",
           "slot_coverage"]

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class BloodPoolParams:
    """Settings of :func:`analyze_blood_pool` (documented in docs/function.md)."""

    harmonics: int = 3
    smoothing_sigma_mm: float = 3.0
    edge_fraction: float = 0.48
    # Regional wall motion and phase: each sector holds a fifth of the LV's counts, so its
    # ROIs and the phase images are drawn on more smoothed slots (docs/function.md).
    regional_smoothing_sigma_mm: float = 4.0
    regional_edge_fraction: float = 0.5
    background_gap_mm: float = 6.4
    background_width_mm: float = 6.4
    background_start_deg: float = 20.0  # image angles: 0 = right (lateral), 90 = down
    background_stop_deg: float = 110.0
    background_hot_fraction: float = 1.25
    min_background_pixels: int = 6
    bootstrap: int = 300
    # Poisson redraws of the whole series with every automatic ROI drawn again: the count
    # noise of the EF including the ROIs' own response to it (docs/function.md).
    noise_redraws: int = 8
    edge_fraction_shift: float = 0.05
    seed_shift_px: int = 1
    random_seed: int = 20261129
    # Method uncertainty (SD, points) beyond counts and ROIs, from simulated studies
    # (docs/function.md, "Uncertainty"); 0 for a repeatability-only interval.
    method_sd_percent: float = 1.7
    # Quality-control limits: planarmpi defaults, not guideline values (docs/function.md).
    min_lv_slot_counts: float = 5000.0
    max_ci_half_width_percent: float = 5.0
    max_roi_sd_percent: float = 2.0
    wall_motion: WallMotionParams = field(default_factory=WallMotionParams)

    def __post_init__(self) -> None:
        if not 1 <= self.harmonics <= 8:
            raise ValueError(f"harmonics must be within 1–8, got {self.harmonics}")
        if not 0.2 <= self.edge_fraction <= 0.8:
            raise ValueError(f"edge_fraction must be within 0.2–0.8, got {self.edge_fraction}")
        if not 0.2 <= self.regional_edge_fraction <= 0.8 or self.regional_smoothing_sigma_mm < 0:
            raise ValueError("regional_edge_fraction must be within 0.2–0.8 and "
                             "regional_smoothing_sigma_mm ≥ 0")
        if self.bootstrap < 0:
            raise ValueError("bootstrap must be ≥ 0")
        if self.noise_redraws < 0 or self.noise_redraws == 1:
            raise ValueError("noise_redraws must be 0 or ≥ 2")


@dataclass(frozen=True, slots=True)
class ManualRois:
    """ROIs drawn by a user: an LV mask per slot, or ED and ES only, and a background mask.

    With two LV masks (ED, ES) the ES mask serves the end-systolic slot and the ED mask all
    others (the classical two-ROI method); masks are boolean (rows, columns).
    """

    lv: tuple[Mask, ...]
    background: Mask | None = None
    who: str = ""


@dataclass(frozen=True, slots=True)
class BloodPoolResult:
    """LV function from one gated blood-pool series.

    Counts are background-subtracted and coverage-corrected; rates are in end-diastolic
    volumes per second (EDV/s); times in ms from the R wave.
    """

    series_instance_uid: str
    lvef_percent: float
    ci95_percent: tuple[float, float]
    poisson_sd_percent: float
    roi_sd_percent: float
    ed_counts: float
    es_counts: float
    ed_time_ms: float
    es_time_ms: float
    peak_ejection_rate_edv_per_s: float
    peak_filling_rate_edv_per_s: float
    time_to_peak_filling_ms: float
    first_third_filling_fraction: float
    harmonics: int
    frame_mid_ms: Array
    curve_counts: Array
    coverage: Array
    lv_masks: tuple[Mask, ...]
    background: Mask
    background_counts_per_pixel: float
    ventricles: VentricleMap
    rois_source: str
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    rois_by: str = ""
    wall_motion: tuple[SegmentMotion, ...] = ()
    wall_motion_territories: tuple[TerritoryMotion, ...] = ()
    repeatability_ci95_percent: tuple[float, float] = (float("nan"), float("nan"))
    method_sd_percent: float = 0.0
    roi_variants_percent: dict[str, float] = field(default_factory=dict)
    seed_sd_percent: float = 0.0
    noise_sd_percent: float = float("nan")
    #: The normals the wall motion was graded against (name, method, source, path).
    wall_motion_normals: dict[str, str] | None = None

    def ed_es_rois(self) -> tuple[int, int, Mask, Mask]:
        """End-diastolic and end-systolic slot indices and their LV ROIs.

        With an ROI per slot (automatic) those of the ED and ES slots; with a user's two
        ROIs, the ED and the ES one.
        """
        ed = int(np.argmin(np.abs(self.frame_mid_ms - self.ed_time_ms)))
        es = int(np.argmin(np.abs(self.frame_mid_ms - self.es_time_ms)))
        masks = self.lv_masks
        if len(masks) > 2:
            return ed, es, masks[ed], masks[es]
        return ed, es, masks[0], masks[1]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no images)."""
        return {
            "method": "gated-blood-pool",
            "series_instance_uid": self.series_instance_uid,
            "lvef_percent": self.lvef_percent,
            "ci95_percent": list(self.ci95_percent),
            "repeatability_ci95_percent": list(self.repeatability_ci95_percent),
            "method_sd_percent": self.method_sd_percent,
            "poisson_sd_percent": self.poisson_sd_percent,
            "roi_sd_percent": self.roi_sd_percent,
            "roi_variants_percent": dict(self.roi_variants_percent),
            "seed_sd_percent": self.seed_sd_percent,
            # None with manual ROIs: they do not move with the noise (poisson_sd_percent).
            "noise_sd_percent": self.noise_sd_percent
            if math.isfinite(self.noise_sd_percent) else None,
            "ed_counts": self.ed_counts,
            "es_counts": self.es_counts,
            "ed_time_ms": self.ed_time_ms,
            "es_time_ms": self.es_time_ms,
            "peak_ejection_rate_edv_per_s": self.peak_ejection_rate_edv_per_s,
            "peak_filling_rate_edv_per_s": self.peak_filling_rate_edv_per_s,
            "time_to_peak_filling_ms": self.time_to_peak_filling_ms,
            "first_third_filling_fraction": self.first_third_filling_fraction,
            "harmonics": self.harmonics,
            "curve_counts": self.curve_counts.tolist(),
            "frame_mid_ms": self.frame_mid_ms.tolist(),
            "coverage": self.coverage.tolist(),
            "background_counts_per_pixel": self.background_counts_per_pixel,
            "background_pixels": int(self.background.sum()),
            "lv_roi_pixels": [int(m.sum()) for m in self.lv_masks],
            "rois_source": self.rois_source,
            "rois_by": self.rois_by or None,
            "wall_motion": [w.to_dict() for w in self.wall_motion],
            "wall_motion_territories": [t.to_dict() for t in self.wall_motion_territories],
            "wall_motion_normals": self.wall_motion_normals,
        }


@dataclass(frozen=True, slots=True)
class _Counts:
    """What the EF is computed from: counts in the ROIs."""

    roi_counts: Array  # (F,) raw counts in each slot's LV ROI
    roi_pixels: Array  # (F,)
    background_counts: float  # raw counts in the background ROI, slots around ES
    background_weight: float  # background pixels × coverage of those slots


def slot_coverage(counts: Array, sigma_px: float) -> Array:
    """Relative acquisition time of each slot, from the pixels that do not beat.

    Pixels away from the heart and great vessels hold the same activity all through the
    cycle, so their summed counts per slot, relative to the median slot, measure each slot's
    share of acquisition time. Static pixels: the lower half of the body pixels ranked by
    relative first-harmonic amplitude.
    """
    smooth = ndimage.gaussian_filter(counts, (0, sigma_px, sigma_px), mode="nearest")
    mean = smooth.mean(axis=0)
    body = mean > 0.1 * float(mean.max())
    spectrum = np.fft.rfft(smooth, axis=0)
    relative = np.where(body, np.abs(spectrum[1]) / np.maximum(np.abs(spectrum[0]), 1e-9),
                        np.inf)
    static = body & (relative <= np.median(relative[body]))
    if static.sum() < 16:
        static = body
    totals = counts[:, static].sum(axis=1)
    return np.asarray(totals / np.median(totals))


def _smooth(frames: Array, sigma_px: float) -> Array:
    spatial = ndimage.gaussian_filter(frames, (0, sigma_px, sigma_px), mode="nearest")
    # Circular [1, 2, 1] / 4 in time: the cycle wraps.
    return np.asarray(0.25 * np.roll(spatial, 1, axis=0) + 0.5 * spatial
                      + 0.25 * np.roll(spatial, -1, axis=0))


def _lv_masks(smooth: Array, vmap: VentricleMap, level: float, fraction: float) -> list[Mask]:
    """Per slot: the LV basin's pixels above ``level + fraction · (slot peak − level)``.

    The half-way level between the LV's own maximum and the background is where a blurred
    boundary lies; only the connected part that holds the LV's maximum is kept.
    """
    territory = vmap.lv_territory
    masks: list[Mask] = []
    for frame in smooth:
        peak = float(frame[territory].max())
        inside = territory & (frame >= level + fraction * (peak - level))
        labels, n = ndimage.label(inside)
        if n > 1:
            # Keep the part holding the LV's end-diastolic maximum, else the part that
            # overlaps the end-diastolic ROI most.
            seed = vmap.lv_seed_rc
            if seed is not None and labels[seed]:
                inside = labels == labels[seed]
            elif masks:
                overlap = ndimage.sum(masks[0], labels, index=np.arange(1, n + 1))
                inside = labels == 1 + int(np.argmax(overlap))
        masks.append(ndimage.binary_fill_holes(inside))
    return masks


def _background(ed_mask: Mask, es_mask: Mask, vmap: VentricleMap, mean_image: Array,
                p: BloodPoolParams, pixel_mm: float) -> Mask:
    """Crescent just outside the LV's end-systolic edge, lateral to inferior (4–6 o'clock).

    Counted at end-systole, it samples what lies under the LV where the LV has withdrawn;
    it reaches as far out as needed to hold ``background_width_mm`` of ring.
    """
    gap = max(1, round(p.background_gap_mm / pixel_mm))
    width = max(1, round(p.background_width_mm / pixel_mm))
    inner = ndimage.binary_dilation(es_mask, iterations=gap)
    rr, cc = np.indices(ed_mask.shape)
    centre = ndimage.center_of_mass(np.where(ed_mask, mean_image, 0.0))  # end-diastolic LV
    angle = np.degrees(np.arctan2(rr - centre[0], cc - centre[1])) % 360.0
    span = (p.background_stop_deg - p.background_start_deg) % 360.0
    sector = ((angle - p.background_start_deg) % 360.0) <= span
    band = np.zeros_like(es_mask)
    # A crescent squeezed by the RV, spleen or image edge (or thin on a coarse matrix) is
    # widened by up to two pixels until it holds ``min_background_pixels``.
    for extra in range(3):
        outer = ndimage.binary_dilation(es_mask, iterations=gap + width + extra)
        band = outer & ~inner & sector & ~(vmap.rv_territory | vmap.other)
        if band.any():
            band &= mean_image <= p.background_hot_fraction * float(np.median(mean_image[band]))
        if band.sum() >= p.min_background_pixels:
            break
    return np.asarray(band)


def _count(counts: Array, masks: list[Mask], background: Mask, es_index: int,
           coverage: Array) -> _Counts:
    n = counts.shape[0]
    es_slots = [(es_index + k) % n for k in (-1, 0, 1)]
    return _Counts(
        roi_counts=np.array([counts[f][m].sum() for f, m in enumerate(masks)], dtype=np.float64),
        roi_pixels=np.array([m.sum() for m in masks], dtype=np.float64),
        background_counts=float(sum(counts[f][background].sum() for f in es_slots)),
        background_weight=float(background.sum() * coverage[es_slots].sum()),
    )


def _net(c: _Counts, coverage: Array) -> Array:
    """Background-subtracted, coverage-corrected LV counts per slot."""
    per_pixel = c.background_counts / max(c.background_weight, 1e-9)
    return np.asarray((c.roi_counts - per_pixel * coverage * c.roi_pixels) / coverage)


def _fit(net: Array, period_ms: float, harmonics: int) -> tuple[float, float, float, float,
                                                                FourierCurve]:
    curve = fit_fourier(net, period_ms, harmonics)
    t = np.arange(0.0, period_ms, 1.0)
    values = curve(t)
    i_ed = int(np.argmax(values))
    order = np.roll(np.arange(t.size), -i_ed)  # end-systole follows end-diastole
    i_es = int(order[np.argmin(values[order])])
    return float(values[i_ed]), float(values[i_es]), float(t[i_ed]), float(t[i_es]), curve


def _es_slot(norm: Array, masks: list[Mask], period_ms: float, harmonics: int) -> int:
    """Slot of end-systole from the ROIs' counts (before background subtraction)."""
    rough = np.array([norm[f][m].sum() for f, m in enumerate(masks)])
    *_, t_es, _ = _fit(rough, period_ms, harmonics)
    return min(int(t_es / period_ms * len(masks)), len(masks) - 1)


def _ef(c: _Counts, coverage: Array, period_ms: float, harmonics: int) -> float:
    ed, es, *_ = _fit(_net(c, coverage), period_ms, harmonics)
    return 100.0 * (ed - es) / ed if ed > 0 else float("nan")


def _poisson_sd(c: _Counts, coverage: Array, period_ms: float, p: BloodPoolParams) -> float:
    """SD of EF when the ROIs' counts are redrawn from their Poisson distributions."""
    if p.bootstrap < 2:
        return float("nan")
    rng = np.random.default_rng(p.random_seed)
    efs = [
        _ef(replace(c, roi_counts=rng.poisson(np.clip(c.roi_counts, 0, None)).astype(float),
                    background_counts=float(rng.poisson(max(c.background_counts, 0.0)))),
            coverage, period_ms, p.harmonics)
        for _ in range(p.bootstrap)
    ]
    return float(np.nanstd(efs, ddof=1))


def _between(t: Array, start: float, stop: float) -> Mask:
    """Times from ``start`` to ``stop`` going forward around the cycle."""
    if start <= stop:
        return np.asarray((t >= start) & (t <= stop))
    return np.asarray((t >= start) | (t <= stop))


def _manual_masks(manual: ManualRois, n: int, es_index: int) -> list[Mask]:
    if len(manual.lv) == n:
        return [np.asarray(m, dtype=bool) for m in manual.lv]
    if len(manual.lv) != 2:
        raise ValueError(f"manual LV ROIs: give one per slot ({n}) or two (ED, ES), "
                         f"got {len(manual.lv)}")
    ed, es = (np.asarray(m, dtype=bool) for m in manual.lv)
    # With only ED and ES drawn, the ES ROI serves the slot of end-systole and the ED ROI
    # every other slot (the classical two-ROI method).
    return [es if f == es_index else ed for f in range(n)]


def _automatic_rois(norm: Array, smooth: Array, vmap: VentricleMap, p: BloodPoolParams,
                    pixel_mm: float, period_ms: float) -> tuple[list[Mask], Mask, int, float]:
    """LV ROI per slot, background crescent, end-systolic slot and background level.

    The end-systole of ROIs drawn without background places the crescent; its level then
    sets the ROIs' edges, and the final ROIs fix end-systole, where the background is counted.
    """
    n = smooth.shape[0]
    masks = _lv_masks(smooth, vmap, 0.0, p.edge_fraction)
    es_index = _es_slot(norm, masks, period_ms, p.harmonics)
    background = _background(masks[0], masks[es_index], vmap, smooth.mean(axis=0), p, pixel_mm)
    if background.sum() < 4:
        raise ValueError(f"the background crescent holds {int(background.sum())} pixels (< 4)")
    level = float(np.mean([smooth[(es_index + k) % n][background].mean() for k in (-1, 0, 1)]))
    masks = _lv_masks(smooth, vmap, level, p.edge_fraction)
    return masks, background, _es_slot(norm, masks, period_ms, p.harmonics), level


def _automatic_ef(counts: Array, norm: Array, smooth: Array, vmap: VentricleMap,
                  coverage: Array, p: BloodPoolParams, pixel_mm: float,
                  period_ms: float) -> float | None:
    """The EF with every automatic ROI drawn on ``smooth``; None when they cannot be."""
    try:
        masks, background, es_index, _ = _automatic_rois(norm, smooth, vmap, p, pixel_mm,
                                                         period_ms)
    except ValueError:
        return None
    return _ef(_count(counts, masks, background, es_index, coverage), coverage, period_ms,
               p.harmonics)


def _noise_sd(counts: Array, coverage: Array, vmap: VentricleMap, p: BloodPoolParams,
              pixel_mm: float, period_ms: float) -> tuple[float, int]:
    """SD of the EF over Poisson redraws of the series, every automatic ROI drawn again.

    A parametric bootstrap: each pixel's counts are redrawn from a Poisson distribution of
    that mean, and the LV ROIs, the background crescent and end-systole are found again on
    the redrawn slots (the ventricles' territories are kept). Unlike the fixed-ROI Poisson
    SD it includes how the ROIs' edges move with the noise — on simulated studies halving
    the counts moved the EF with an SD of 2.5 points where the fixed-ROI SD said 0.7.
    Returns the SD and the number of redraws it comes from (NaN, n when fewer than two
    redraws could be analysed).
    """
    rng = np.random.default_rng(p.random_seed + 1)
    efs = []
    for _ in range(p.noise_redraws):
        noisy = rng.poisson(np.clip(counts, 0, None)).astype(np.float64)
        norm = noisy / coverage[:, None, None]
        efs.append(_automatic_ef(noisy, norm, _smooth(norm, p.smoothing_sigma_mm / pixel_mm),
                                 vmap, coverage, p, pixel_mm, period_ms))
    finite = [e for e in efs if e is not None and math.isfinite(e)]
    sd = float(np.std(finite, ddof=1)) if len(finite) >= 2 else float("nan")
    return sd, len(finite)


def _regional(counts: Array, norm: Array, coverage: Array, masks: list[Mask],
              measured: _Counts, vmap: VentricleMap, automatic: bool,
              p: BloodPoolParams, pixel_mm: float, period_ms: float) -> list[SegmentMotion]:
    """Regional wall motion, on slots smoothed by ``regional_smoothing_sigma_mm``.

    When the regional settings differ from the EF's, the phase images are made again on
    those slots and, with automatic ROIs, so are the ventricles, the LV ROIs (at
    ``regional_edge_fraction``) and the background — the built-in wall-motion normals and
    signatures were derived with them. The EF's ROIs serve when the regional ones cannot
    be drawn, and with manual ROIs.
    """
    vmap_r, masks_r, measured_r = vmap, masks, measured
    if (p.regional_smoothing_sigma_mm, p.regional_edge_fraction) != \
            (p.smoothing_sigma_mm, p.edge_fraction):
        smooth_r = _smooth(norm, p.regional_smoothing_sigma_mm / pixel_mm)
        vmap_r = find_ventricles(smooth_r, pixel_mm)
        if automatic and vmap_r.lv_seed_rc is not None:
            try:
                masks_r, background_r, es_r, _ = _automatic_rois(
                    norm, smooth_r, vmap_r, replace(p, edge_fraction=p.regional_edge_fraction),
                    pixel_mm, period_ms)
                measured_r = _count(counts, masks_r, background_r, es_r, coverage)
            except ValueError:
                masks_r, measured_r = masks, measured  # the EF's ROIs stand
    net = _net(measured_r, coverage)
    i_ed, i_es = int(np.argmax(net)), int(np.argmin(net))
    background_per_pixel = measured_r.background_counts / measured_r.background_weight
    return regional_wall_motion(norm[i_ed], norm[i_es], masks_r[i_ed], masks_r[i_es],
                                background_per_pixel, p.wall_motion,
                                phase_deg=vmap_r.phase_deg, amplitude=vmap_r.amplitude)


def analyze_blood_pool(series: GatedSeries, params: BloodPoolParams | None = None,
                       manual: ManualRois | None = None) -> BloodPoolResult:
    """LV ejection fraction, rates and ROIs of a gated blood-pool series.

    Parameters
    ----------
    series : GatedSeries
        ≥ 8 time slots; the LAO best-septal view is expected.
    params : BloodPoolParams, optional
    manual : ManualRois, optional
        User ROIs replace the automatic ones (the result says so).

    Returns
    -------
    BloodPoolResult

    Raises
    ------
    ValueError
        Fewer than 8 slots, no pixel spacing, no LV found, no usable background.

    References
    ----------
    Bacharach SL et al., J Nucl Med 1979 (framing, Fourier fitting); Slutsky R et al. 1980
    (variable ROIs); the project's domain notes ``function.md``.
    """
    p = params or BloodPoolParams()
    a = series.acquisition
    uid = a.series_instance_uid
    name = a.display_name
    counts = np.asarray(series.pixels, dtype=np.float64)
    n = counts.shape[0]
    if n < 8:
        raise ValueError(f"{name}: {n} time slots; blood-pool EF needs ≥ 8")
    if a.pixel_spacing_mm is None:
        raise ValueError(f"{name}: pixel spacing unknown")
    pixel_mm = float(np.mean(a.pixel_spacing_mm))
    period_ms = float(series.frame_duration_ms.sum())
    sigma_px = p.smoothing_sigma_mm / pixel_mm
    coverage = slot_coverage(counts, sigma_px)
    norm = counts / coverage[:, None, None]
    smooth = _smooth(norm, sigma_px)
    k = p.seed_shift_px
    offsets = ((k, 0), (-k, 0), (0, k), (0, -k)) if manual is None and k > 0 else ()
    vmap = find_ventricles(smooth, pixel_mm, seed_offsets_px=offsets)
    if manual is None and vmap.lv_seed_rc is None:
        raise ValueError(f"{name}: no left ventricle found (no count maximum beating in "
                         "ventricular phase)")
    mean_image = smooth.mean(axis=0)
    level = 0.0
    if manual is None:
        try:
            masks, background, es_index, level = _automatic_rois(norm, smooth, vmap, p,
                                                                 pixel_mm, period_ms)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from exc
    else:
        masks = _manual_masks(manual, n, 0)
        es_index = _es_slot(norm, masks, period_ms, p.harmonics)
        if manual.background is not None:
            background = np.asarray(manual.background, dtype=bool)
        else:
            background = _background(masks[0], masks[es_index], vmap, mean_image, p,
                                     pixel_mm)
        if background.sum() < 4:
            raise ValueError(f"{name}: the background crescent holds "
                             f"{int(background.sum())} pixels (< 4)")
        masks = _manual_masks(manual, n, es_index)
        # The final ROIs fix end-systole, where the background is counted.
        es_index = _es_slot(norm, masks, period_ms, p.harmonics)
    measured = _count(counts, masks, background, es_index, coverage)
    net = _net(measured, coverage)
    ed, es, t_ed, t_es, fitted = _fit(net, period_ms, p.harmonics)
    if ed <= 0:
        raise ValueError(f"{name}: background exceeds the LV counts (net ED ≤ 0)")
    ef = 100.0 * (ed - es) / ed
    t = np.arange(0.0, period_ms, 1.0)
    slope = fitted.derivative(t) * 1000.0 / ed  # EDV/s
    systole = _between(t, t_ed, t_es)
    per = float(-slope[systole].min()) if systole.any() else float("nan")
    diastole = np.flatnonzero(~systole)
    i_pfr = int(diastole[np.argmax(slope[diastole])]) if diastole.size else 0
    ttpf = float((t[i_pfr] - t_es) % period_ms)
    third = (t_es + ((t_ed - t_es) % period_ms) / 3.0) % period_ms
    ff_third = float((fitted(np.array([third]))[0] - es) / (ed - es)) if ed > es else float("nan")

    poisson_sd = _poisson_sd(measured, coverage, period_ms, p)
    roi_sd = 0.0
    variants: dict[str, float] = {}
    if manual is None:
        for shift in (-p.edge_fraction_shift, p.edge_fraction_shift):
            v_masks = _lv_masks(smooth, vmap, level, p.edge_fraction + shift)
            variants[f"edge {p.edge_fraction + shift:.2f}"] = _ef(
                _count(counts, v_masks, background, es_index, coverage), coverage, period_ms,
                p.harmonics)
        for dilate in (True, False):
            op = ndimage.binary_dilation if dilate else ndimage.binary_erosion
            v_bkg = np.asarray(op(background, iterations=1)) & ~masks[0]
            if v_bkg.sum() >= 4:
                variants["background " + ("dilated" if dilate else "eroded")] = _ef(
                    _count(counts, masks, v_bkg, es_index, coverage), coverage, period_ms,
                    p.harmonics)
        roi_sd = float(np.std([ef, *variants.values()], ddof=1))
    # ROI-seed sensitivity: the ventricles' seeds (watershed markers) moved by
    # ``seed_shift_px`` in four directions and every automatic ROI drawn again.
    seed_efs = [ef]
    for moved in vmap.moved:
        if moved.lv_seed_rc is not None:
            moved_ef = _automatic_ef(counts, norm, smooth, moved, coverage, p, pixel_mm,
                                     period_ms)
            if moved_ef is not None:
                seed_efs.append(moved_ef)
    seed_sd = float(np.std(seed_efs, ddof=1)) if len(seed_efs) > 1 else 0.0
    noise_sd, n_noise = float("nan"), 0
    if manual is None and p.noise_redraws >= 2:
        noise_sd, n_noise = _noise_sd(counts, coverage, vmap, p, pixel_mm, period_ms)
    # Student-t quantile at the Welch–Satterthwaite degrees of freedom: the ROI SD comes
    # from a handful of perturbations. The count noise is the redraws' SD when the ROIs
    # are automatic (they move with the noise), the fixed ROIs' Poisson SD otherwise.
    noise = (noise_sd, n_noise - 1) if math.isfinite(noise_sd) else \
        (poisson_sd, max(p.bootstrap - 1, 1))
    roi = (roi_sd, max(len(variants), 1))
    seed = (seed_sd, max(len(seed_efs) - 1, 1))
    precision_half = half_width([noise, roi, seed])
    half = half_width([noise, roi, seed, (p.method_sd_percent, math.inf)])
    findings = _qc(series, ef, precision_half, masks, measured, pixel_mm, roi_sd, p)
    background_per_pixel = measured.background_counts / measured.background_weight
    regional = _regional(counts, norm, coverage, masks, measured, vmap, manual is None, p,
                         pixel_mm, period_ms)
    territories = territory_motion(regional, {w.segment: w.regional_ef_percent
                                              for w in regional},
                                   p.wall_motion.normals, p.wall_motion.signatures,
                                   p.wall_motion.territories)
    return BloodPoolResult(
        series_instance_uid=uid, lvef_percent=float(ef), ci95_percent=(ef - half, ef + half),
        repeatability_ci95_percent=(ef - precision_half, ef + precision_half),
        method_sd_percent=p.method_sd_percent,
        poisson_sd_percent=poisson_sd, roi_sd_percent=roi_sd, roi_variants_percent=variants,
        seed_sd_percent=seed_sd, noise_sd_percent=noise_sd,
        ed_counts=ed, es_counts=es,
        ed_time_ms=t_ed, es_time_ms=t_es, peak_ejection_rate_edv_per_s=per,
        peak_filling_rate_edv_per_s=float(slope[i_pfr]), time_to_peak_filling_ms=ttpf,
        first_third_filling_fraction=ff_third, harmonics=p.harmonics,
        frame_mid_ms=series.frame_mid_ms, curve_counts=net, coverage=coverage,
        lv_masks=tuple(masks), background=background,
        background_counts_per_pixel=background_per_pixel,
        ventricles=vmap, rois_source="manual" if manual is not None else "automatic",
        findings=tuple(findings), rois_by=manual.who if manual is not None else "",
        wall_motion=tuple(regional), wall_motion_territories=territories,
        wall_motion_normals=dict(p.wall_motion.normals_source) if regional else None,
    )


def _qc(series: GatedSeries, ef: float, half_ci: float, masks: list[Mask], c: _Counts,
        pixel_mm: float, roi_sd: float, p: BloodPoolParams) -> list[Finding]:
    """ROI sanity and count checks specific to the blood-pool EF."""
    uid = series.acquisition.series_instance_uid
    name = series.acquisition.display_name
    out: list[Finding] = []
    ed_area = float(masks[0].sum()) * pixel_mm**2 / 100.0
    if series.acquisition.view is not View.LAO:
        out.append(Finding("BLOOD_POOL_NOT_LAO", Level.WARN,
                           f"{name}: view is {series.acquisition.view.value}; the LV is "
                           "separated from the RV only in the LAO best-septal view", uid))
    if not 8.0 <= ed_area <= 120.0:
        out.append(Finding("LV_ROI_SIZE", Level.FAIL,
                           f"{name}: end-diastolic LV ROI of {ed_area:.0f} cm² is "
                           "outside 8–120 cm²: the ROI is not on the LV", uid))
    density = c.roi_counts / np.maximum(c.roi_pixels, 1)
    background = c.background_counts / max(c.background_weight, 1e-9)
    if background >= 0.8 * float(density.min()):
        out.append(Finding("LOW_TARGET_TO_BACKGROUND", Level.WARN,
                           f"{name}: background {background:.0f} counts/pixel is ≥ 80% of "
                           f"the LV ROI at end-systole ({float(density.min()):.0f}): EF is very "
                           "sensitive to the background ROI", uid))
    if float(c.roi_counts.min()) < p.min_lv_slot_counts:
        out.append(Finding("LOW_LV_FRAME_COUNTS", Level.WARN,
                           f"{name}: {float(c.roi_counts.min()):.0f} counts in the LV ROI "
                           f"of the emptiest slot (< {p.min_lv_slot_counts:g}): EF precision "
                           "is limited", uid))
    if half_ci > p.max_ci_half_width_percent:
        out.append(Finding("EF_UNCERTAIN", Level.WARN,
                           f"{name}: LVEF {ef:.1f}% ± {half_ci:.1f} (95%): too uncertain "
                           "for serial comparison (significant change ≥ 5–10 points, Wackers "
                           "1979)", uid))
    if roi_sd > p.max_roi_sd_percent:
        out.append(Finding("EF_ROI_SENSITIVE", Level.WARN,
                           f"{name}: EF moves by {roi_sd:.1f} points (SD) when the edge "
                           "level or the background ROI is perturbed: check the ROIs", uid))
    return out
