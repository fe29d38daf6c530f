"""The territory fit's naming rule: a second territory must be seen in two views."""

from __future__ import annotations

import pytest

from planarmpi.analysis.perfusion.territory import (
    TerritoryFit,
    TerritoryParams,
    fit_territories,
    signatures,
)

#: Two views (A, B) of two territories: X shows in A-1, A-2 and B-1; Y in A-3 and B-2.
TABLE = {"A-1": {"X": 1.0, "Y": 0.0}, "A-2": {"X": 1.0, "Y": 0.0},
         "A-3": {"X": 0.0, "Y": 1.0}, "B-1": {"X": 1.0, "Y": 0.0},
         "B-2": {"X": 0.0, "Y": 1.0}}


def _fit(deficits: dict[str, float], params: TerritoryParams | None = None,
         reduced: set[str] | None = None) -> TerritoryFit:
    """The fit, with the segments of positive deficit reduced unless told otherwise."""
    flags = {k: (v > 0 if reduced is None else k in reduced) for k, v in deficits.items()}
    return fit_territories(deficits, flags, params, TABLE)


def test_a_second_territory_seen_in_one_view_is_not_named() -> None:
    # Y loses a little in B-2 too, but only A-3 is scored as reduced.
    deficits = {"A-1": 0.3, "A-2": 0.3, "B-1": 0.3, "A-3": 0.25, "B-2": 0.1}
    reduced = {"A-1", "A-2", "B-1", "A-3"}
    fit = _fit(deficits, reduced=reduced)
    # Its coefficient alone would name it (0.175 ≥ 0.5 × 0.3) ...
    assert fit.coefficients["Y"] == pytest.approx(0.175)
    assert fit.coefficients["X"] == pytest.approx(0.3)
    # ... but its reduced segment lies in view A only.
    assert fit.named == ("X",)
    assert set(fit.segments) == {"X"}
    for views in (0, 1):
        kept = _fit(deficits, TerritoryParams(min_views=views), reduced)
        assert kept.named == ("X", "Y")
        assert kept.segments["Y"] == ("A-3",)


def test_a_second_territory_seen_in_two_views_is_named() -> None:
    fit = _fit({"A-1": 0.3, "A-2": 0.3, "B-1": 0.3, "A-3": 0.2, "B-2": 0.2})
    assert fit.named == ("X", "Y")
    assert fit.segments["Y"] == ("A-3", "B-2")


def test_the_largest_territory_is_named_from_one_view() -> None:
    fit = _fit({"A-1": 0.0, "A-2": 0.0, "B-1": 0.0, "A-3": 0.25, "B-2": 0.0})
    assert fit.named == ("Y",)


def test_with_one_view_fitted_one_view_is_enough() -> None:
    # Only view A measured: every territory can be seen in one view at most.
    fit = _fit({"A-1": 0.3, "A-2": 0.3, "A-3": 0.2})
    assert fit.named == ("X", "Y")


@pytest.mark.parametrize("views", [-1, 4])
def test_min_views_is_checked(views: int) -> None:
    with pytest.raises(ValueError, match="min_views"):
        TerritoryParams(min_views=views)


def test_a_segment_at_the_far_edge_of_a_territory_is_not_attributed_to_it() -> None:
    """The built-in signatures: the LCX loses 0.001 of the basal anterolateral segment
    (ANT-1) when wholly absent. An LCX defect with ANT-1 also reduced (an LAD loss too
    small to be named beside it) must not describe ANT-1 as LCX."""
    sig = signatures()
    assert sig["ANT-1"]["LCX"] < 0.05 <= sig["ANT-1"]["LAD"]
    lcx = {k: 0.3 * row["LCX"] for k, row in sig.items()}
    deficits = {**lcx, "ANT-1": 0.08}
    reduced = {k: v > 0.05 for k, v in deficits.items()}
    fit = fit_territories(deficits, reduced)
    assert fit.named == ("LCX",)
    assert "ANT-1" not in fit.segments["LCX"]
    assert "LAO-4" in fit.segments["LCX"]
    # Without the floor (before 2026-12-03) the named LCX took it.
    assert "ANT-1" in fit_territories(deficits, reduced,
                                      TerritoryParams(min_signature=0.0)).segments["LCX"]
    with pytest.raises(ValueError, match="min_signature"):
        TerritoryParams(min_signature=1.0)
