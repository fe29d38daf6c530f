"""Rest and paired images across views: reversibility and territories (issue #5, 3 and 6)."""

from __future__ import annotations

from typing import Any

import pytest

from planarmpi.analysis.perfusion.params import PerfusionParams
from planarmpi.analysis.perfusion.reversibility import (
    corroborated_at_rest,
    overall_reversibility,
    reversibility_by_territory,
    segment_reversibility,
)
from planarmpi.model.segments import SEGMENTS


def _entries(stress: dict[str, int], rest: dict[str, int], classes: dict[str, str],
             views: tuple[str, ...] = ("ANT", "LAO", "LLAT")) -> list[dict[str, Any]]:
    """Segment entries as ``measure_reversibility`` makes them, for the given views."""
    out = []
    for s in SEGMENTS:
        if s.key.split("-")[0] not in views:
            continue
        kind = classes.get(s.key, "normal" if not rest.get(s.key) else "rest-only")
        out.append({"segment": s.key, "territory": s.territory,
                    "stress_score": stress.get(s.key, 0), "rest_score": rest.get(s.key, 0),
                    "classification": kind})
    return out


def _flags(entries: list[dict[str, Any]]) -> dict[str, bool]:
    return {g["segment"]: g["corroborated_at_rest"] for g in entries
            if "corroborated_at_rest" in g}


def test_a_fixed_reduction_in_one_view_only_is_not_corroborated() -> None:
    # ANT-1 (LAD 0.7, LCX 0.3) reduced at stress and at rest, nothing else at rest.
    entries = _entries({"ANT-1": 2}, {"ANT-1": 2, "ANT-2": 1}, {"ANT-1": "scar"})
    entries = corroborated_at_rest(entries, 2)
    assert _flags(entries) == {"ANT-1": False}


def test_the_same_territory_reduced_at_rest_in_another_view_corroborates() -> None:
    entries = _entries({"ANT-1": 2}, {"ANT-1": 2, "LAO-1": 1}, {"ANT-1": "scar"})
    entries = corroborated_at_rest(entries, 2)
    assert _flags(entries) == {"ANT-1": True}
    # Three views needed: two are not enough.
    entries = _entries({"ANT-1": 2}, {"ANT-1": 2, "LAO-1": 1}, {"ANT-1": "scar"})
    entries = corroborated_at_rest(entries, 3)
    assert _flags(entries) == {"ANT-1": False}


@pytest.mark.parametrize(("other", "expected"), [
    ("LAO-4", True),    # LCX 1.0: shares LLAT-5's LCX (0.6)
    ("ANT-4", True),    # RCA 0.8: shares LLAT-5's RCA (0.4)
    ("LAO-1", False),   # LAD 0.9, RCA 0.1: the RCA edge is below the 0.2 share
])
def test_territories_are_shared_by_their_arc_weights(other: str, expected: bool) -> None:
    entries = _entries({"LLAT-5": 3}, {"LLAT-5": 3, other: 1}, {"LLAT-5": "mixed"})
    entries = corroborated_at_rest(entries, 2)
    assert _flags(entries) == {"LLAT-5": expected}


def test_nothing_is_marked_when_the_rule_cannot_apply() -> None:
    entries = _entries({"ANT-1": 2}, {"ANT-1": 2}, {"ANT-1": "scar"})
    entries = corroborated_at_rest(entries, 1)
    assert _flags(entries) == {}
    one_view = _entries({"ANT-1": 2}, {"ANT-1": 2}, {"ANT-1": "scar"}, views=("ANT",))
    one_view = corroborated_at_rest(one_view, 2)
    assert _flags(one_view) == {}
    # Ischaemic segments are never marked.
    entries = _entries({"ANT-1": 2}, {}, {"ANT-1": "ischemia"})
    entries = corroborated_at_rest(entries, 2)
    assert _flags(entries) == {}


def test_an_uncorroborated_fixed_segment_does_not_make_ischaemia_mixed() -> None:
    stress = {"LAO-1": 2, "LLAT-2": 2, "ANT-3": 2}
    classes = {"LAO-1": "ischemia", "LLAT-2": "ischemia", "ANT-3": "scar"}
    lone = _entries(stress, {"ANT-3": 2}, classes)
    assert overall_reversibility(lone) == "mixed"      # 4 of 6 points ischaemic: < 70%
    lone = corroborated_at_rest(lone, 2)
    assert overall_reversibility(lone) == "ischemia"
    seen_twice = _entries(stress, {"ANT-3": 2, "LLAT-1": 1}, classes)
    seen_twice = corroborated_at_rest(seen_twice, 2)
    assert overall_reversibility(seen_twice) == "mixed"


def test_overall_falls_back_when_only_uncorroborated_segments_are_reduced() -> None:
    entries = _entries({"ANT-4": 3, "ANT-5": 2}, {"ANT-4": 3, "ANT-5": 2},
                       {"ANT-4": "scar", "ANT-5": "scar"})
    entries = corroborated_at_rest(entries, 2)
    assert set(_flags(entries).values()) == {False}
    assert overall_reversibility(entries) == "scar"
    assert overall_reversibility(_entries({}, {}, {})) == "none"


def test_territories_of_different_reversibility_make_the_study_mixed() -> None:
    # A large LAD ischaemia (8 points) beside a small RCA scar (2): 80% of the summed
    # score is ischaemic, so the shares alone call the study ischaemia.
    stress = {"ANT-1": 2, "ANT-2": 2, "LAO-1": 2, "LLAT-2": 2, "ANT-4": 1, "LLAT-4": 1}
    rest = {"ANT-4": 1, "LLAT-4": 1}
    classes = {k: "ischemia" for k in ("ANT-1", "ANT-2", "LAO-1", "LLAT-2")} | {
        "ANT-4": "scar", "LLAT-4": "scar"}
    entries = corroborated_at_rest(_entries(stress, rest, classes), 2)
    territories = {"LAD": ["ANT-1", "ANT-2", "LAO-1", "LLAT-2"], "RCA": ["ANT-4", "LLAT-4"]}
    section = {"segments": entries, "overall": overall_reversibility(entries)}
    assert section["overall"] == "ischemia"
    kept = dict(section)
    reversibility_by_territory(kept, territories, decide=False)
    assert kept["territories"] == {"LAD": "ischemia", "RCA": "scar"}
    assert kept["overall"] == "ischemia"
    reversibility_by_territory(section, territories, decide=True)
    assert section["overall"] == "mixed"
    assert section["overall_reason"] == ("the territories differ (LAD ischemia, RCA scar); "
                                         "by the summed score alone: ischemia")
    # One territory, or territories that agree: the shares decide, as before.
    one = {"segments": entries, "overall": "ischemia"}
    reversibility_by_territory(one, {"LAD": territories["LAD"]}, decide=True)
    assert (one["overall"], one["territories"]) == ("ischemia", {"LAD": "ischemia"})
    assert "overall_reason" not in one


def test_induced_segments_count_one_point() -> None:
    entries = _entries({"ANT-4": 2}, {"ANT-4": 2, "LAO-3": 1}, {"ANT-4": "scar"})
    for g in entries:
        if g["segment"] == "LAO-4":
            g.update(classification="ischemia", stress_induced=True)
    entries = corroborated_at_rest(entries, 2)
    # 2 scar points and 1 induced ischaemic point: neither reaches 70%.
    assert overall_reversibility(entries) == "mixed"


@pytest.mark.parametrize(("stress", "rest", "improvement", "induced", "expected"), [
    (0, 0, 0.0, False, "normal"),
    (0, 2, -20.0, False, "rest-only"),
    (0, 0, 3.0, True, "ischemia"),  # found by the paired difference alone
    (3, 0, 25.0, False, "ischemia"),  # reduced at stress, recovered at rest
    (3, 0, 4.0, True, "ischemia"),  # small improvement, but stress-induced
    (3, 0, 4.0, False, "scar"),  # crossed the rest limits without improving
    (3, 0, 10.0, False, "ischemia"),  # improved by the threshold exactly
    (3, 2, 12.0, False, "mixed"),
    (3, 2, 2.0, True, "mixed"),
    (3, 3, 2.0, False, "scar"),
])
def test_segment_reversibility_needs_improvement_at_rest(
        stress: int, rest: int, improvement: float, induced: bool, expected: str) -> None:
    p = PerfusionParams()
    assert p.reversibility_min_improvement_percent == 10.0
    assert segment_reversibility(stress, rest, improvement, induced, p) == expected


def test_without_the_improvement_rule_normal_at_rest_is_ischaemia() -> None:
    from dataclasses import replace

    p = replace(PerfusionParams(), reversible_needs_improvement=False)
    assert segment_reversibility(3, 0, 4.0, False, p) == "ischemia"
    assert segment_reversibility(3, 3, 4.0, False, p) == "scar"
