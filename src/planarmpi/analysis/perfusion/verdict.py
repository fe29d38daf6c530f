"""The study's verdict and territories.

Each state's summed score, territories and verdict (:func:`state_summary`); the rules that
let the rest images confirm or contradict the stress images (:func:`confirmed_at_rest`,
:func:`unconfirmed_by_rest`, :func:`unconfirmed_abnormal`, :func:`paired_views`), applied
in order by :func:`study_verdict`; and the study's territories (:func:`study_territories`,
with :func:`territories_seen_elsewhere`, and the reduced segments no named territory
takes, :func:`unattributed_segments`). :func:`.study.analyze_perfusion` calls
:func:`study_verdict`, :func:`study_territories` then :func:`unattributed_segments`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from planarmpi.analysis.perfusion.artefacts import attenuation_pattern, set_aside
from planarmpi.analysis.perfusion.params import PerfusionParams
from planarmpi.analysis.perfusion.scoring import territory_weights
from planarmpi.analysis.perfusion.territory import fit_territories
from planarmpi.analysis.perfusion.views import ViewAnalysis, reduced_scores
from planarmpi.model import Sex
from planarmpi.model.segments import views_of

__all__ = [
    "SUBOPTIMAL_IMAGE_CODES",
    "StudyVerdict",
    "confirmed_at_rest",
    "paired_views",
    "state_summary",
    "study_territories",
    "study_verdict",
    "territories_seen_elsewhere",
    "unattributed_segments",
    "unconfirmed_abnormal",
    "unconfirmed_by_rest",
]

#: Finding codes that make a normal verdict equivocal: the images were not good enough to
#: call the study normal (low LV counts, a view without an LV, uncorrected patient motion).
SUBOPTIMAL_IMAGE_CODES = frozenset({"LOW_LV_COUNTS_PERFUSION", "LV_NOT_FOUND",
                                    "PATIENT_MOTION_UNCORRECTED"})


def state_summary(views: list[ViewAnalysis], params: PerfusionParams) -> dict[str, Any]:
    scored = [v for v in views if v.defects is not None]
    segments = [s for v in scored for s in v.defects.segments]  # type: ignore[union-attr]
    summed = int(sum(s.score for s in segments))
    weights = territory_weights()
    territory_score: dict[str, float] = {}
    for s in segments:
        if s.score:
            for territory, w in weights.get(s.segment.key, {s.segment.territory: 1.0}).items():
                territory_score[territory] = territory_score.get(territory, 0.0) + w * s.score
    # The territories: the segment deficits explained by the territories' projected
    # signatures (territory.py). ``territory_scores`` (the segment scores shared by the
    # weights of the segment-arc data) is kept as a descriptive figure.
    fit = fit_territories({s.segment.key: s.deficit for s in segments},
                          {s.segment.key: s.score > 0 for s in segments}, params.territory)
    involved = list(fit.named) if summed else []
    if summed >= params.abnormal_summed_score:
        verdict = "abnormal"
    elif summed >= params.equivocal_summed_score:
        verdict = "equivocal"
    else:
        verdict = "normal"
    return {
        "summed_score": summed,
        "reduced_segments": sum(1 for x in segments if x.score),
        "segments_scored": len(segments),
        "extent_percent": float(np.mean([v.defects.extent_percent  # type: ignore[union-attr]
                                         for v in scored])) if scored else None,
        "territory_scores": {t: round(v, 3) for t, v in sorted(territory_score.items())},
        "territories": involved,
        "territory_fit": fit.to_json(),
        "verdict": verdict if scored else "not-assessed",
    }


def paired_views(induced: Iterable[str], stress_reduced: Iterable[str],
                 compared_segments: Iterable[str], min_views: int
                 ) -> tuple[set[str], set[str], int]:
    """Where the paired segments lie: (their views and the reduced stress segments',
    the views compared at stress and rest, the number of views needed).

    The stress-induced segments count towards the verdict when the first set holds at
    least the number needed: ``min_views`` (:attr:`PerfusionParams.paired_min_views`), or
    every view compared when fewer were (a study of one or two views is not refused the
    rule for lacking the others).
    """
    compared = views_of(compared_segments)
    return (views_of([*induced, *stress_reduced]), compared,
            max(1, min(min_views, len(compared))))


def unconfirmed_by_rest(reversibility: dict[str, Any] | None, rest: dict[str, Any] | None,
                        stress: dict[str, Any], p: PerfusionParams) -> list[str] | None:
    """The reduced stress segments when the rest images contradict them, else None.

    Contradicted when the rest images are normal (summed score below
    ``equivocal_summed_score``), no reduced stress segment is reduced at rest, the paired
    difference was measured for every reduced stress segment and shows no stress-induced
    reduction in any segment of the study (see :attr:`PerfusionParams.paired_unconfirmed_normal`).
    """
    if not reversibility or not rest or rest.get("summed_score") is None \
            or rest["summed_score"] >= p.equivocal_summed_score:
        return None
    entries = reversibility.get("segments", [])
    reduced = [g for g in entries if g["stress_score"]]
    if len(reduced) != stress["reduced_segments"] or not reduced \
            or any(g["rest_score"] or "stress_induced" not in g for g in reduced) \
            or any(g.get("stress_induced") for g in entries):
        return None
    return [g["segment"] for g in reduced]


def unconfirmed_abnormal(reversibility: dict[str, Any] | None, rest: dict[str, Any] | None,
                         stress: dict[str, Any], p: PerfusionParams) -> list[str] | None:
    """The reduced stress segments of an abnormal stress score that the rest images
    contradict (:func:`unconfirmed_by_rest`) when they lie in at most
    ``unconfirmed_abnormal_max_views`` views, else None."""
    if not p.unconfirmed_abnormal_max_views:
        return None
    segments = unconfirmed_by_rest(reversibility, rest, stress, p)
    if segments and len(views_of(segments)) <= p.unconfirmed_abnormal_max_views:
        return segments
    return None


def confirmed_at_rest(stress: list[ViewAnalysis], rest: list[ViewAnalysis], sex: Sex,
                      abnormal_summed_score: int, equivocal_summed_score: int
                      ) -> dict[str, Any] | None:
    """A fixed reduction confirmed by the rest images, or None.

    Confirmed when the rest images' summed score reaches ``abnormal_summed_score``, the
    segments reduced both at stress and at rest have a summed stress score of at least
    ``equivocal_summed_score`` (what the stress images alone call equivocal: one mildly
    reduced segment seen again mildly is the same patient's habitus twice), and the rest
    images' reductions do not have an attenuation pattern (:func:`~.artefacts.attenuation_pattern`).
    """
    if not rest:
        return None
    stress_scores, rest_scores = reduced_scores(stress), reduced_scores(rest)
    common = sorted(set(stress_scores) & set(rest_scores))
    total = sum(rest_scores.values())
    if sum(stress_scores[k] for k in common) < equivocal_summed_score \
            or total < abnormal_summed_score \
            or attenuation_pattern(rest_scores, sex) is not None:
        return None
    return {"common": common, "rest_segments": sorted(rest_scores), "rest_summed_score": total}


@dataclass(frozen=True, slots=True)
class StudyVerdict:
    """The study's verdict and how it was reached.

    Attributes
    ----------
    verdict : str
        ``normal``, ``equivocal`` or ``abnormal`` (or the state summary's
        ``not-assessed``).
    reasons : tuple of str
        Why, in the order the rules applied; the first is always the summed score's.
    induced : tuple of str
        Segments normal on the stress images but with a stress-induced reduction against
        the rest images (the paired difference).
    confirmed : dict or None
        The fixed reduction the rest images confirmed (:func:`confirmed_at_rest`).
    """

    verdict: str
    reasons: tuple[str, ...]
    induced: tuple[str, ...]
    confirmed: dict[str, Any] | None


def study_verdict(stress: list[ViewAnalysis], stress_summary: dict[str, Any],
                  rest: list[ViewAnalysis], rest_summary: dict[str, Any] | None,
                  reversibility: dict[str, Any] | None, artefacts: list[dict[str, Any]],
                  sex: Sex, finding_codes: Iterable[str], p: PerfusionParams,
                  state_label: str = "stress") -> StudyVerdict:
    """The study's verdict from the stress images' score and the rules that follow it.

    In order: (1) the stress summed score (:func:`state_summary`); (2) stress-induced
    reductions in segments normal at stress add ``paired_segment_score`` each and may make
    the study abnormal when they lie in enough views (:func:`paired_views`); (3) a
    reduction confirmed on the rest images (:func:`confirmed_at_rest`) makes it abnormal,
    and sets aside an attenuation pattern; (4) an attenuation pattern alone reads normal
    when the gated wall motion there is normal (``attenuation_normal_motion_is_normal``),
    else turns an abnormal score equivocal; (5) an equivocal score — or an abnormal one in
    at most ``unconfirmed_abnormal_max_views`` views — that the rest images contradict
    reads normal (:func:`unconfirmed_by_rest`, :func:`unconfirmed_abnormal`); (6) a normal
    verdict on suboptimal images (:data:`SUBOPTIMAL_IMAGE_CODES`) reads equivocal.

    Parameters
    ----------
    stress, stress_summary : the stress state's views and :func:`state_summary` (the only
        state's when there is no stress state).
    rest, rest_summary : the rest (or redistribution) state's, paired with the stress
        state; empty and None when there is none.
    reversibility : dict or None
        :func:`~.reversibility.measure_reversibility`'s section.
    artefacts : list of dict
        :func:`~.artefacts.find_artefacts`'s entries; an attenuation entry set aside by a
        confirmed fixed defect is marked so in place (:func:`~.artefacts.set_aside`).
    sex : Sex
    finding_codes : iterable of str
        The codes of the findings raised so far.
    p : PerfusionParams
    state_label : str
        The state named in the first reason.
    """
    verdict = stress_summary["verdict"]
    reasons = [f"summed {state_label} score "
               f"{stress_summary['summed_score']} over "
               f"{stress_summary['reduced_segments']} reduced segment(s) (abnormal ≥ "
               f"{p.abnormal_summed_score}, equivocal ≥ {p.equivocal_summed_score})"]
    rev_segments = (reversibility or {}).get("segments", [])
    induced = [g["segment"] for g in rev_segments
               if g.get("stress_induced") and not g["stress_score"]]
    paired_score = stress_summary["summed_score"] + p.paired_segment_score * len(induced)
    if verdict != "abnormal" and induced and paired_score >= p.abnormal_summed_score:
        seen, compared, needed = paired_views(
            induced, reduced_scores(stress), [g["segment"] for g in rev_segments],
            p.paired_min_views)
        if len(seen) >= needed:
            verdict = "abnormal"
            reasons.append(f"with {len(induced)} more segment(s) showing a stress-induced "
                           f"reduction against the same patient's rest images "
                           f"({', '.join(induced)}), the score reaches {paired_score}")
        else:
            reasons.append(f"the stress-induced reduction in {', '.join(induced)} is not "
                           f"counted: with the reduced stress segments it lies in "
                           f"{len(seen)} of the {len(compared)} views compared, fewer than "
                           f"{needed} (a difference in one view alone is that view's "
                           "repositioning as often as ischaemia)")
    # A reduction seen at stress and again, in the same segments, on the rest images: two
    # acquisitions agree on a fixed defect that the stress score alone left equivocal or
    # below it. Not when the rest images' reductions have an attenuation pattern.
    confirmed = confirmed_at_rest(stress, rest, sex, p.abnormal_summed_score,
                                  p.equivocal_summed_score)
    attenuation = [a for a in artefacts if "attenuation" in a["artefact"]]
    if confirmed and (verdict != "abnormal" or attenuation):
        # It makes the verdict abnormal, or keeps an attenuation pattern from making it
        # equivocal: either way it is a reason.
        verdict = "abnormal"
        reasons.append(f"the stress reduction in {', '.join(confirmed['common'])} is seen "
                       f"again on the rest images, summed rest score "
                       f"{confirmed['rest_summed_score']} over "
                       f"{', '.join(confirmed['rest_segments'])} (abnormal ≥ "
                       f"{p.abnormal_summed_score}): a fixed defect"
                       + (f", not {attenuation[0]['artefact']}" if attenuation else ""))
        set_aside(attenuation, confirmed)
    if verdict in ("abnormal", "equivocal") and attenuation and not confirmed \
            and not induced and p.attenuation_normal_motion_is_normal \
            and all(a.get("wall_motion_normal") is True for a in attenuation):
        verdict = "normal"
        reasons.append(f"the only reductions ({', '.join(attenuation[0]['segments'])}) have "
                       f"the pattern of {attenuation[0]['artefact']} and wall motion there is "
                       "normal on the gated images: attenuation, not a perfusion defect")
    elif verdict == "abnormal" and attenuation and not confirmed \
            and all(a.get("wall_motion_normal") is not False for a in attenuation):
        verdict = "equivocal"
        reasons.append("the only reductions have the pattern of " + attenuation[0]["artefact"])
    # Only an equivocal verdict that the stress score alone made (not one demoted from
    # abnormal by an attenuation pattern).
    unconfirmed = unconfirmed_by_rest(reversibility, rest_summary, stress_summary, p) \
        if verdict == stress_summary["verdict"] == "equivocal" and p.paired_unconfirmed_normal \
        else None
    one_view = ""
    if verdict == stress_summary["verdict"] == "abnormal" and len(reasons) == 1 \
            and not attenuation:
        # An abnormal stress score and no other reason: contradicted in the same way, and
        # confined to one view.
        unconfirmed = unconfirmed_abnormal(reversibility, rest_summary, stress_summary, p)
        one_view = " (it lies in one view, and every territory is seen in two or three)"
    if unconfirmed:
        verdict = "normal"
        reasons.append(f"the stress reduction in {', '.join(unconfirmed)} is not seen on the "
                       "rest images and the stress − rest difference is within its normal "
                       "limits everywhere: the patient's own rest images do not confirm it"
                       + one_view)
    if verdict == "normal" and SUBOPTIMAL_IMAGE_CODES.intersection(finding_codes):
        verdict = "equivocal"
        reasons.append("suboptimal images (low counts, a view without an LV, or "
                       "uncorrected patient motion)")
    return StudyVerdict(verdict, tuple(reasons), tuple(induced), confirmed)


def territories_seen_elsewhere(named: Sequence[str],
                               fits: Sequence[tuple[str, dict[str, Any]]],
                               min_views: int) -> list[tuple[str, str, list[str]]]:
    """Territories that other fits name and ``named`` lacks, seen in enough views.

    ``fits``: (source, territory fit as JSON — ``named`` and ``segments``), in order of
    preference. A territory is taken from the first fit that names it with its attributed
    reduced segments in at least ``min_views`` views. Returns (source, territory,
    segments) in that order.
    """
    out: list[tuple[str, str, list[str]]] = []
    taken = set(named)
    for source, fit in fits:
        for territory in fit.get("named", []):
            keys = list(fit.get("segments", {}).get(territory, []))
            if territory not in taken and len(views_of(keys)) >= min_views:
                out.append((source, territory, keys))
                taken.add(territory)
    return out


def study_territories(stress_summary: dict[str, Any], rest_summary: dict[str, Any] | None,
                      reversibility: dict[str, Any] | None, verdict: StudyVerdict,
                      p: PerfusionParams) -> dict[str, Any]:
    """The study's territories: the result.json fields ``territories``,
    ``territory_segments``, ``territory_sources`` and, when used,
    ``territory_fit_paired``.

    The stress fit's territories (:func:`state_summary`); when it names none and the study
    is abnormal through stress-induced segments, those of the paired difference's fit
    (source ``paired``); and, in an abnormal study with stress and rest images, the
    territories the rest fit or the paired fit name and the stress fit does not, seen in
    ``extra_territory_min_views`` views (:func:`territories_seen_elsewhere`).

    Parameters
    ----------
    stress_summary : the stress state's :func:`state_summary`.
    rest_summary : the paired rest state's, or None.
    reversibility : :func:`~.reversibility.measure_reversibility`'s section, or None.
    verdict : :func:`study_verdict`'s.
    p : PerfusionParams
    """
    abnormal = verdict.verdict == "abnormal"
    territories = list(stress_summary["territories"])
    segments = {t: list(keys) for t, keys in stress_summary["territory_fit"]["segments"].items()
                if t in territories}
    out: dict[str, Any] = {}
    rev_segments = (reversibility or {}).get("segments", [])
    # The paired difference's losses explained by the territory signatures (the
    # reversible part of the study).
    paired_fit = fit_territories(
        {g["segment"]: g["induced_deficit"] for g in rev_segments if "induced_deficit" in g},
        {g["segment"]: bool(g.get("stress_induced")) for g in rev_segments},
        p.territory) if any("induced_deficit" in g for g in rev_segments) else None
    if verdict.induced and not territories and abnormal and paired_fit is not None:
        # The stress images named no territory: the paired losses are explained instead.
        territories = list(paired_fit.named)
        segments = {t: list(k) for t, k in paired_fit.segments.items()}
        out["territory_fit_paired"] = paired_fit.to_json()
    sources = {t: "stress" if t in stress_summary["territories"] else "paired"
               for t in territories}
    if abnormal and rest_summary is not None and p.extra_territory_min_views:
        # A territory the stress fit left unnamed, named by the rest images' fit (the fixed
        # part of a two-vessel study) or by the paired difference's (the reversible part),
        # with reduced segments in enough views to be a defect rather than one view's habitus.
        fits = [("rest", rest_summary["territory_fit"])]
        if paired_fit is not None:
            fits.append(("paired", paired_fit.to_json()))
        for source, territory, keys in territories_seen_elsewhere(
                territories, fits, p.extra_territory_min_views):
            territories.append(territory)
            segments[territory] = keys
            sources[territory] = source
    # Key order as result.json has always had it.
    return {"territories": territories, "territory_segments": segments, **out,
            "territory_sources": sources}


def unattributed_segments(segments: Sequence[dict[str, Any]],
                          territory_segments: Mapping[str, Sequence[str]],
                          reversibility: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The segments scored at stress that no named territory's segments hold: result.json
    ``unattributed_segments``.

    The territory fit attributes a reduced segment only to the territories it names, and a
    territory named from the rest images' or the paired difference's fit
    (:func:`territories_seen_elsewhere`) holds the segments of that fit; a stress
    reduction outside all of them — a second territory's loss too small beside the first's
    to be named, a view's attenuation — would otherwise be left out of every territory's
    description. Segments found only by the paired difference (score 0) are not listed:
    the stress fit does not attribute them either. Each entry: ``segment``, ``name``,
    ``territory`` (the segment's usual territory, from the segment-arc data), ``score``,
    and with rest images ``rest_score``, ``classification``, ``stress_induced``.

    Parameters
    ----------
    segments : the stress segments as result.json ``segments`` holds them.
    territory_segments : each named territory's segment keys.
    reversibility : :func:`~.reversibility.measure_reversibility`'s section, or None.
    """
    attributed = {k for keys in territory_segments.values() for k in keys}
    by_segment = {g["segment"]: g for g in (reversibility or {}).get("segments", [])}
    out = []
    for g in segments:
        if not g.get("score") or g["segment"] in attributed:
            continue
        entry = {"segment": g["segment"], "name": g["name"], "territory": g["territory"],
                 "score": int(g["score"])}
        rev = by_segment.get(g["segment"])
        if rev:
            entry.update(rest_score=rev["rest_score"], classification=rev["classification"],
                         stress_induced=bool(rev.get("stress_induced")))
        out.append(entry)
    return out
