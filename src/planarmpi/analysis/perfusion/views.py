"""One static view's analysis: its profile against the limits of its view, state,
tracer and sex, scored per segment, with the view's own measurements (LV counts, area,
anterior lung/heart ratio, activity below the inferior wall) and findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from planarmpi.analysis.perfusion.normals import VIEW_NAMES, NormalLimits, ViewLimits, state_group
from planarmpi.analysis.perfusion.params import PerfusionParams
from planarmpi.analysis.perfusion.profiles import Profile
from planarmpi.analysis.perfusion.rings import (
    POSITION_CAP,
    POSITION_TOLERANCE_MM,
    UNCERTAIN_RING_RATIO,
    ViewProfile,
)
from planarmpi.analysis.perfusion.scoring import ViewDefects, score_view
from planarmpi.model import Acquisition, Finding, Level, StaticImage, View

__all__ = [
    "LHR_LIMITS",
    "ViewAnalysis",
    "analyze_view",
    "extracardiac_activity",
    "lung_heart_ratio",
    "myocardial_mask",
    "reduced_scores",
    "view_json",
    "view_limits_for",
]

Array = NDArray[np.float64]


#: Lung/heart ratio upper limits of normal (anterior view), Wackers p.100 (domain notes).
LHR_LIMITS = {"tl201": 0.50, "tc99m": 0.42}

@dataclass(frozen=True, slots=True)
class ViewAnalysis:
    """One static view: profile, comparison (if limits exist) and measurements."""

    image: StaticImage
    pixels: Array
    profile: Profile
    defects: ViewDefects | None
    max_lv_counts_per_pixel: float
    lv_area_cm2: float
    extracardiac: dict[str, Any] | None
    #: How the view's LV ring was chosen across views (as in :class:`~.rings.ViewProfile`).
    ring_rank: int = 0
    ring_score_ratio: float = 1.0
    position_disagreement_mm: float = 0.0


def view_limits_for(limits: NormalLimits, acquisition: Acquisition, tolerance_deg: float
                    ) -> tuple[ViewLimits | None, str]:
    """The limits of a view and state, or None and why they do not apply.

    Limits that recorded their normals' camera angles (``view_angle_range_deg``) apply to
    a view whose recorded angle lies within that range widened by ``tolerance_deg``; a view
    with no recorded angle is taken to match.
    """
    found = limits.for_view(acquisition.view, acquisition.state)
    recorded = acquisition.view_angle_deg
    if found is None or found.view_angle_range_deg is None or recorded is None:
        return found, ""
    low, high = found.view_angle_range_deg
    if low - tolerance_deg <= recorded <= high + tolerance_deg:
        return found, ""
    normals = f"{low:g}°" if low == high else f"{low:g}–{high:g}°"
    return None, (f"{acquisition.view.value} {recorded:g}° lies outside the angles of the "
                  f"normal limits' {found.view} views ({normals}, ± {tolerance_deg:g}°)")


def myocardial_mask(profile: Profile, shape: tuple[int, int], inner: float,
                    outer: float) -> NDArray[np.bool_]:
    """Pixels between ``inner`` and ``outer`` × the ridge radius around the LV centre."""
    g = profile.geometry
    rr, cc = np.indices(shape, dtype=np.float64)
    dr, dc = rr - g.centre_rc[0], cc - g.centre_rc[1]
    dist = np.hypot(dr, dc)
    angle = np.degrees(np.arctan2(dc, -dr)) % 360.0
    step = 360.0 / g.ridge_radius_px.size
    ridge = np.interp(angle, np.arange(g.ridge_radius_px.size) * step, g.ridge_radius_px,
                      period=360.0)
    return np.asarray((dist >= inner * ridge) & (dist <= outer * ridge))


def lung_heart_ratio(pixels: Array, profile: Profile,
                     pixel_spacing_mm: tuple[float, float]) -> dict[str, Any]:
    """Anterior-view lung/heart ratio: mean counts per pixel, lung ROI over myocardial ROI.

    Myocardial ROI: the wall pixels (0.7–1.3 ridge radii) at or above half the wall's
    maximum. Lung ROI: a square of side 0.8 × the LV's short diameter over the left lung,
    centred 1 cm above the top of the LV on the LV centre's column (the left lung above
    the heart in the anterior view), avoiding the heart. Raw counts, no background
    subtraction (as the ratio is defined).
    """
    g = profile.geometry
    smooth = ndimage.gaussian_filter(pixels, 1.0)
    wall = myocardial_mask(profile, pixels.shape, 0.7, 1.3)
    myo_roi = wall & (smooth >= 0.5 * smooth[wall].max())
    top = g.centre_rc[0] - float(np.max(g.ridge_radius_px)) * 1.3
    side = max(2, round(0.8 * g.semi_axes_px[1] * 2))
    gap = 10.0 / pixel_spacing_mm[0]
    r1 = round(top - gap)
    r0 = r1 - side
    c0 = round(g.centre_rc[1] - side / 2)
    if r0 < 0 or c0 < 0 or c0 + side > pixels.shape[1]:
        return {"value": None, "reason": "the lung ROI falls outside the image"}
    lung = pixels[r0:r1, c0:c0 + side]
    return {
        "value": float(lung.mean() / pixels[myo_roi].mean()),
        "lung_roi_rc": [r0, c0, r1, c0 + side],
        "myocardial_roi_pixels": int(myo_roi.sum()),
    }


def extracardiac_activity(pixels: Array, profile: Profile, params: PerfusionParams,
                          pixel_spacing_mm: tuple[float, float]) -> dict[str, Any]:
    """Activity below the inferior wall (within 3 cm of it, 120–240° of the display)."""
    g = profile.geometry
    rows, cols = np.indices(pixels.shape, dtype=np.float64)
    dr, dc = rows - g.centre_rc[0], cols - g.centre_rc[1]
    angle = np.degrees(np.arctan2(dc, -dr)) % 360.0
    dist = np.hypot(dr, dc)
    outer = float(np.max(g.ridge_radius_px))
    band = ((angle >= 120) & (angle <= 240) & (dist > 1.45 * outer)
            & (dist <= 1.45 * outer + 30.0 / pixel_spacing_mm[0]))
    smooth = ndimage.gaussian_filter(pixels, 1.5)
    wall = myocardial_mask(profile, pixels.shape, 0.7, 1.3)
    myo_max = float(smooth[wall].max())
    if not band.any() or myo_max <= 0:
        return {"ratio": None}
    ratio = float(smooth[band].max() / myo_max)
    # Does it reach the profile? Its activity inside the search band of the inferior rays,
    # or on the background box edge below the heart, changes the profile.
    _, r1, c0, c1 = profile.box
    bottom_edge = smooth[min(r1, pixels.shape[0]) - 1, max(c0, 0):min(c1, pixels.shape[1])]
    edge_ratio = float(bottom_edge.max() / myo_max) if bottom_edge.size else 0.0
    affects = bool(ratio >= params.extracardiac_ratio and edge_ratio >= 0.5 * ratio)
    return {"ratio": ratio, "background_edge_ratio": edge_ratio, "affects_profile": affects}


def analyze_view(vp: ViewProfile, limits: NormalLimits | None, params: PerfusionParams,
                 findings: list[Finding]) -> ViewAnalysis | None:
    image, pixels, flips = vp.image, vp.pixels, vp.flips
    acq = image.acquisition
    name = acq.display_name
    if acq.pixel_spacing_mm is None:
        findings.append(Finding("PERFUSION_NO_SPACING", Level.WARN,
                                f"{name}: pixel spacing unknown: no perfusion profile",
                                acq.series_instance_uid))
        return None
    if any(flips):
        orientation = "\\".join(acq.patient_orientation or ())
        findings.append(Finding(
            "IMAGE_REORIENTED", Level.INFO,
            f"{name}: Patient Orientation {orientation} — image "
            f"{'flipped top-bottom ' if flips[0] else ''}"
            f"{'mirrored left-right ' if flips[1] else ''}to the standard display",
            acq.series_instance_uid))
    if vp.profile is None:
        findings.append(Finding("LV_NOT_FOUND", Level.FAIL,
                                f"{name} ({acq.source_file}): no LV found: {vp.problem}",
                                acq.series_instance_uid))
        return None
    profile = vp.profile
    if vp.ring_rank and vp.ring_score_ratio < UNCERTAIN_RING_RATIO:
        findings.append(Finding(
            "LV_CHOICE_UNCERTAIN", Level.WARN,
            f"{name}: the brightest ring-shaped focus disagreed with the other views on the "
            f"heart's position, and the ring taken instead (no. {vp.ring_rank + 1}) has only "
            f"{vp.ring_score_ratio:.0%} of its score: if the patient or the table moved "
            "between views, this view's LV outline and profile are wrong — check the figure",
            acq.series_instance_uid))
    elif vp.ring_rank:
        findings.append(Finding(
            "LV_CHOSEN_ACROSS_VIEWS", Level.INFO,
            f"{name}: the brightest ring-shaped focus disagreed with the other views on the "
            f"heart's position (liver, gut or breast?); ring no. {vp.ring_rank + 1} was taken",
            acq.series_instance_uid))
    if vp.position_disagreement_mm > POSITION_TOLERANCE_MM * np.sqrt(POSITION_CAP):
        findings.append(Finding(
            "LV_POSITION_DISAGREES", Level.WARN,
            f"{name}: the LVs outlined in the views of this acquisition disagree by "
            f"{vp.position_disagreement_mm:.0f} mm on the heart's position, most in this view "
            f"(tolerance {POSITION_TOLERANCE_MM:g} mm): the patient or the table moved "
            "between views, or one view's LV is not the one outlined — check the figure",
            acq.series_instance_uid))
    wall = myocardial_mask(profile, pixels.shape, 0.5, 1.6)
    max_counts = float(pixels[wall].max())
    if max_counts < params.low_counts_per_pixel:
        findings.append(Finding(
            "LOW_LV_COUNTS_PERFUSION", Level.WARN,
            f"{name}: maximal LV counts {max_counts:.0f}/pixel, below "
            f"{params.low_counts_per_pixel:g} (Wackers): suboptimal, defects may be noise",
            acq.series_instance_uid))
    view_limits, angle_problem = view_limits_for(limits, acq, params.view_angle_tolerance_deg) \
        if limits else (None, "")
    defects = None
    if view_limits is not None and view_limits.mean.size == profile.values.size:
        defects = score_view(acq.view, profile, view_limits, params.scoring)
        if defects.noise_widening_percent >= params.noise_widening_note_percent:
            findings.append(Finding(
                "PERFUSION_LIMITS_WIDENED_FOR_NOISE", Level.INFO,
                f"{name}: the profile is noisier than the normal limits' studies were (fewer "
                f"counts): its limits were widened by {defects.noise_widening_percent:.0f}% "
                "on average, so a mild defect may stay within them",
                acq.series_instance_uid))
    elif angle_problem:
        findings.append(Finding(
            "VIEW_ANGLE_OUTSIDE_LIMITS", Level.WARN,
            f"{name}: {angle_problem}: profile not compared (a projection changes with the "
            "camera angle; normal limits built from normals at this angle, `planarmpi "
            "normals build`, would score it)", acq.series_instance_uid))
    elif limits is not None and acq.view in VIEW_NAMES:
        findings.append(Finding(
            "NO_VIEW_LIMITS", Level.WARN,
            f"{name}: the normal limits {limits.name!r} hold no {acq.view.value} "
            f"{state_group(acq.state) or acq.state.value} profile of "
            f"{profile.values.size} angles: profile not compared", acq.series_instance_uid))
    elif limits is not None:
        findings.append(Finding(
            "VIEW_WITHOUT_LIMITS", Level.INFO,
            f"{name}: normal limits exist for anterior, LAO and left lateral views only: "
            f"this {acq.label.removesuffix(' ' + acq.state.value)} view's profile is shown, "
            "not compared, and takes no part in the verdict", acq.series_instance_uid))
    area_cm2 = profile.geometry.area_px() * acq.pixel_spacing_mm[0] \
        * acq.pixel_spacing_mm[1] / 100.0
    extracardiac = None
    if acq.view in (View.ANTERIOR, View.LEFT_LATERAL, View.LAO):
        extracardiac = extracardiac_activity(pixels, profile, params, acq.pixel_spacing_mm)
    return ViewAnalysis(image, pixels, profile, defects, max_counts, area_cm2, extracardiac,
                        vp.ring_rank, vp.ring_score_ratio, vp.position_disagreement_mm)


def view_json(v: ViewAnalysis, limits_used: bool) -> dict[str, Any]:
    acq = v.image.acquisition
    g = v.profile.geometry
    px = float(np.mean(acq.pixel_spacing_mm or (1.0, 1.0)))
    out: dict[str, Any] = {
        "view": acq.view.value, "view_angle_deg": acq.view_angle_deg,
        "series_instance_uid": acq.series_instance_uid, "sop_instance_uid": acq.sop_instance_uid,
        "lv_centre_rc": [round(c, 3) for c in g.centre_rc],
        "lv_semi_axes_mm": [round(a * px, 2) for a in g.semi_axes_px],
        "lv_long_axis_deg": round(g.long_axis_deg, 2),
        "ridge_inlier_fraction": round(g.inlier_fraction, 3),
        "lv_ring_rank": v.ring_rank,
        "lv_ring_score_ratio": round(v.ring_score_ratio, 3),
        "lv_position_disagreement_mm": round(v.position_disagreement_mm, 2),
        "lv_area_cm2": round(v.lv_area_cm2, 3),
        "max_lv_counts_per_pixel": v.max_lv_counts_per_pixel,
        "background_box_rc": list(v.profile.box),
        "profile": {"angles_deg": v.profile.angles_deg.round(3).tolist(),
                    "values": v.profile.values.round(5).tolist(),
                    "normaliser_counts": round(v.profile.normaliser_counts, 3),
                    "noise_sd": None if v.profile.noise_sd is None
                    else v.profile.noise_sd.round(5).tolist()},
        "extracardiac": v.extracardiac,
    }
    if v.defects is not None and limits_used:
        d = v.defects
        out["profile"]["rotation_deg"] = d.rotation_deg
        out["profile"]["aligned_values"] = d.aligned_values.round(5).tolist()
        out["profile"]["lower_limit"] = d.lower_limit.round(5).tolist()
        out["profile"]["abnormal"] = d.abnormal.tolist()
        if d.sd_used is not None:
            out["profile"]["sd_used"] = d.sd_used.round(5).tolist()
        out["noise_widening_percent"] = round(d.noise_widening_percent, 3)
        out.update(extent_percent=d.extent_percent, summed_deficit=d.summed_deficit,
                   mean_depth_percent=d.mean_depth_percent,
                   segments=[s.to_json() for s in d.segments])
    return out


def reduced_scores(views: Sequence[ViewAnalysis]) -> dict[str, int]:
    """Segment key → score of the reduced segments (score > 0) of one state's views."""
    return {s.segment.key: s.score for v in views if v.defects
            for s in v.defects.segments if s.score}
