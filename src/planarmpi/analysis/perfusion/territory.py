"""Coronary territories of planar defects: the segment deficits explained by territory signatures.

Planar views superimpose walls, so one territory lowers segments of several views, and one
segment can hold the loss of two territories (the anterior view's apical arc holds the
LAD's apex and the LCX's lateral wall seen edge-on). Instead of giving each segment one
territory, the deficits of the 15 segments are explained as a non-negative combination
of the three territories' *signatures* — the fractional count loss each segment shows
when a territory's whole arc is absent, measured by projecting a model heart at the
standard views (``data/planar_territory_signatures.json``, written by
``bench/territory_signatures.py``; a site with another dominance or territory model can
replace the file). The coefficients (non-negative least squares, :func:`scipy.optimize.nnls`)
say how much of each territory is missing; a territory is named when its coefficient is
at least ``relative`` × the largest and at least ``minimum``. A territory besides the one
with the largest coefficient must also be seen: the reduced segments attributed to it
must lie in at least ``min_views`` views (every territory has walls seen edge-on in two
or three of the standard views, so the share of a second territory found in one view
alone is the first one's loss, or one view's attenuation, spilling into it).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
from scipy.optimize import nnls

from planarmpi.model.segments import views_of

__all__ = ["TerritoryFit", "TerritoryParams", "fit_territories", "signatures"]


@dataclass(frozen=True, slots=True)
class TerritoryParams:
    """Naming rule of :func:`fit_territories`.

    Attributes
    ----------
    relative : float
        A territory is named when its coefficient is at least this fraction of the largest
        (a second vessel must explain a real share of the loss, not the edge of the first).
    minimum : float
        ... and at least this coefficient (fraction of the territory's full-arc loss).
    segment_share : float
        A reduced segment is attributed to each named territory whose fitted contribution
        there is at least this fraction of the segment's largest contribution.
    min_signature : float
        A segment is attributed to a territory only where the territory's signature there
        (its fractional loss when wholly absent) is at least this: the model heart's
        signatures fall in two groups, ≥ 0.064 and ≤ 0.037 — the second the far edge of a
        neighbouring territory's projection (the basal anterolateral and basal/mid
        anterior segments for the LCX, the mid posterolateral and posterobasal ones for
        the RCA), where a fitted coefficient times ~0.001–0.04 would otherwise take a
        reduced segment that the territory cannot explain. 0 turns the floor off (before
        2026-12-03). The coefficients are fitted over every signature as before.
    min_views : int
        A territory other than the largest coefficient's is named only when the reduced
        segments attributed to it lie in at least this many views (all the views fitted,
        when fewer were); 0 or 1 turns the condition off. The same reasoning, and the same
        value, as the perfusion analysis's ``paired_min_views`` and
        ``extra_territory_min_views``. On 600 simulated development studies (seeds
        1250000+ to 1300000+) it set right 10 studies that named a territory without a
        defect and lost a real second territory in 2: territories right 215 → 223 of 267
        (docs/validation.md).
    """

    relative: float = 0.5
    minimum: float = 0.02
    segment_share: float = 0.5
    min_signature: float = 0.05
    min_views: int = 2

    def __post_init__(self) -> None:
        if not 0 < self.relative <= 1 or not 0 <= self.minimum < 1 \
                or not 0 < self.segment_share <= 1 or not 0 <= self.min_signature < 1:
            raise ValueError("relative and segment_share must be within (0, 1], "
                             "minimum and min_signature within [0, 1)")
        if not 0 <= self.min_views <= 3:
            raise ValueError(f"min_views must be within 0–3, got {self.min_views}")


@dataclass(frozen=True, slots=True)
class TerritoryFit:
    """The territories that explain a state's segment deficits."""

    coefficients: dict[str, float]
    named: tuple[str, ...]
    segments: dict[str, tuple[str, ...]]
    residual: float

    def to_json(self) -> dict[str, Any]:
        return {"coefficients": {t: round(c, 4) for t, c in self.coefficients.items()},
                "named": list(self.named),
                "segments": {t: list(s) for t, s in self.segments.items()},
                "residual": round(self.residual, 4),
                "source": _document()["source"]}


@functools.cache
def _document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((resources.files("planarmpi.analysis") / "data"
                                      / "planar_territory_signatures.json")
                                     .read_text(encoding="utf-8"))
    return doc


def signatures() -> dict[str, dict[str, float]]:
    """Per segment key (``ANT-3``): each territory's expected fractional loss."""
    return {key: {t: float(v) for t, v in row.items()}
            for key, row in _document()["segments"].items()}


def fit_territories(deficits: Mapping[str, float], reduced: Mapping[str, bool],
                    params: TerritoryParams | None = None,
                    table: Mapping[str, Mapping[str, float]] | None = None) -> TerritoryFit:
    """Explain the segment deficits by the territory signatures.

    Parameters
    ----------
    deficits : mapping of segment key to float
        Each measured segment's mean loss below the normal mean (fraction of the normalised
        profile; only points below the limits count, see :mod:`.scoring`). Segments of
        views that were not measured are absent, and are left out of the fit.
    reduced : mapping of segment key to bool
        Which segments were scored as reduced (for the attribution of segments).
    params : TerritoryParams, optional
    table : mapping, optional
        Signatures (segment → territory → loss); the built-in file otherwise.
    """
    p = params or TerritoryParams()
    sig = table or signatures()
    keys = [k for k in sig if k in deficits]
    territories = sorted({t for row in sig.values() for t in row})
    if not keys:
        return TerritoryFit({t: 0.0 for t in territories}, (), {}, 0.0)
    a = np.array([[sig[k].get(t, 0.0) for t in territories] for k in keys])
    b = np.array([max(float(deficits[k]), 0.0) for k in keys])
    coef, residual = nnls(a, b)
    top = float(coef.max())
    named = tuple(t for t, c in sorted(zip(territories, coef, strict=True), key=lambda x: -x[1])
                  if c > 0 and c >= p.minimum and c >= p.relative * top)
    index = {t: i for i, t in enumerate(territories)}
    segments = _attributed(keys, reduced, named, coef, index, sig, p.segment_share,
                           p.min_signature)
    needed = min(p.min_views, len(views_of(keys)))
    seen = tuple(t for i, t in enumerate(named)
                 if i == 0 or needed < 2 or len(views_of(segments[t])) >= needed)
    if seen != named:
        # A territory not seen in enough views is not named; its segments go to the others.
        named = seen
        segments = _attributed(keys, reduced, named, coef, index, sig, p.segment_share,
                               p.min_signature)
    return TerritoryFit({t: float(c) for t, c in zip(territories, coef, strict=True)}, named,
                        {t: tuple(s) for t, s in segments.items()}, float(residual))


def _attributed(keys: list[str], reduced: Mapping[str, bool], named: tuple[str, ...],
                coef: np.ndarray, index: dict[str, int], sig: Mapping[str, Mapping[str, float]],
                share: float, min_signature: float) -> dict[str, list[str]]:
    """Each named territory's reduced segments: those where its signature is at least
    ``min_signature`` and its fitted contribution at least ``share`` × the segment's
    largest among the named territories."""
    segments: dict[str, list[str]] = {t: [] for t in named}
    for k in keys:
        if not reduced.get(k):
            continue
        contribution = {t: coef[index[t]] * sig[k].get(t, 0.0) for t in named
                        if sig[k].get(t, 0.0) >= min_signature}
        best = max(contribution.values(), default=0.0)
        for t in contribution:
            if best > 0 and contribution[t] >= share * best:
                segments[t].append(k)
    return segments
