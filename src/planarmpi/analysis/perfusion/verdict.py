"""The pieces of the study's verdict: each state's summed score, territories and verdict
(:func:`state_summary`), and the rules that let the rest images confirm or contradict the
stress images (:func:`confirmed_at_rest`, :func:`unconfirmed_by_rest`,
:func:`unconfirmed_abnormal`, :func:`paired_views`); :func:`.study.analyze_perfusion`
applies them in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from planarmpi.analysis.perfusion.artefacts import attenuation_pattern
from planarmpi.analysis.perfusion.params import PerfusionParams
from planarmpi.analysis.perfusion.scoring import territory_weights
from planarmpi.analysis.perfusion.territory import fit_territories
from planarmpi.analysis.perfusion.views import ViewAnalysis, reduced_scores
from planarmpi.model import Sex
from planarmpi.model.segments import views_of

__all__ = [
    "confirmed_at_rest",
    "paired_views",
    "state_summary",
    "unconfirmed_abnormal",
    "unconfirmed_by_rest",
]


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
