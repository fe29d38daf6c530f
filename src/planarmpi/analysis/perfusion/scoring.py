"""Defects against normal limits: extent, severity, 15 segments scored 0–4, territories.

A profile point is abnormal when it falls below mean − k·SD of the normal limits at its
angle (k = ``sd_multiplier``); isolated points are noise, so only runs of at least
``min_run_points`` contiguous abnormal points (around the circle) form a defect's core,
which extends over its shoulders while the profile stays below mean − k_edge·SD
(``edge_sd_multiplier``, hysteresis). For each view:

- **extent** — the percentage of the profile's points inside defects;
- **severity** — the summed deficit below the limit (Σ (limit − value), in units of the
  normalised profile, × 100: "percent-points") and the mean depth of the defect
  relative to the normal mean (%).

Each view's profile is divided into five segments (arcs of the display angle, from the
data file ``planar_segment_arcs.json``; the valve-plane arc between the two basal
segments is not scored). A segment with at least ``segment_min_fraction`` of its points in
defects is scored by the mean depth of those points relative to the normal mean: 1 mildly,
2 moderately, 3 severely reduced, 4 absent (thresholds ``score_thresholds_percent``,
configurable; ours, not a guideline's — the planar literature scores visually). The
territories come from :data:`planarmpi.model.segments.SEGMENTS` (the usual right-dominant
mapping, kept as data).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import NDArray

from planarmpi.analysis.perfusion.normals import VIEW_NAMES, ViewLimits, best_shift
from planarmpi.analysis.perfusion.profiles import Profile
from planarmpi.model import View
from planarmpi.model.segments import SEGMENTS, Segment

__all__ = [
    "ScoringParams",
    "SegmentScore",
    "ViewDefects",
    "defect_runs",
    "grow_runs",
    "in_arc",
    "runs_below",
    "score_view",
    "segment_arcs",
    "territory_weights",
]

Array = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ScoringParams:
    """Settings of defect detection and segment scoring (see module docstring)."""

    sd_multiplier: float = 2.5
    edge_sd_multiplier: float = 1.5
    min_run_points: int = 3
    segment_min_fraction: float = 0.34
    score_thresholds_percent: tuple[float, float, float, float] = (0.0, 20.0, 35.0, 50.0)
    #: Widen the limits' SD by the patient's counting noise in excess of the normals'
    #: (:meth:`~.normals.ViewLimits.widened_sd`), when both are known.
    noise_widening: bool = True

    def __post_init__(self) -> None:
        if not 0.5 <= self.sd_multiplier <= 5:
            raise ValueError(f"sd_multiplier must be within 0.5–5, got {self.sd_multiplier}")
        if not 0 <= self.edge_sd_multiplier <= self.sd_multiplier:
            raise ValueError("edge_sd_multiplier must be within 0 and sd_multiplier")
        if self.min_run_points < 1:
            raise ValueError("min_run_points must be ≥ 1")
        t = self.score_thresholds_percent
        if len(t) != 4 or list(t) != sorted(t):
            raise ValueError("score thresholds must be 4 increasing percentages")


@dataclass(frozen=True, slots=True)
class SegmentScore:
    """One planar segment's score."""

    segment: Segment
    score: int
    defect_fraction: float
    depth_percent: float
    mean_uptake_percent: float
    normal_mean_percent: float
    deficit: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "segment": self.segment.key, "name": self.segment.name,
            "territory": self.segment.territory, "score": self.score,
            "defect_fraction": round(self.defect_fraction, 4),
            "depth_percent": round(self.depth_percent, 3),
            "mean_uptake_percent": round(self.mean_uptake_percent, 3),
            "normal_mean_percent": round(self.normal_mean_percent, 3),
            "deficit": round(self.deficit, 5),
        }


@dataclass(frozen=True, slots=True)
class ViewDefects:
    """Comparison of one view's profile with its limits."""

    view: View
    abnormal: NDArray[np.bool_]
    lower_limit: Array
    z_scores: Array
    rotation_deg: float
    aligned_values: Array
    extent_percent: float
    summed_deficit: float
    mean_depth_percent: float
    segments: tuple[SegmentScore, ...]
    #: The SD the profile was compared with (the limits' SD, widened for counting noise).
    sd_used: Array | None = None
    #: How much wider, on average over the angles, ``sd_used`` is than the limits' SD (%).
    noise_widening_percent: float = 0.0


@functools.cache
def _arcs_document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((resources.files("planarmpi.analysis") / "data"
                                      / "planar_segment_arcs.json").read_text(encoding="utf-8"))
    return doc


def segment_arcs() -> dict[str, list[tuple[int, float, float]]]:
    """Per view name: (segment index, start°, end°) arcs in the display convention."""
    return {view: [(int(a["segment"]), float(a["start_deg"]), float(a["end_deg"]))
                   for a in arcs] for view, arcs in _arcs_document()["views"].items()}


def territory_weights() -> dict[str, dict[str, float]]:
    """Per segment key (``LAO-4``): the share of its score each territory receives."""
    out: dict[str, dict[str, float]] = {}
    for view, arcs in _arcs_document()["views"].items():
        for a in arcs:
            out[f"{view}-{a['segment']}"] = {t: float(w) for t, w in
                                             a["territory_weights"].items()}
    return out


def in_arc(angles: Array, start: float, end: float) -> NDArray[np.bool_]:
    """Angles (degrees) inside the arc from ``start`` to ``end`` clockwise (end excluded)."""
    a = angles % 360.0
    if start <= end:
        return np.asarray((a >= start) & (a < end))
    return np.asarray((a >= start) | (a < end))


def defect_runs(below: NDArray[np.bool_], min_run: int) -> NDArray[np.bool_]:
    """Points of ``below`` that belong to circular runs of at least ``min_run`` points."""
    n = below.size
    if below.all():
        return below.copy()
    out = np.zeros(n, dtype=bool)
    start = int(np.argmin(below))  # a point that is not below: runs cannot wrap past it
    run: list[int] = []
    for step in range(1, n + 1):
        i = (start + step) % n
        if below[i]:
            run.append(i)
            continue
        if len(run) >= min_run:
            out[run] = True
        run = []
    return out


def grow_runs(seeds: NDArray[np.bool_], allowed: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The circular runs of ``allowed`` that contain a seed (seeds always kept)."""
    allowed = allowed | seeds
    n = allowed.size
    if allowed.all():
        return allowed.copy() if seeds.any() else np.zeros(n, dtype=bool)
    out = seeds.copy()
    start = int(np.argmin(allowed))
    run: list[int] = []
    for step in range(1, n + 1):
        i = (start + step) % n
        if allowed[i]:
            run.append(i)
            continue
        if run and seeds[run].any():
            out[run] = True
        run = []
    return out


def runs_below(values: Array, limits: ViewLimits, params: ScoringParams) -> NDArray[np.bool_]:
    """Points of ``values`` in defects against ``limits``: runs of ≥ ``min_run_points``
    below mean − k·SD, each extended over its shoulders while the values stay below
    mean − k_edge·SD (hysteresis)."""
    core = defect_runs(values < limits.lower_limit(params.sd_multiplier), params.min_run_points)
    return grow_runs(core, values < limits.lower_limit(params.edge_sd_multiplier))


def score_view(view: View, profile: Profile, limits: ViewLimits,
               params: ScoringParams | None = None) -> ViewDefects:
    """Compare a view's profile with its limits and score its five segments."""
    p = params or ScoringParams()
    if profile.values.shape != limits.mean.shape:
        raise ValueError(f"profile has {profile.values.size} angles, limits "
                         f"{limits.mean.size}")
    # Rotate onto the limits' template, as the normal profiles were (heart orientation).
    step = 360.0 / profile.values.size
    shift = best_shift(profile.values, limits.mean, int(limits.alignment_max_deg // step))
    values = np.roll(profile.values, shift)
    limits_sd = limits.sd
    if p.noise_widening and profile.noise_sd is not None:
        limits = limits.widened(np.roll(profile.noise_sd, shift))
    lower = limits.lower_limit(p.sd_multiplier)
    z = (values - limits.mean) / limits.sd
    abnormal = runs_below(values, limits, p)
    deficit = np.where(abnormal, np.clip(lower - values, 0.0, None), 0.0)
    # Loss below the normal mean wherever the profile is below the edge limit (the
    # territory fit's input: the shoulders of a defect hold some of its territory's loss).
    loss = np.where(z < -p.edge_sd_multiplier, np.clip(limits.mean - values, 0.0, None), 0.0)
    depth = np.where(abnormal, 100.0 * (limits.mean - values) / limits.mean, 0.0)
    n_abn = int(abnormal.sum())
    arcs = segment_arcs()[VIEW_NAMES[view]]
    by_index = {s.index: s for s in SEGMENTS if s.view is view}
    t = p.score_thresholds_percent
    scores = []
    for index, start, end in arcs:
        inside = in_arc(profile.angles_deg, start, end)
        fraction = float(abnormal[inside].mean()) if inside.any() else 0.0
        seg_depth = float(depth[inside & abnormal].mean()) if (inside & abnormal).any() else 0.0
        score = 0
        if fraction >= p.segment_min_fraction:
            score = 1 + int(np.searchsorted(np.asarray(t[1:]), seg_depth, side="right"))
        scores.append(SegmentScore(
            by_index[index], score, fraction, seg_depth,
            100.0 * float(values[inside].mean()) if inside.any() else float("nan"),
            100.0 * float(limits.mean[inside].mean()) if inside.any() else float("nan"),
            float(loss[inside].mean()) if inside.any() else 0.0))
    return ViewDefects(
        view=view, abnormal=abnormal, lower_limit=lower, z_scores=z,
        rotation_deg=shift * step, aligned_values=values,
        extent_percent=100.0 * n_abn / values.size,
        summed_deficit=100.0 * float(deficit.sum()),
        mean_depth_percent=float(depth[abnormal].mean()) if n_abn else 0.0,
        segments=tuple(scores), sd_used=limits.sd,
        noise_widening_percent=100.0 * (float(np.mean(limits.sd / limits_sd)) - 1.0))
