"""Stress ↔ rest: per-segment reversibility (ischaemia / scar / mixed) from the two
states' scores and the paired stress − rest difference, the study's and each territory's
overall reversibility, planar TID (anterior view) and Tl-201 washout; and Tl-201
reinjection images, which show viable myocardium in defects fixed on redistribution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from planarmpi.analysis.perfusion.normals import (
    VIEW_NAMES,
    NormalLimits,
    ViewLimits,
    best_shift,
    difference_noise_sd,
    scaled_difference,
)
from planarmpi.analysis.perfusion.params import PerfusionParams
from planarmpi.analysis.perfusion.profiles import Profile, corrected_image
from planarmpi.analysis.perfusion.rings import rest_to_stress_shift_px
from planarmpi.analysis.perfusion.scoring import (
    in_arc,
    runs_below,
    score_view,
    segment_arcs,
    territory_weights,
)
from planarmpi.analysis.perfusion.tid import lv_size_ratio
from planarmpi.analysis.perfusion.views import ViewAnalysis, view_limits_for
from planarmpi.model import Tracer, View
from planarmpi.model.segments import view_of, views_of

__all__ = [
    "CORROBORATION_MIN_WEIGHT",
    "REINJECTION_SOURCE",
    "TL201_HALF_LIFE_H",
    "WASHOUT_MIN_INITIAL_SHARE",
    "apply_reinjection",
    "corroborated_at_rest",
    "measure_reversibility",
    "overall_reversibility",
    "paired_difference",
    "planar_tid",
    "reversibility_by_territory",
    "segment_reversibility",
    "tl201_washout",
]


#: Tl-201 physical half-life (hours), for washout decay correction.
TL201_HALF_LIFE_H: float = Tracer.TL201.half_life_h or 73.01


def planar_tid(s: ViewAnalysis, r: ViewAnalysis, p: PerfusionParams) -> dict[str, Any]:
    """Planar TID of one view pair (:mod:`.tid`), with the ellipse areas for reference."""
    out: dict[str, Any] = {
        "ratio": None, "upper_limit": p.tid_limit, "abnormal": None,
        "stress_area_cm2": s.lv_area_cm2, "rest_area_cm2": r.lv_area_cm2,
        "ellipse_area_ratio": s.lv_area_cm2 / r.lv_area_cm2 if r.lv_area_cm2 > 0 else None,
        "method": "stress/rest area enclosed by the LV wall where both images show it: "
                  "the rest wall scaled and moved onto the stress wall (least squares), "
                  "ratio = scale²",
        "source": "Weiss, JACC 1987 (planar TID, anterior view)"}
    spacing = s.image.acquisition.pixel_spacing_mm
    if spacing is None or spacing != r.image.acquisition.pixel_spacing_mm \
            or s.pixels.shape != r.pixels.shape:
        out["problem"] = ("the stress and rest images differ in matrix or pixel size: "
                          "TID not measured")
        return out
    shift = rest_to_stress_shift_px(s.pixels, r.pixels, spacing, r.profile.geometry.centre_rc,
                                    p)
    m = lv_size_ratio(corrected_image(s.pixels, s.profile.background, spacing, p.profile),
                      corrected_image(r.pixels, r.profile.background, spacing, p.profile),
                      r.profile.geometry, (float(shift[0]), float(shift[1])), p.tid_measure)
    out.update(ratio=m.ratio, rays_used=m.rays_used, rays_total=m.rays_total,
               registration_shift_mm=[round(float(x), 3) for x in shift * np.asarray(spacing)])
    if m.ratio is None:
        out["problem"] = f"TID not measured: {m.problem}"
    else:
        out["abnormal"] = bool(m.ratio > p.tid_limit)
    return out


#: A segment's washout is measured only where its initial (stress) counts per ray reach
#: this share of the view's best segment's: in a deep defect the background-corrected
#: counts are near zero and the ratio is noise (a severe LAD defect read −731%).
WASHOUT_MIN_INITIAL_SHARE = 0.5


def tl201_washout(stress: ViewAnalysis, delayed: ViewAnalysis) -> dict[str, Any] | None:
    """Tl-201 washout per segment: (stress − delayed) / stress, counts/min, decay-corrected.

    Segments whose stress counts are below :data:`WASHOUT_MIN_INITIAL_SHARE` of the view's
    best segment get ``None`` and are listed in ``not_measured`` (a defect's washout is not
    readable from counts near the background)."""
    s_acq, d_acq = stress.image.acquisition, delayed.image.acquisition
    if (stress.image.frame_duration_ms is None or delayed.image.frame_duration_ms is None
            or s_acq.acquisition_datetime is None or d_acq.acquisition_datetime is None
            or stress.defects is None):
        return None
    hours = (d_acq.acquisition_datetime - s_acq.acquisition_datetime).total_seconds() / 3600
    decay = 2.0 ** (hours / TL201_HALF_LIFE_H)
    s_rate = stress.profile.raw_max_counts / (stress.image.frame_duration_ms / 60000.0)
    d_rate = delayed.profile.raw_max_counts / (delayed.image.frame_duration_ms / 60000.0) * decay
    shift = best_shift(delayed.profile.values, stress.profile.values, 2)
    d_rate = np.roll(d_rate, shift)
    arcs = segment_arcs()[VIEW_NAMES[s_acq.view]]
    segs = {s.segment.index: s.segment.key for s in stress.defects.segments}
    sums = {}
    for index, start, end in arcs:
        inside = in_arc(stress.profile.angles_deg, start, end)
        sums[segs[index]] = (float(s_rate[inside].sum()), float(d_rate[inside].sum()),
                             int(inside.sum()))
    # Initial counts per ray (segments span arcs of 50–100°).
    best = max((s / n for s, _, n in sums.values() if n), default=0.0)
    per_segment: dict[str, float | None] = {}
    not_measured = []
    for key, (s_sum, d_sum, n) in sums.items():
        if best > 0 and n and s_sum / n >= WASHOUT_MIN_INITIAL_SHARE * best:
            per_segment[key] = round(100.0 * (s_sum - d_sum) / s_sum, 3)
        else:
            per_segment[key] = None
            not_measured.append(key)
    return {"hours_between": round(hours, 3), "decay_correction": round(decay, 5),
            "washout_percent": per_segment, "not_measured": not_measured,
            "min_initial_share": WASHOUT_MIN_INITIAL_SHARE,
            "note": "no normal limit is applied: washout depends on stress level and time"}


def paired_difference(stress: ViewAnalysis, rest: ViewAnalysis, stress_limits: ViewLimits,
                      difference: ViewLimits, p: PerfusionParams,
                      scale_quantile: float | None) -> dict[str, Any]:
    """Where the stress image lost uptake that the same patient's rest image did not.

    The stress − rest difference (:func:`~.normals.stress_rest_difference`) is compared
    with the normal limits of that difference as the stress profile is with its limits
    (runs of ≥ ``min_run_points`` below mean − k·SD, grown to mean − k_edge·SD); a segment
    with ≥ ``segment_min_fraction`` of its points in such runs shows a stress-induced
    reduction. The rest profile is scaled onto the stress profile as the limits' own
    differences were (``scale_quantile``, :attr:`~.normals.NormalLimits
    .difference_scale_quantile`; None: unscaled, as older files were built). Returns per
    segment key ``{"induced": bool, "loss_percent": …}`` (mean loss below the normal
    difference, % of the normal stress mean), the per-angle arrays and the scale.
    """
    sp = p.scoring
    d, scale = scaled_difference(stress.profile.values, rest.profile.values,
                                 stress_limits.mean, stress_limits.alignment_max_deg,
                                 p.max_registration_deg, scale_quantile)
    if sp.noise_widening:
        difference = difference.widened(difference_noise_sd(
            stress.profile, rest.profile, stress_limits.mean, stress_limits.alignment_max_deg,
            p.max_registration_deg, scale_quantile))
    induced = runs_below(d, difference, sp)
    loss = np.where(induced, np.clip(difference.mean - d, 0.0, None), 0.0)
    angles = stress.profile.angles_deg
    out: dict[str, Any] = {}
    view = stress.image.acquisition.view
    for index, start, end in segment_arcs()[VIEW_NAMES[view]]:
        inside = in_arc(angles, start, end)
        fraction = float(induced[inside].mean()) if inside.any() else 0.0
        out[f"{VIEW_NAMES[view]}-{index}"] = {
            "induced": bool(fraction >= sp.segment_min_fraction),
            "fraction": round(fraction, 4),
            "loss_percent": round(100.0 * float(loss[inside].mean())
                                  / float(stress_limits.mean[inside].mean()), 3)
            if inside.any() else 0.0,
            "deficit": float(loss[inside].mean()) if inside.any() else 0.0,
        }
    return {"segments": out, "difference": d, "induced": induced,
            "lower_limit": difference.lower_limit(sp.sd_multiplier), "rest_scale": scale}


#: A segment's territories, for corroboration across views: those it holds at least this
#: share of in the segment-arc data (``planar_segment_arcs.json``; the smaller shares, 0.1,
#: are the edges of a neighbouring territory).
CORROBORATION_MIN_WEIGHT = 0.2


def corroborated_at_rest(segments: Sequence[dict[str, Any]],
                         min_views: int) -> list[dict[str, Any]]:
    """The segment entries, each fixed one (``scar``/``mixed``) marked with
    ``corroborated_at_rest``.

    Corroborated when reductions on the rest images (rest score > 0) that share one of
    its territories (weight ≥ :data:`CORROBORATION_MIN_WEIGHT`) lie in at least
    ``min_views`` views, its own included. Returns new entries; none is marked when fewer
    than ``min_views`` views were compared at rest or ``min_views`` ≤ 1.
    """
    out = [dict(g) for g in segments]
    views = views_of(g["segment"] for g in out)
    if min_views <= 1 or len(views) < min_views:
        return out
    weights = territory_weights()

    def territories(key: str, fallback: str) -> set[str]:
        return {t for t, w in weights.get(key, {fallback: 1.0}).items()
                if w >= CORROBORATION_MIN_WEIGHT}

    reduced = [(view_of(g["segment"]), territories(g["segment"], g["territory"]))
               for g in out if g["rest_score"]]
    for g in out:
        if g["stress_score"] and g["classification"] in ("scar", "mixed"):
            own = territories(g["segment"], g["territory"])
            seen = {view for view, ts in reduced if ts & own}
            g["corroborated_at_rest"] = len(seen) >= min_views
    return out


def _rotated(profile: Profile, shift: int) -> Profile:
    """``profile`` with every per-angle array rolled by ``shift`` points (a later image's
    profile registered onto the stress one)."""
    return replace(profile, values=np.roll(profile.values, shift),
                   raw_max_counts=np.roll(profile.raw_max_counts, shift),
                   radius_px=np.roll(profile.radius_px, shift),
                   noise_sd=None if profile.noise_sd is None
                   else np.roll(profile.noise_sd, shift))


def segment_reversibility(stress_score: int, rest_score: int, improvement_percent: float,
                          induced: bool, p: PerfusionParams) -> str:
    """One segment's class from its stress and rest scores, its rest uptake's improvement
    (percent of the normal mean) and whether the paired difference shows it
    stress-induced: ``normal``, ``rest-only``, ``ischemia``, ``mixed`` or ``scar``.

    Normal at stress: ischaemia when stress-induced, else normal (or rest-only). Abnormal
    at stress and within the limits at rest: ischaemia when it improved by
    ``reversibility_min_improvement_percent`` or is stress-induced, else — with
    ``reversible_needs_improvement`` — scar: it only crossed the rest limits. Abnormal at
    both: mixed when it improved or is stress-induced, else scar.
    """
    improved = improvement_percent >= p.reversibility_min_improvement_percent
    if stress_score == 0:
        return "ischemia" if induced else "normal" if rest_score == 0 else "rest-only"
    if rest_score == 0:
        return "ischemia" if induced or improved or not p.reversible_needs_improvement \
            else "scar"
    return "mixed" if improved or induced else "scar"


def overall_reversibility(segments: list[dict[str, Any]]) -> str:
    """The study's reversibility from its segment entries: ``none``, ``ischemia``,
    ``scar`` or ``mixed``.

    The classification holding ≥ 70% of the summed stress score, else ``mixed`` (ischaemia
    and scar together, or partly reversible defects). A segment within the population's
    limits at stress but with a stress-induced reduction counts 1. A fixed reduction that
    the rest images show in one view only (``corroborated_at_rest`` false,
    :func:`corroborated_at_rest`) does not count, unless nothing else would.
    """
    def weight(g: dict[str, Any]) -> int:
        return int(g["stress_score"]) or int(bool(g.get("stress_induced")))

    abnormal = [g for g in segments if weight(g) and g.get("corroborated_at_rest", True)] \
        or [g for g in segments if weight(g)]
    if not abnormal:
        return "none"
    total = sum(weight(g) for g in abnormal)
    share = {k: sum(weight(g) for g in abnormal if g["classification"] == k) / total
             for k in ("ischemia", "scar")}
    if share["ischemia"] >= 0.7:
        return "ischemia"
    if share["scar"] >= 0.7:
        return "scar"
    return "mixed"


def reversibility_by_territory(reversibility: dict[str, Any],
                               territory_segments: Mapping[str, Sequence[str]],
                               decide: bool) -> None:
    """Add each named territory's own reversibility (``territories``) to the
    ``reversibility`` section, and, when ``decide`` and the territories differ (one
    ischaemic, another scarred or mixed), make the overall ``mixed`` with the reason
    (``overall_reason``).

    A territory's reversibility is that of its attributed segments, by the rule of the
    whole study (:func:`overall_reversibility`). A reader reports a two-vessel study as
    "reversible LAD defect, fixed RCA defect" — mixed — however small the fixed one; the
    share of the summed score alone calls it by its larger part.
    """
    segments = reversibility["segments"]
    per = {t: kind for t, keys in territory_segments.items()
           if (kind := overall_reversibility(
               [g for g in segments if g["segment"] in keys])) != "none"}
    reversibility["territories"] = per
    if decide and len(set(per.values())) > 1 and reversibility["overall"] != "mixed":
        reversibility["overall_reason"] = (
            f"the territories differ ({', '.join(f'{t} {k}' for t, k in per.items())}); "
            f"by the summed score alone: {reversibility['overall']}")
        reversibility["overall"] = "mixed"


def measure_reversibility(stress: list[ViewAnalysis], rest: list[ViewAnalysis],
                          limits: NormalLimits, p: PerfusionParams, tracer: Tracer,
                          rest_limits: NormalLimits | None = None) -> dict[str, Any]:
    """The ``reversibility`` section of a stress/rest study: each view pair registered
    (rotation of the rest profile onto the stress one), the rest profile scored against
    the rest limits, the paired difference (:func:`paired_difference`), each segment
    classified (:func:`segment_reversibility`) and the study's overall class
    (:func:`overall_reversibility`), with planar TID (anterior view, :func:`planar_tid`)
    and, for Tl-201, washout (:func:`tl201_washout`).

    ``rest_limits``: in a dual-isotope study (the rest state imaged with another tracer),
    the rest tracer's limits, against which the rest profiles are scored. The paired
    difference, the TID and the washout compare the two images count for count and need
    one tracer: they are not measured then (``dual_isotope`` says so), and each segment is
    classified from its two scores alone."""
    dual = rest_limits is not None
    rest_by_view = {v.image.acquisition.view: v for v in rest}
    segments: list[dict[str, Any]] = []
    registration = {}
    paired_views: dict[str, Any] = {}
    tid = None
    washout = {}
    step = 360.0 / p.profile.n_angles
    for s in stress:
        view = s.image.acquisition.view
        r = rest_by_view.get(view)
        if r is None or s.defects is None:
            continue
        shift = best_shift(r.profile.values, s.profile.values,
                                int(p.max_registration_deg // step))
        registration[view.value] = round(shift * step, 3)
        rest_view_limits, _ = view_limits_for(rest_limits or limits, r.image.acquisition,
                                              p.view_angle_tolerance_deg)
        if rest_view_limits is None:
            continue
        aligned = _rotated(r.profile, shift)
        rest_defects = score_view(view, aligned, rest_view_limits, p.scoring)
        stress_limits = limits.for_view(view, s.image.acquisition.state)
        difference = limits.difference_for(view)
        paired: dict[str, Any] = {}
        if not dual and stress_limits is not None and difference is not None \
                and difference.mean.size == s.profile.values.size:
            result = paired_difference(s, r, stress_limits, difference, p,
                                       limits.difference_scale_quantile)
            paired = result["segments"]
            paired_views[view.value] = {
                "difference": result["difference"].round(5).tolist(),
                "lower_limit": result["lower_limit"].round(5).tolist(),
                "induced": result["induced"].tolist(),
                "rest_scale": result["rest_scale"]}
        for ss, rs in zip(s.defects.segments, rest_defects.segments, strict=True):
            improvement = 100.0 * (rs.mean_uptake_percent - ss.mean_uptake_percent) \
                / ss.normal_mean_percent
            induced = bool(paired.get(ss.segment.key, {}).get("induced", False))
            kind = segment_reversibility(ss.score, rs.score, improvement, induced, p)
            entry = {"segment": ss.segment.key, "territory": ss.segment.territory,
                     "stress_score": ss.score, "rest_score": rs.score,
                     "improvement_percent": round(improvement, 3),
                     "classification": kind}
            if ss.segment.key in paired:
                info = paired[ss.segment.key]
                entry.update(stress_induced=info["induced"],
                             induced_fraction=info["fraction"],
                             induced_loss_percent=info["loss_percent"],
                             induced_deficit=round(info["deficit"], 5))
            segments.append(entry)
        if view is View.ANTERIOR and not dual:
            tid = planar_tid(s, r, p)
        if tracer is Tracer.TL201 and not dual:
            w = tl201_washout(s, r)
            if w is not None:
                washout[view.value] = w
    segments = corroborated_at_rest(segments, p.fixed_min_views)
    overall = overall_reversibility(segments)
    return {
        "segments": segments,
        "summed_difference_score": int(sum(g["stress_score"] - g["rest_score"] for g in segments
                                           if g["stress_score"] > g["rest_score"])),
        "overall": overall,
        "stress_induced_segments": [g["segment"] for g in segments if g.get("stress_induced")],
        "paired_difference": paired_views or None,
        "registration_rotation_deg": registration,
        "tid": tid if not dual else {
            "ratio": None, "abnormal": None, "upper_limit": p.tid_limit,
            "problem": "not measured: stress and rest were imaged with different tracers "
                       "(dual isotope), whose resolution and scatter differ"},
        "washout": washout or None,
        **({"dual_isotope": "stress and rest imaged with different tracers: each state "
                            "scored against its own tracer's limits; the stress − rest "
                            "paired difference, TID and washout not measured"}
           if dual else {}),
    }


#: Why a defect fixed on redistribution is re-read on the reinjection images.
REINJECTION_SOURCE = (
    "Dilsizian et al., N Engl J Med 1990;323:141-6: of Tl-201 defects irreversible on "
    "3-4 h redistribution images, 49% improved after a second injection at rest, and "
    "most of these improved after revascularisation: viable myocardium")

_REVERSIBLE_ORDER = {"scar": 0, "mixed": 1, "ischemia": 2}


def apply_reinjection(reversibility: dict[str, Any], stress: list[ViewAnalysis],
                      reinjection: list[ViewAnalysis], limits: NormalLimits,
                      p: PerfusionParams) -> None:
    """Re-read the defects fixed on redistribution with the reinjection images (in place).

    Each reinjection view is registered onto the stress view (rotation, as the rest view)
    and scored against the rest limits. A segment classified ``scar`` or ``mixed`` from the
    stress and redistribution images is re-classified by the same rule
    (:func:`segment_reversibility`) from its stress and reinjection scores when that class
    is more reversible *and* its uptake on reinjection exceeds its redistribution uptake by
    at least ``reversibility_min_improvement_percent`` of the normal mean (a real fill-in,
    not the noise between two images). The segment keeps its redistribution class in
    ``redistribution_classification``; every compared segment gets ``reinjection_score``
    and ``reinjection_improvement_percent`` (over the stress uptake). The overall class is
    recomputed (the class before in ``reinjection.overall_redistribution``) and
    ``reinjection`` lists the re-classified segments with the source of the rule.
    """
    by_view = {v.image.acquisition.view: v for v in reinjection}
    entries = {g["segment"]: g for g in reversibility["segments"]}
    step = 360.0 / p.profile.n_angles
    registration: dict[str, float] = {}
    changed: list[str] = []
    for s in stress:
        view = s.image.acquisition.view
        r = by_view.get(view)
        if r is None or s.defects is None:
            continue
        view_limits, _ = view_limits_for(limits, r.image.acquisition, p.view_angle_tolerance_deg)
        if view_limits is None:
            continue
        shift = best_shift(r.profile.values, s.profile.values,
                           int(p.max_registration_deg // step))
        registration[view.value] = round(shift * step, 3)
        aligned = _rotated(r.profile, shift)
        scored = score_view(view, aligned, view_limits, p.scoring)
        for ss, rs in zip(s.defects.segments, scored.segments, strict=True):
            entry = entries.get(ss.segment.key)
            if entry is None:
                continue
            improvement = 100.0 * (rs.mean_uptake_percent - ss.mean_uptake_percent) \
                / ss.normal_mean_percent
            entry["reinjection_score"] = rs.score
            entry["reinjection_improvement_percent"] = round(improvement, 3)
            before = entry["classification"]
            if before not in ("scar", "mixed"):
                continue
            kind = segment_reversibility(ss.score, rs.score, improvement, False, p)
            beyond = improvement - float(entry["improvement_percent"])
            if _REVERSIBLE_ORDER.get(kind, -1) > _REVERSIBLE_ORDER[before] \
                    and beyond >= p.reversibility_min_improvement_percent:
                entry["redistribution_classification"] = before
                entry["classification"] = kind
                changed.append(ss.segment.key)
    before_overall = reversibility["overall"]
    reversibility["overall"] = overall_reversibility(reversibility["segments"])
    reversibility["reinjection"] = {
        "reclassified_segments": changed,
        "overall_redistribution": before_overall,
        "registration_rotation_deg": registration,
        "min_improvement_percent": p.reversibility_min_improvement_percent,
        "source": REINJECTION_SOURCE,
    }
