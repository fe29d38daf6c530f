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
from planarmpi.analysis.perfusion.scoring import ViewDefects, in_arc, score_view, segment_arcs
from planarmpi.model import Acquisition, Finding, Level, StaticImage, View
from planarmpi.model.segments import SEGMENTS

__all__ = [
    "LHR_LIMITS",
    "ViewAnalysis",
    "analyze_view",
    "below_inferior_wall_deg",
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
    hot_neighbour_pixels: int = 0


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


#: The lung field of the lung/heart ratio: from 1 cm above the LV to this far up (mm).
LUNG_FIELD_HEIGHT_MM = 100.0
#: A hot focus in the lung field (an injection site or infiltration in the arm, a marker,
#: a lymph node) is narrower than this (mm): a grey opening of this width removes it and
#: keeps the lung, which spans the field.
LUNG_FOCUS_WIDTH_MM = 50.0
#: ... and it rises above the opened image by at least this factor (the smoothed lung's
#: own texture stays within ~1.1 of it).
LUNG_FOCUS_EXCESS = 1.5
#: ... and by at least this fraction of the myocardial maximum (the air beside the chest
#: exceeds its opening by a factor too, at no count level worth leaving out).
LUNG_FOCUS_MIN_EXCESS = 0.1
#: Lung counts above this factor × the (smoothed) myocardial maximum are not lung, however
#: wide the region (a lung/heart ratio of ~1 is already extreme: the phantom's lungs at
#: 0.92 of the myocardium read 1.0).
LUNG_MAX_OF_MYOCARDIUM = 1.5
#: A focus extends over its tail while the counts stay above this factor × the median of
#: the rest of the field's lung pixels (grown only where a focus was found).
LUNG_FOCUS_TAIL = 1.3
#: ... and is left out with this margin (mm): its blurred edge.
LUNG_FOCUS_MARGIN_MM = 10.0
#: With foci over more than this share of the lung field, the ratio is not measured (what
#: is left of the field reads low: the mediastinum and the chest's edge).
LUNG_FOCUS_MAX_SHARE = 0.5


def lung_heart_ratio(pixels: Array, profile: Profile,
                     pixel_spacing_mm: tuple[float, float]) -> dict[str, Any]:
    """Anterior-view lung/heart ratio: mean counts per pixel, lung field over myocardium.

    Myocardial ROI: the wall pixels (0.7–1.3 ridge radii) at or above half the wall's
    maximum. Lung field: on the patient's left side of the image (from the LV's centre
    column, less half its short axis, to the image edge), from 1 cm above the top of the
    LV up to :data:`LUNG_FIELD_HEIGHT_MM` higher, the pixels at or above half the field's
    99th percentile (image smoothed with σ 6 mm) — the left lung, not the mediastinum
    between the lungs or the air beside the chest. Hot foci are left out of the field first
    (``excluded_focus_pixels``; :func:`hot_foci`: peaks in the field that exceed the
    smoothed image's grey opening of :data:`LUNG_FOCUS_WIDTH_MM` by
    :data:`LUNG_FOCUS_EXCESS` × and by :data:`LUNG_FOCUS_MIN_EXCESS` of the myocardial
    maximum, and any region above :data:`LUNG_MAX_OF_MYOCARDIUM` × that maximum, grown
    over their tails and by :data:`LUNG_FOCUS_MARGIN_MM`). An injection site or a marker
    there otherwise became the lung ROI: in three simulated normals a focus of 24 mm FWHM
    at 3× the myocardial maximum read 2.1–3.3 instead of 0.34–0.39, one at half of it up
    to 0.07 more. With the exclusion, in 8 simulated normals (16 anterior views, a focus
    beside the chest 7 cm above the image centre), foci of 12–47 mm FWHM at 0.5–20× the
    myocardial maximum read within 0.01 of the ratio without them (6 of the 16 views with
    the widest and hottest not measured); 71 mm foci at 3× read up to 0.12 off when
    measured (5 of 16). No focus was found in 160 anterior views of simulated
    studies without one. Foci over more than :data:`LUNG_FOCUS_MAX_SHARE` of the field
    leave no measurable lung (``value`` None, with the reason). Raw counts, no background
    subtraction (as the ratio is defined). Until 2026-12-03 the lung ROI was a small square straight
    above the LV centre, which in the phantom lies over the mediastinum: a Tl-201 study
    whose lungs held 0.92 of the myocardial counts read 0.32 (normal); it now reads 1.0,
    and normals 0.27–0.36 (Tc-99m) and 0.41 (Tl-201) for phantom values 0.25–0.33 (the
    phantom's ratio is scatter-free).
    """
    g = profile.geometry
    smooth = ndimage.gaussian_filter(pixels, 1.0)
    wall = myocardial_mask(profile, pixels.shape, 0.7, 1.3)
    myo_roi = wall & (smooth >= 0.5 * smooth[wall].max())
    px = float(pixel_spacing_mm[0])
    top = g.centre_rc[0] - float(np.max(g.ridge_radius_px)) * 1.3
    r1 = round(top - 10.0 / px)
    r0 = max(0, round(r1 - LUNG_FIELD_HEIGHT_MM / px))
    c0 = max(0, round(g.centre_rc[1] - g.semi_axes_px[1]))
    if r1 - r0 < 3 or c0 >= pixels.shape[1] - 2 or not myo_roi.any():
        return {"value": None, "reason": "no lung field above the LV within the image"}
    blurred = ndimage.gaussian_filter(pixels, 6.0 / px)
    field = blurred[r0:r1, c0:]
    myo_max = float(blurred[wall].max())
    seeds = hot_foci(blurred, px, LUNG_FOCUS_MIN_EXCESS * myo_max,
                     (r0, r1, c0, pixels.shape[1]))[r0:r1, c0:]
    seeds |= field > LUNG_MAX_OF_MYOCARDIUM * myo_max  # too hot to be lung, however wide
    focus = _grown_foci(field, seeds, px)
    share = float(focus.mean())
    if share > LUNG_FOCUS_MAX_SHARE:
        return {"value": None, "excluded_focus_pixels": int(focus.sum()),
                "lung_field_rc": [r0, c0, r1, int(pixels.shape[1])],
                "reason": f"a hot focus (an injection site, marker or infiltration?) covers "
                          f"{share:.0%} of the lung field: the lung is not measurable"}
    lung = ~focus & (field >= 0.5 * float(np.percentile(field[~focus], 99)))
    if not lung.any() or float(pixels[myo_roi].mean()) <= 0:
        return {"value": None, "reason": "no counts in the lung field or the myocardium"}
    rows, cols = np.nonzero(lung)
    return {
        "value": float(pixels[r0:r1, c0:][lung].mean() / pixels[myo_roi].mean()),
        # The field searched, and the box around the pixels taken as lung.
        "lung_field_rc": [r0, c0, r1, int(pixels.shape[1])],
        "lung_roi_rc": [int(r0 + rows.min()), int(c0 + cols.min()), int(r0 + rows.max()) + 1,
                        int(c0 + cols.max()) + 1],
        "lung_pixels": int(lung.sum()),
        "excluded_focus_pixels": int(focus.sum()),
        "myocardial_roi_pixels": int(myo_roi.sum()),
    }


def hot_foci(blurred: Array, pixel_spacing_mm: float, min_excess: float,
             within: tuple[int, int, int, int]) -> NDArray[np.bool_]:
    """Compact hot foci of a smoothed image whose peak lies ``within`` a region
    (row0, row1, col0, col1; end-exclusive).

    A focus is a connected set of pixels where the image exceeds its grey opening (a square
    :data:`LUNG_FOCUS_WIDTH_MM` wide) by :data:`LUNG_FOCUS_EXCESS` × and by at least
    ``min_excess`` counts. Structures wider than
    the square (lungs, the heart's cavity, the liver) are kept by the opening; the air
    beside the body is not hot enough; the heart's walls and the gut peak outside the lung
    field. Returns a mask of the whole image: the foci's cores (the lung/heart ratio grows
    them over their tails, :func:`_grown_foci`).
    """
    width = max(3, round(LUNG_FOCUS_WIDTH_MM / pixel_spacing_mm))
    opened = ndimage.grey_opening(blurred, size=(width, width))  # separable: fast
    candidate = (blurred > LUNG_FOCUS_EXCESS * opened) & (blurred - opened >= min_excess)
    labels, count = ndimage.label(candidate)
    if count == 0:
        return np.zeros(blurred.shape, dtype=bool)
    peaks = ndimage.maximum_position(blurred, labels, range(1, count + 1))
    r0, r1, c0, c1 = within
    kept = [i + 1 for i, (r, c) in enumerate(peaks) if r0 <= r < r1 and c0 <= c < c1]
    return np.asarray(np.isin(labels, kept), dtype=bool)


def _grown_foci(field: Array, seeds: NDArray[np.bool_],
                pixel_spacing_mm: float) -> NDArray[np.bool_]:
    """``seeds`` (hot foci of the lung field) grown over their tails: into connected pixels
    hotter than :data:`LUNG_FOCUS_TAIL` × the median of the rest of the field's lung pixels
    (those at ≥ half its 99th percentile; repeated as that level falls), then by
    :data:`LUNG_FOCUS_MARGIN_MM`."""
    focus = seeds
    if not focus.any():
        return focus
    for _ in range(10):
        if focus.all():
            break
        rest = field[~focus]
        lung = rest[rest >= 0.5 * float(np.percentile(rest, 99))]
        level = LUNG_FOCUS_TAIL * float(np.median(lung))
        grown = ndimage.binary_propagation(focus, mask=focus | (field > level))
        if grown.sum() == focus.sum():
            break
        focus = grown
    margin = round(LUNG_FOCUS_MARGIN_MM / pixel_spacing_mm)
    if margin > 0:
        focus = ndimage.binary_dilation(focus, iterations=margin)
    return np.asarray(focus, dtype=bool)


#: How far beyond the wall's outer half-maximum edge its own counts reach (mm): the blurred
#: edge of a wall imaged with a low-energy collimator falls from half its maximum to the
#: body background within ~15 mm (2.5 SD of a 12–14 mm FWHM at the heart's depth).
WALL_TAIL_MM = 15.0
#: Extracardiac activity is looked for over this depth beyond the wall's tail (mm).
EXTRACARDIAC_DEPTH_MM = 30.0
_SMOOTH_PX = 1.5


def below_inferior_wall_deg(view: str) -> Array:
    """The display angles (3° apart) of the rays searched for extracardiac activity in a
    view: the arcs of its inferior segments (``planar_segment_arcs.json``: ANT-4/5, LAO-3,
    LLAT-4/5) that point below the LV centre (120–240°); 120–240° in another view. (The
    lateral rays of the LAO view, 120–155°, cross a large breast, not the abdomen.)"""
    rays = np.arange(120.0, 240.0 + 1e-9, 3.0)
    arcs = [(start, end) for index, start, end in segment_arcs().get(view, [])
            if "infer" in next((x.name for x in SEGMENTS
                                   if x.view.value == view and x.index == index), "")]
    if not arcs:
        return rays
    return rays[np.logical_or.reduce([in_arc(rays, start, end) for start, end in arcs])]


def extracardiac_activity(pixels: Array, profile: Profile, params: PerfusionParams,
                          pixel_spacing_mm: tuple[float, float], view: str = "") -> dict[str, Any]:
    """Activity below the inferior wall: the largest counts within 3 cm beyond the wall's
    blurred edge, along the rays of :func:`below_inferior_wall_deg` (the view's inferior
    segments that face down; 120–240° of the display before 2026-12-03), relative to the
    myocardial maximum.

    Along each ray the wall's outer edge is where the counts, going outwards from the
    ray's wall peak (its maximum within 0.7–1.3 ridge radii), first fall below half the
    myocardial maximum (the ridge ellipse is not the LV's outline at the apex; activity
    joined to the wall above half its maximum puts the edge at 1.3 ridge radii, and no
    edge lies beyond 2 ridge radii). The search starts :data:`WALL_TAIL_MM` beyond that edge,
    where the wall's own counts have fallen to the body background, and goes
    :data:`EXTRACARDIAC_DEPTH_MM` deeper. (Before 2026-12-03 it started at 1.45 × the
    largest ridge radius, which at the apex lay on the wall's blurred edge: a normal heart
    with faint liver and gut read 0.4–0.6 and was reported.)

    Returns ``ratio`` (the maximum there over the myocardial maximum, as before) and
    ``ratio_above_background``: the same with the body background around the heart (the
    median of the background box's edges) taken from both — how much the activity stands
    out, as a reader sees it, rather than how thick the patient is (a lateral view's
    background alone reaches 0.4–0.5 of the myocardial maximum). The latter is compared
    with ``PerfusionParams.extracardiac_ratio``; the activity affects the profile when it
    also raises the box's lower edge by at least half its excess (the interpolated
    background under the inferior wall rises with it).
    """
    g = profile.geometry
    px = float(pixel_spacing_mm[0])
    smooth = ndimage.gaussian_filter(pixels, _SMOOTH_PX)
    wall = myocardial_mask(profile, pixels.shape, 0.7, 1.3)
    if not wall.any():
        return {"ratio": None}
    myo_max = float(smooth[wall].max())
    if myo_max <= 0:
        return {"ratio": None}
    tail_px, depth_px = WALL_TAIL_MM / px, EXTRACARDIAC_DEPTH_MM / px
    step = 360.0 / g.ridge_radius_px.size
    below = below_inferior_wall_deg(view)
    ridge = np.interp(below, np.arange(g.ridge_radius_px.size) * step, g.ridge_radius_px,
                      period=360.0)
    theta = np.radians(below)
    reach = float(np.max(ridge)) * 2.0 + tail_px + depth_px
    radii = np.arange(0.0, reach + 0.5, 0.5)
    rows = g.centre_rc[0] - np.outer(np.cos(theta), radii)
    cols = g.centre_rc[1] + np.outer(np.sin(theta), radii)
    inside = ((rows >= 0) & (rows <= pixels.shape[0] - 1)
              & (cols >= 0) & (cols <= pixels.shape[1] - 1))
    values = ndimage.map_coordinates(smooth, [rows, cols], order=1, mode="nearest")
    r = radii[None, :]
    in_wall = (r >= 0.7 * ridge[:, None]) & (r <= 1.3 * ridge[:, None])
    peak_r = radii[np.argmax(np.where(in_wall, values, -np.inf), axis=1)]
    fallen = (values < 0.5 * myo_max) & (r > peak_r[:, None])
    edge = np.where(fallen.any(axis=1),
                    np.minimum(radii[np.argmax(fallen, axis=1)], 2.0 * ridge),
                    1.3 * ridge)
    search = (r >= edge[:, None] + tail_px) & (r <= edge[:, None] + tail_px + depth_px) & inside
    if not search.any():
        return {"ratio": None}
    found = np.where(search, values, -np.inf)
    k = np.unravel_index(int(np.argmax(found)), found.shape)
    ratio = float(found[k] / myo_max)
    # The body background around the heart: the median of the background box's edges
    # (what the interpolative background is drawn from; one raised edge moves it little).
    r0, r1, c0, c1 = (max(profile.box[0], 0), min(profile.box[1], pixels.shape[0]),
                      max(profile.box[2], 0), min(profile.box[3], pixels.shape[1]))
    edges = [smooth[r0, c0:c1], smooth[r1 - 1, c0:c1], smooth[r0:r1, c0], smooth[r0:r1, c1 - 1]]
    body = float(np.median(np.concatenate(edges)))
    contrast = max(myo_max - body, 1e-9)
    above = max(float(found[k]) - body, 0.0) / contrast
    # Does it reach the profile? Activity that raises the box's lower edge above the body
    # background by at least half its own excess raises the interpolated background under
    # the inferior wall (and lowers that part of the profile).
    bottom = edges[1]
    edge_above = max(float(bottom.max()) - body, 0.0) / contrast if bottom.size else 0.0
    affects = bool(above >= params.extracardiac_ratio and edge_above >= 0.5 * above)
    return {"ratio": ratio, "ratio_above_background": above,
            "background_edge_ratio": float(bottom.max() / myo_max) if bottom.size else 0.0,
            "body_background_ratio": body / myo_max, "affects_profile": affects,
            "max_rc": [round(float(rows[k]), 1), round(float(cols[k]), 1)]}


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
    if vp.hot_neighbour_pixels:
        findings.append(Finding(
            "HOT_NEIGHBOUR_EXCLUDED", Level.INFO,
            f"{name}: a focus much hotter than the heart's wall (gut, stomach, an injection "
            "site?) lay beside it and drew the LV outline towards it; it was left out when "
            f"the outline was found ({vp.hot_neighbour_pixels} pixels) — check the figure",
            acq.series_instance_uid))
    if profile.background_edge_foci:
        findings.append(Finding(
            "BACKGROUND_FOCUS_EXCLUDED", Level.INFO,
            f"{name}: a hot focus (gut, stomach, an injection site?) lay on the edge of the "
            f"background region on {profile.background_edge_foci} side(s) and was left out "
            "of the background interpolated under the heart; a profile next to it may "
            "still be affected — check the image", acq.series_instance_uid))
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
        extracardiac = extracardiac_activity(pixels, profile, params, acq.pixel_spacing_mm,
                                             acq.view.value)
    return ViewAnalysis(image, pixels, profile, defects, max_counts, area_cm2, extracardiac,
                        vp.ring_rank, vp.ring_score_ratio, vp.position_disagreement_mm,
                        vp.hot_neighbour_pixels)


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
        "lv_hot_neighbour_pixels": v.hot_neighbour_pixels,
        "lv_area_cm2": round(v.lv_area_cm2, 3),
        "max_lv_counts_per_pixel": v.max_lv_counts_per_pixel,
        "background_box_rc": list(v.profile.box),
        "background_edge_foci": v.profile.background_edge_foci,
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
