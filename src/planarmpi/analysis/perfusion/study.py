"""Perfusion analysis of a planar study: every static view of every state, and their pairs.

:func:`analyze_perfusion` runs the profile pipeline on each anterior, LAO and left-lateral
static view (other angles get a profile but no comparison: there are no limits for them),
compares each with the normal limits of its view, state, tracer and sex, scores the 15
segments, names territories, measures the anterior lung/heart ratio, looks for the known
artefacts, and, with stress and rest (or redistribution) images, judges reversibility per
segment, the planar transient ischaemic dilation ratio and (Tl-201) washout.

The verdict (normal / equivocal / abnormal) is taken on the stress images (the only state
otherwise) from the summed segment score; thresholds are :class:`~.params.PerfusionParams`.

The steps live in their own modules, in the order the analysis runs them: :mod:`.params`
(the settings), :mod:`.rings` (the LV of each view, chosen across views), :mod:`.views`
(one view against its limits), :mod:`.reversibility` (stress ↔ rest, TID, washout),
:mod:`.artefacts` (named, not called defects) and :mod:`.verdict` (the rules that make the
study's verdict); this module runs them and keeps their public names importable from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from planarmpi.analysis.perfusion.artefacts import attenuation_pattern, find_artefacts
from planarmpi.analysis.perfusion.images import one_image_per_view
from planarmpi.analysis.perfusion.motion import MotionParams, framed_static_view, summed_view
from planarmpi.analysis.perfusion.normals import (
    NormalLimits,
    builtin_limits,
    select_limits,
    state_group,
    tracer_group,
)
from planarmpi.analysis.perfusion.params import PerfusionParams
from planarmpi.analysis.perfusion.reversibility import (
    apply_reinjection,
    measure_reversibility,
    reversibility_by_territory,
    segment_reversibility,
)
from planarmpi.analysis.perfusion.rings import (
    camera_angle_deg,
    oriented_pixels,
    rings_from_rest,
    view_profiles,
)
from planarmpi.analysis.perfusion.settings import perfusion_params_to_mapping
from planarmpi.analysis.perfusion.verdict import (
    state_summary,
    study_territories,
    study_verdict,
    unattributed_segments,
)
from planarmpi.analysis.perfusion.views import (
    LHR_LIMITS,
    ViewAnalysis,
    analyze_view,
    lung_heart_ratio,
    reduced_scores,
    view_json,
    view_limits_for,
)
from planarmpi.model import (
    Finding,
    Level,
    SeriesKind,
    Sex,
    State,
    StaticImage,
    Study,
    Tracer,
    View,
)

__all__ = ["PerfusionParams", "PerfusionResult", "analyze_perfusion", "attenuation_pattern",
           "camera_angle_deg", "lung_heart_ratio", "oriented_pixels", "segment_reversibility",
           "view_limits_for"]


@dataclass(frozen=True, slots=True)
class PerfusionResult:
    """Everything the perfusion analysis found (``to_json`` for result.json)."""

    section: dict[str, Any]
    findings: tuple[Finding, ...]


def _state_limits(statics: Sequence[StaticImage], tracer: Tracer,
                  limits: NormalLimits | None, user_limits: Sequence[NormalLimits], sex: Sex,
                  findings: list[Finding]) -> dict[str, NormalLimits | None]:
    """Each state's limits: the study's (those of the stress images' tracer), or, for a
    state imaged with another tracer group (a dual-isotope protocol), that tracer's — with
    a finding that says so. A state whose views mix tracer groups keeps the study's."""
    groups: dict[str, set[str | None]] = {}
    tracers: dict[str, Tracer] = {}
    for s in statics:
        key = s.acquisition.state.value
        groups.setdefault(key, set()).add(tracer_group(s.acquisition.tracer))
        tracers.setdefault(key, s.acquisition.tracer)
    out: dict[str, NormalLimits | None] = {}
    for key, found in groups.items():
        if found == {tracer_group(tracer)} or len(found) != 1:
            out[key] = limits
            continue
        other = tracers[key]
        own = select_limits((*user_limits, *builtin_limits()), other, sex)
        out[key] = own
        findings.append(Finding(
            "DUAL_ISOTOPE", Level.WARN,
            f"the {key} views were imaged with {other.value}, the others with "
            f"{tracer.value}: each state is scored against its own tracer's limits"
            + (f" ({own.name})" if own else " (none found: not scored)")
            + "; the stress − rest paired difference, the planar TID and the washout, which "
            "compare the two images count for count, are not measured, and reversibility "
            "rests on the segment scores alone"))
    return out


def analyze_perfusion(study: Study, *, params: PerfusionParams | None = None,
                      user_limits: Sequence[NormalLimits] = (),
                      wall_motion: Sequence[dict[str, Any]] = ()) -> PerfusionResult | None:
    """Analyse the static perfusion views of ``study``; None when it has none.

    Parameters
    ----------
    study : Study
    params : PerfusionParams, optional
    user_limits : sequence of NormalLimits
        Site limits, tried before the built-in ones.
    wall_motion : sequence of dict
        Territory wall-motion grades from the gated images (``territory``, ``grade``), used
        to tell attenuation from a defect: the territory grades named by the projected
        signatures (``wall_motion_territories``) when the gated analysis gives them — an
        LAD abnormality also lowers the LAO inferoapical segment, which is mapped to the
        RCA — else the segments' grades under their static territories.
    """
    p = params or PerfusionParams()
    statics = [s for s in study.statics
               if tracer_group(s.acquisition.tracer) is not None
               and s.acquisition.kind is SeriesKind.STATIC]
    findings: list[Finding] = []
    framed, motion = _framed_views(study, p.motion, statics, findings)
    statics += framed
    if not statics:
        return None
    # One image per view and state: windows of one acquisition summed, the last of a
    # repeated view analysed (images.py).
    statics, combined = one_image_per_view(statics)
    findings += combined
    # The study's tracer: the stress images' (a dual-isotope rest state gets its own limits,
    # _state_limits).
    tracer = next((s.acquisition.tracer for s in statics if s.acquisition.state.is_stress),
                  statics[0].acquisition.tracer)
    sex = study.patient.sex
    limits = select_limits((*user_limits, *builtin_limits()), tracer, sex)
    if limits is None:
        findings.append(Finding(
            "NO_NORMAL_LIMITS", Level.WARN,
            f"no normal limits for {tracer.value} in patient sex {sex.value!r}: profiles are "
            "measured but not compared, and no verdict is given"))
    elif int(limits.profile_params.get("n_angles", p.profile.n_angles)) != p.profile.n_angles:
        findings.append(Finding(
            "LIMITS_PARAMS_DIFFER", Level.WARN,
            f"normal limits {limits.name!r} were measured with "
            f"{limits.profile_params.get('n_angles')} angles, this analysis uses "
            f"{p.profile.n_angles}: profiles not compared"))
        limits = None
    # Dual isotope (e.g. rest Tl-201, stress Tc-99m): a state imaged with another tracer
    # group than the stress images is scored against that tracer's limits.
    state_limits = _state_limits(statics, tracer, limits, user_limits, sex, findings)
    by_state: dict[str, list[ViewAnalysis]] = {}
    ordered = sorted(statics, key=lambda s: (not s.acquisition.state.is_stress,
                                             s.acquisition.state.value,
                                             s.acquisition.view.value))
    groups: dict[str, list[StaticImage]] = {}
    for image in ordered:
        groups.setdefault(image.acquisition.state.value, []).append(image)
    measured = {state_value: view_profiles(images, p.profile)
                for state_value, images in groups.items()}
    rings_from_rest(measured, p, findings)
    for state_value, view_list in measured.items():
        for vp in view_list:
            analysis = analyze_view(vp, state_limits.get(state_value, limits), p, findings)
            if analysis is not None:
                by_state.setdefault(state_value, []).append(analysis)
    if not by_state:
        return PerfusionResult({"verdict": "not-assessed", "states": []}, tuple(findings))
    summaries = {k: state_summary(v, p) for k, v in by_state.items()}
    stress_key = next((k for k in by_state if State(k).is_stress), None)
    rest_key = next((k for k in by_state if state_group(State(k)) == "rest"), None)
    primary = stress_key or next(iter(by_state))
    section: dict[str, Any] = {
        "method": "circumferential count profiles after interpolative background "
                  "subtraction, against normal limits (mean − k·SD)",
        "limits": limits.describe() if limits else None,
        "params": {"n_angles": p.profile.n_angles, "sd_multiplier": p.scoring.sd_multiplier,
                   "min_run_points": p.scoring.min_run_points,
                   "abnormal_summed_score": p.abnormal_summed_score,
                   "equivocal_summed_score": p.equivocal_summed_score},
        # Every setting a site may change (planarmpi analyze --perfusion-settings).
        "settings": perfusion_params_to_mapping(p),
        "angle_convention": "0° = top of the displayed image, clockwise",
        "states": [{"state": k, **summaries[k],
                    "views": [view_json(v, limits is not None) for v in views]}
                   for k, views in by_state.items()],
        "motion": motion,
    }
    # Lung/heart ratio on the anterior view of each state, against its tracer's limit.
    lhr = []
    for k, views in by_state.items():
        for v in views:
            group = tracer_group(v.image.acquisition.tracer) or "tc99m"
            if v.image.acquisition.view is View.ANTERIOR:
                assert v.image.acquisition.pixel_spacing_mm is not None
                m = lung_heart_ratio(v.pixels, v.profile, v.image.acquisition.pixel_spacing_mm)
                m.update(state=k, upper_limit=LHR_LIMITS[group],
                         source="Wackers, Nuclear Cardiology: The Basics, p.100")
                if m.get("excluded_focus_pixels"):
                    findings.append(Finding(
                        "LUNG_FIELD_FOCUS", Level.INFO,
                        f"{v.image.acquisition.display_name}: a hot focus in the lung field "
                        "(an injection site, marker or infiltration?) "
                        + ("was left out of the lung ROI "
                           f"({m['excluded_focus_pixels']} pixels): check the ROI"
                           if m["value"] is not None else
                           "leaves too little lung: lung/heart ratio not measured"),
                        v.image.acquisition.series_instance_uid))
                if m["value"] is not None:
                    m["abnormal"] = bool(m["value"] > LHR_LIMITS[group])
                    if m["abnormal"] and State(k).is_stress:
                        findings.append(Finding(
                            "HIGH_LUNG_HEART_RATIO", Level.INFO,
                            f"{v.image.acquisition.display_name}: lung/heart ratio "
                            f"{m['value']:.2f} above {LHR_LIMITS[group]:.2f} "
                            f"({v.image.acquisition.tracer.value}): stress-induced LV "
                            "dysfunction or "
                            "multivessel disease (heart-rate dependent)",
                            v.image.acquisition.series_instance_uid))
                lhr.append(m)
    section["lung_heart_ratio"] = lhr

    # Stress ↔ rest: registration, reversibility per segment, TID, washout.
    rest_limits = state_limits.get(rest_key) if rest_key else None
    if stress_key and rest_key and limits is not None and rest_limits is not None:
        section["reversibility"] = measure_reversibility(
            by_state[stress_key], by_state[rest_key], limits, p, tracer,
            rest_limits=rest_limits if rest_limits is not limits else None)
    if rest_limits is not None and rest_limits is not limits:
        section["rest_limits"] = rest_limits.describe()
    stress_summary = summaries[primary]
    artefacts = find_artefacts(summaries.get(rest_key) if rest_key else None,
                               sex, by_state, primary, wall_motion,
                               frozenset((section.get("reversibility") or {})
                                         .get("stress_induced_segments", [])),
                               reduced_scores(by_state[rest_key]) if rest_key else None,
                               extracardiac_ratio=p.extracardiac_ratio)
    artefacts.extend({"artefact": "patient motion", "view": m["view"], "state": m["state"],
                      "corrected": m["corrected"], "max_displacement_mm": m["max_displacement_mm"],
                      "message": m["message"]} for m in motion["views"] if m.get("moved"))
    section["artefacts"] = artefacts
    # The rest state paired with the stress state (none without a stress state).
    paired = rest_key if stress_key else None
    paired_summary = summaries[paired] if paired else None
    decided = study_verdict(by_state[primary], stress_summary,
                            by_state[paired] if paired else [], paired_summary,
                            section.get("reversibility"), artefacts, sex,
                            [f.code for f in findings], p,
                            "stress" if stress_key else primary)
    verdict = decided.verdict
    section["verdict"] = verdict
    section["abnormal"] = verdict == "abnormal"
    section["verdict_reasons"] = list(decided.reasons)
    section["segments"] = [seg.to_json() for v in by_state[primary] if v.defects
                           for seg in v.defects.segments]
    section.update(study_territories(stress_summary, paired_summary,
                                     section.get("reversibility"), decided, p))
    section["unattributed_segments"] = unattributed_segments(
        section["segments"], section["territory_segments"], section.get("reversibility"))
    reversibility = section.get("reversibility")
    # Tl-201 reinjection after redistribution: defects fixed on redistribution re-read.
    reinjection_key = next((k for k in by_state if State(k) is State.REINJECTION), None)
    if reversibility and stress_key and reinjection_key and reinjection_key != paired \
            and limits is not None and "dual_isotope" not in reversibility:
        apply_reinjection(reversibility, by_state[stress_key], by_state[reinjection_key],
                          state_limits.get(reinjection_key) or limits, p)
        changed = reversibility["reinjection"]["reclassified_segments"]
        findings.append(Finding(
            "REINJECTION_COMPARED", Level.INFO,
            "reinjection images compared with the stress images: "
            + (f"{len(changed)} segment(s) fixed on redistribution improved on reinjection "
               f"({', '.join(changed)}): viable myocardium" if changed else
               "no defect fixed on redistribution improved")))
    if reversibility:
        reversibility_by_territory(reversibility, section["territory_segments"],
                                   p.territory_reversibility)
    section["extent_percent"] = stress_summary["extent_percent"]
    if verdict == "abnormal":
        findings.append(Finding(
            "PERFUSION_ABNORMAL", Level.INFO,
            f"perfusion abnormal: summed score {stress_summary['summed_score']}, "
            f"territories {', '.join(section['territories']) or 'not assigned'}"))
    return PerfusionResult(section, tuple(findings))


def _framed_views(study: Study, params: MotionParams, statics: Sequence[StaticImage],
                  findings: list[Finding]) -> tuple[list[StaticImage], dict[str, Any]]:
    """The perfusion views acquired in time frames, each summed (realigned when the patient
    moved), and the ``motion`` section (``statics``: the single-frame views, listed as not
    assessed). Findings are appended to ``findings``."""
    images: list[StaticImage] = []
    views: list[dict[str, Any]] = []
    for series in study.framed_statics:
        acq = series.acquisition
        if tracer_group(acq.tracer) is None:
            continue
        name, uid = acq.display_name, acq.series_instance_uid
        entry: dict[str, Any] = {"state": acq.state.value, "view": acq.view.value,
                                 "series_instance_uid": uid}
        try:
            image, m = framed_static_view(series, params)
        except ValueError as exc:
            images.append(summed_view(series))
            findings.append(Finding("MOTION_NOT_MEASURED", Level.WARN,
                                    f"{exc} ({acq.source_file}); frames summed as acquired",
                                    uid))
            views.append({**entry, "moved": None, "reason": str(exc)})
            continue
        images.append(image)
        entry.update(m.to_json())
        if m.moved:
            frames = ", ".join(map(str, entry["moved_frames"]))
            text = (f"{name}: the patient moved — frame(s) {frames} of {entry['frames']} "
                    f"displaced up to {m.max_displacement_mm:.1f} mm (threshold "
                    f"{params.threshold_mm:g} mm)")
            if m.corrected:
                text += "; frames realigned before the profile was measured"
                findings.append(Finding("PATIENT_MOTION", Level.WARN, text, uid))
            else:
                text += "; not corrected: a defect in this view may be a motion artefact"
                findings.append(Finding("PATIENT_MOTION_UNCORRECTED", Level.WARN, text, uid))
            entry["message"] = text
        views.append(entry)
    return images, {
        "method": "framed static views: each frame registered to the realigned sum "
                  "(cross-correlation, heart window); moved frames shifted back by whole "
                  "pixels before summing",
        "threshold_mm": params.threshold_mm,
        "views": views,
        "not_assessed": [s.acquisition.display_name for s in statics],
        "not_assessed_reason": "a single-frame static view holds no time: motion during it "
                               "cannot be measured",
    }

