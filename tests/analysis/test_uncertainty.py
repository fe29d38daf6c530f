"""The combined EF interval: Student-t at Welch–Satterthwaite degrees of freedom."""

from __future__ import annotations

import math

import numpy as np
import pytest

from planarmpi.analysis.uncertainty import half_width


def test_known_components_use_the_normal_quantile() -> None:
    assert half_width([(3.0, math.inf), (4.0, math.inf)]) == pytest.approx(1.959964 * 5.0)


def test_one_estimated_component_uses_its_t_quantile() -> None:
    # t(0.975, 7) = 2.3646 (statistical tables).
    assert half_width([(1.0, 7)]) == pytest.approx(2.3646, abs=1e-4)


def test_nan_counts_as_zero_and_all_zero_is_zero() -> None:
    assert half_width([(float("nan"), 7), (1.0, math.inf)]) == pytest.approx(1.959964)
    assert half_width([(0.0, 3)]) == 0.0


@pytest.mark.parametrize("bad", [[(1.0, 0)], [(1.0, -2)]])
def test_bad_degrees_of_freedom_are_refused(bad: list[tuple[float, float]]) -> None:
    with pytest.raises(ValueError, match="degrees of freedom"):
        half_width(bad)


def test_interval_from_eight_redraws_covers_95_percent() -> None:
    # The truth scatters with SD 4 (Poisson-like) plus a known method SD of 2; the Poisson
    # SD is estimated from 8 redraws each time, as the gated-perfusion EF does.
    rng = np.random.default_rng(7)
    n = 20000
    poisson_sd, method_sd = 4.0, 2.0
    errors = rng.normal(0, math.hypot(poisson_sd, method_sd), n)
    estimated = rng.normal(0, poisson_sd, (n, 8)).std(axis=1, ddof=1)
    t_half = np.array([half_width([(sd, 7), (method_sd, math.inf)]) for sd in estimated[:2000]])
    z_half = 1.96 * np.hypot(estimated, method_sd)
    assert np.mean(np.abs(errors[:2000]) <= t_half) == pytest.approx(0.95, abs=0.015)
    assert np.mean(np.abs(errors) <= z_half) < 0.935  # the normal quantile under-covers
