"""Attenuation patterns are named, not called defects, and only when they fit (issue #5, 5)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from planarmpi.analysis.perfusion.study import (
    PerfusionParams,
    _artefacts,
    _confirmed_at_rest,
    _set_aside,
    _unconfirmed_by_rest,
)
from planarmpi.model import Sex
from planarmpi.model.segments import SEGMENTS

STRESS = "stress-exercise"
BY_KEY = {s.key: s for s in SEGMENTS}


def _views(scores: dict[str, int]) -> dict[str, list[Any]]:
    """One fake stress view holding the 15 segments with the given scores (others 0)."""
    segments = [SimpleNamespace(segment=BY_KEY[k], score=scores.get(k, 0)) for k in BY_KEY]
    return {STRESS: [SimpleNamespace(defects=SimpleNamespace(segments=segments),
                                     extracardiac=None)]}


def _attenuation(rest_summed: int | None, sex: Sex, scores: dict[str, int],
                 wall_motion: list[dict[str, Any]] | None = None,
                 induced: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    rest = None if rest_summed is None else {"summed_score": rest_summed}
    found = _artefacts(rest, sex, _views(scores), STRESS, wall_motion or [], induced)
    return [a for a in found if "attenuation" in a["artefact"]]


BREAST = {"ANT-1": 1, "ANT-2": 2}
DIAPHRAGM = {"ANT-4": 1, "LAO-3": 2}


def test_mild_fixed_anterior_reduction_in_a_woman_is_breast_attenuation() -> None:
    (found,) = _attenuation(1, Sex.FEMALE, BREAST)
    assert found["artefact"] == "breast attenuation"
    assert found["segments"] == ["ANT-1", "ANT-2"]
    assert found["fixed_at_rest"] is True
    assert found["wall_motion_normal"] is None
    assert "no gated wall motion to confirm" in found["message"]


@pytest.mark.parametrize(("grade", "expected", "words"), [
    ("normal", True, "wall motion there is normal"),
    ("hypokinetic", False, "but wall motion there is reduced"),
])
def test_wall_motion_of_the_territory_confirms_or_questions_it(grade: str, expected: bool,
                                                              words: str) -> None:
    motion = [{"territory": "LAD", "grade": grade}, {"territory": "RCA", "grade": "normal"}]
    (found,) = _attenuation(1, Sex.FEMALE, BREAST, motion)
    assert found["wall_motion_normal"] is expected
    assert words in found["message"]


def test_mild_fixed_inferior_reduction_in_a_man_is_diaphragmatic_attenuation() -> None:
    (found,) = _attenuation(2, Sex.MALE, DIAPHRAGM)
    assert found["artefact"] == "diaphragmatic attenuation"
    assert _attenuation(2, Sex.FEMALE, DIAPHRAGM) == []
    assert _attenuation(1, Sex.MALE, BREAST) == []


@pytest.mark.parametrize(("rest_summed", "scores", "induced", "why"), [
    (1, {"ANT-1": 3, "ANT-2": 2}, frozenset(), "a severe segment"),
    (1, {"ANT-1": 2, "ANT-2": 2, "LLAT-1": 2}, frozenset(), "summed 6 > 5"),
    (1, {"ANT-1": 1, "ANT-2": 2, "LAO-4": 1}, frozenset(), "a segment outside the pattern"),
    (0, BREAST, frozenset(), "normal at rest: reversible"),
    (1, BREAST, frozenset({"ANT-2"}), "a stress-induced reduction against rest"),
])
def test_what_attenuation_does_not_do(rest_summed: int, scores: dict[str, int],
                                      induced: frozenset[str], why: str) -> None:
    assert _attenuation(rest_summed, Sex.FEMALE, scores, induced=induced) == [], why


def test_a_stress_only_study_can_show_the_pattern() -> None:
    (found,) = _attenuation(None, Sex.FEMALE, BREAST)
    assert found["fixed_at_rest"] is None


def _state(scores: dict[str, int]) -> list[Any]:
    return _views(scores)[STRESS]


@pytest.mark.parametrize(("sex", "stress", "rest", "common"), [
    # An equivocal inferior reduction in a man, seen again at rest beyond the diaphragm's
    # segments (ANT-3): a fixed defect.
    (Sex.MALE, {"ANT-4": 1, "LAO-3": 1}, {"ANT-3": 1, "ANT-4": 1, "ANT-5": 1, "LAO-3": 1},
     ["ANT-4", "LAO-3"]),
    # An anterior reduction in a woman that is too much for breast attenuation at rest.
    (Sex.FEMALE, {"ANT-1": 2}, {"ANT-1": 2, "LLAT-1": 2, "LLAT-2": 2}, ["ANT-1"]),
])
def test_a_stress_reduction_seen_again_at_rest_is_confirmed(
        sex: Sex, stress: dict[str, int], rest: dict[str, int], common: list[str]) -> None:
    found = _confirmed_at_rest(_state(stress), _state(rest), sex, 3, 2)
    assert found is not None
    assert found["common"] == common
    assert found["rest_summed_score"] == sum(rest.values())
    assert found["rest_segments"] == sorted(rest)


@pytest.mark.parametrize(("sex", "stress", "rest", "why"), [
    (Sex.MALE, {"ANT-4": 1}, {"LLAT-1": 2, "LLAT-2": 2}, "not the same segments"),
    (Sex.MALE, {"ANT-1": 1}, {"ANT-1": 1, "ANT-2": 1}, "rest summed score 2 < 3"),
    (Sex.MALE, {"ANT-4": 2}, {"ANT-4": 2, "ANT-5": 2}, "the rest images show the diaphragm"),
    (Sex.FEMALE, {"ANT-1": 2}, {"ANT-1": 2, "LLAT-1": 2}, "the rest images show the breast"),
    (Sex.MALE, {}, {"ANT-1": 3, "ANT-2": 3}, "nothing reduced at stress"),
    (Sex.MALE, {"LAO-2": 1}, {"LAO-2": 1, "ANT-1": 3, "ANT-5": 2},
     "one mildly reduced stress segment in common (1 < equivocal 2)"),
])
def test_what_rest_does_not_confirm(sex: Sex, stress: dict[str, int], rest: dict[str, int],
                                    why: str) -> None:
    assert _confirmed_at_rest(_state(stress), _state(rest), sex, 3, 2) is None, why
    assert _confirmed_at_rest(_state(stress), [], sex, 3, 2) is None


def test_a_pattern_overruled_by_the_rest_images_says_so() -> None:
    """A woman's stress reduction has the breast pattern, but the rest images show more:
    the pattern is kept in the result, marked as set aside, with the rest segments named."""
    stress, rest = {"LLAT-1": 2, "LLAT-2": 2}, {"LLAT-1": 3, "LLAT-2": 2}
    (pattern,) = _attenuation(5, Sex.FEMALE, stress)
    confirmed = _confirmed_at_rest(_state(stress), _state(rest), Sex.FEMALE, 3, 2)
    assert confirmed is not None  # LLAT-1 scored 3 at rest: more than attenuation does
    _set_aside([pattern], confirmed)
    assert pattern["set_aside"] == "the rest images' reductions (LLAT-1, LLAT-2) go beyond " \
                                   "the pattern"
    assert pattern["message"].endswith("set aside: " + pattern["set_aside"])


def _segment(key: str, stress: int, rest: int, induced: bool | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"segment": key, "stress_score": stress, "rest_score": rest}
    if induced is not None:
        entry["stress_induced"] = induced
    return entry


def _unconfirmed(segments: list[dict[str, Any]], rest_summed: int) -> list[str] | None:
    reduced = sum(1 for g in segments if g["stress_score"])
    return _unconfirmed_by_rest({"segments": segments}, {"summed_score": rest_summed},
                                {"reduced_segments": reduced}, PerfusionParams())


def test_a_mild_stress_reduction_neither_fixed_nor_induced_is_unconfirmed() -> None:
    segments = [_segment("ANT-4", 1, 0, False), _segment("ANT-5", 1, 0, False),
                _segment("LAO-3", 0, 0, False)]
    assert _unconfirmed(segments, rest_summed=0) == ["ANT-4", "ANT-5"]
    # A rest score of 1 elsewhere keeps the rest images normal (< equivocal ≥ 2).
    segments.append(_segment("LLAT-2", 0, 1, False))
    assert _unconfirmed(segments, rest_summed=1) == ["ANT-4", "ANT-5"]


@pytest.mark.parametrize(("segments", "rest_summed"), [
    # the rest images are not normal
    ([_segment("ANT-4", 1, 0, False), _segment("ANT-5", 1, 0, False)], 2),
    # the reduction is seen at rest as well (fixed)
    ([_segment("ANT-4", 1, 1, False), _segment("ANT-5", 1, 0, False)], 1),
    # the paired difference shows a stress-induced loss (reversible), even elsewhere
    ([_segment("ANT-4", 1, 0, True), _segment("ANT-5", 1, 0, False)], 0),
    ([_segment("ANT-4", 1, 0, False), _segment("LAO-2", 0, 0, True)], 0),
    # no paired difference was measured for a reduced segment (no limits for it)
    ([_segment("ANT-4", 1, 0, False), _segment("ANT-5", 1, 0, None)], 0),
])
def test_what_the_rest_images_do_not_contradict(segments: list[dict[str, Any]],
                                                rest_summed: int) -> None:
    assert _unconfirmed(segments, rest_summed) is None


def test_a_reduced_stress_segment_without_a_rest_view_is_not_contradicted() -> None:
    segments = [_segment("ANT-4", 1, 0, False)]
    assert _unconfirmed_by_rest({"segments": segments}, {"summed_score": 0},
                                {"reduced_segments": 2}, PerfusionParams()) is None
    assert _unconfirmed_by_rest(None, {"summed_score": 0}, {"reduced_segments": 1},
                                PerfusionParams()) is None
