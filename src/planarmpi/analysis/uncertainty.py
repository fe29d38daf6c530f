"""Combining the uncertainty components of an ejection fraction into one interval.

An EF's interval adds independent components — Poisson scatter estimated from a few
redraws, ROI sensitivity from a few perturbations, a method SD taken as known. When a
component's SD is itself estimated from only ``k`` values, the interval's width is uncertain
too, and a normal quantile (1.96) under-covers. The Welch–Satterthwaite approximation gives
the combined variance's effective degrees of freedom, and the Student-t quantile at those
degrees of freedom replaces 1.96 (e.g. Poisson SD from 8 redraws dominating: about 2.2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy import stats

__all__ = ["Component", "half_width"]

#: (SD, degrees of freedom of its estimate; ``math.inf`` for a value taken as known).
Component = tuple[float, float]


def half_width(components: Sequence[Component], level: float = 0.95) -> float:
    """Half-width of the two-sided ``level`` interval of a sum of independent components.

    Parameters
    ----------
    components : sequence of (sd, dof)
        Each component's SD (same unit as the result) and the degrees of freedom of its
        estimate (``k − 1`` for an SD from ``k`` values; ``math.inf`` when known). NaN SDs
        count as 0.
    level : float
        Coverage, e.g. 0.95.

    Returns
    -------
    float
        ``t(level, ν_eff) × sqrt(Σ sd²)`` with ν_eff by Welch–Satterthwaite; 0 when every SD
        is 0.

    Examples
    --------
    >>> round(half_width([(1.0, math.inf)]), 2)
    1.96
    >>> round(half_width([(4.35, 7), (1.6, 4), (2.0, math.inf)]), 1)
    11.0
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be within (0, 1), got {level}")
    parts = [(0.0 if math.isnan(sd) else float(sd), float(dof)) for sd, dof in components]
    if any(dof <= 0 for _, dof in parts):
        raise ValueError("degrees of freedom must be positive")
    variance = sum(sd**2 for sd, _ in parts)
    if variance == 0.0:
        return 0.0
    spread = sum(sd**4 / dof for sd, dof in parts if math.isfinite(dof))
    nu = variance**2 / spread if spread > 0 else math.inf
    q = float(stats.norm.ppf(0.5 + level / 2)) if math.isinf(nu) \
        else float(stats.t.ppf(0.5 + level / 2, nu))
    return q * math.sqrt(variance)
