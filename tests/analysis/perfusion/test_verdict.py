"""The study's verdict and territories from the states' summaries (issue #5, 3 and 6):
the rules of ``study_verdict`` in their order, and ``study_territories``."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from planarmpi.analysis.perfusion.params import PerfusionParams
from planarmpi.analysis.perfusion.verdict import (
    StudyVerdict,
    study_territories,
    study_verdict,
    territories_seen_elsewhere,
    unattributed_segments,
)
from planarmpi.model import Sex
from planarmpi.model.segments import SEGMENTS

BY_KEY = {s.key: s for s in SEGMENTS}
P = PerfusionParams()


def _views(scores: dict[str, int]) -> list[Any]:
    """One fake state: a view holding the 15 segments with the given scores (others 0)."""
    segments = [SimpleNamespace(segment=BY_KEY[k], score=scores.get(k, 0)) for k in BY_KEY]
    return [SimpleNamespace(defects=SimpleNamespace(segments=segments))]


def _summary(scores: dict[str, int], territories: dict[str, list[str]] | None = None
             ) -> dict[str, Any]:
    """A state summary as ``state_summary`` makes it, with the verdict from the defaults."""
    summed = sum(scores.values())
    verdict = ("abnormal" if summed >= P.abnormal_summed_score
               else "equivocal" if summed >= P.equivocal_summed_score else "normal")
    territories = territories or {}
    return {"summed_score": summed, "reduced_segments": sum(1 for v in scores.values() if v),
            "territories": list(territories),
            "territory_fit": {"named": list(territories), "segments": territories},
            "verdict": verdict}


def _reversibility(stress: dict[str, int], rest: dict[str, int],
                   induced: tuple[str, ...] = ()) -> dict[str, Any]:
    """The reversibility section's segment entries: every segment compared."""
    return {"segments": [{"segment": k, "stress_score": stress.get(k, 0),
                          "rest_score": rest.get(k, 0), "stress_induced": k in induced}
                         for k in BY_KEY]}


def _verdict(stress: dict[str, int], rest: dict[str, int] | None = None, *,
             induced: tuple[str, ...] = (), artefacts: list[dict[str, Any]] | None = None,
             codes: tuple[str, ...] = (), sex: Sex = Sex.MALE,
             p: PerfusionParams = P) -> StudyVerdict:
    return study_verdict(
        _views(stress), _summary(stress), _views(rest) if rest is not None else [],
        _summary(rest) if rest is not None else None,
        _reversibility(stress, rest, induced) if rest is not None else None,
        artefacts or [], sex, codes, p)


def test_the_summed_stress_score_alone_and_its_reason() -> None:
    v = _verdict({"ANT-3": 2, "LAO-3": 2})
    assert v.verdict == "abnormal"
    assert v.reasons == ("summed stress score 4 over 2 reduced segment(s) "
                         "(abnormal ≥ 3, equivocal ≥ 2)",)
    assert _verdict({"ANT-3": 2}).verdict == "equivocal"
    assert _verdict({"ANT-3": 1}).verdict == "normal"


def test_stress_induced_segments_in_two_views_make_it_abnormal() -> None:
    v = _verdict({"ANT-3": 2}, {}, induced=("LAO-3",))
    assert v.verdict == "abnormal"
    assert v.induced == ("LAO-3",)
    assert "the score reaches 3" in v.reasons[1]
    # The same difference in the view that is already reduced: one view, not counted.
    one_view = _verdict({"ANT-3": 2}, {}, induced=("ANT-2",))
    assert one_view.verdict != "abnormal"
    assert "is not counted" in one_view.reasons[1]


def test_a_reduction_seen_again_at_rest_is_a_fixed_defect() -> None:
    stress = {"LAO-4": 1, "LLAT-5": 1}
    v = _verdict(stress, {"LAO-4": 2, "LLAT-5": 1})
    assert v.verdict == "abnormal"
    assert v.confirmed is not None
    assert v.confirmed["common"] == ["LAO-4", "LLAT-5"]
    assert "a fixed defect" in v.reasons[-1]
    # One mildly reduced segment seen again is not enough (equivocal at stress ≥ 2 needed).
    assert _verdict({"LAO-4": 1}, {"LAO-4": 3}).confirmed is None


BREAST_ATTENUATION = {"artefact": "breast attenuation", "segments": ["ANT-1", "ANT-2"]}


@pytest.mark.parametrize(("motion_normal", "expected", "words"), [
    (True, "normal", "wall motion there is normal on the gated images"),
    (None, "equivocal", "the only reductions have the pattern of breast attenuation"),
    (False, "abnormal", None),
])
def test_an_attenuation_pattern_and_the_gated_wall_motion(motion_normal: bool | None,
                                                         expected: str,
                                                         words: str | None) -> None:
    artefact = {**BREAST_ATTENUATION, "wall_motion_normal": motion_normal}
    v = _verdict({"ANT-1": 1, "ANT-2": 2}, artefacts=[artefact], sex=Sex.FEMALE)
    assert v.verdict == expected
    if words is None:
        assert len(v.reasons) == 1
    else:
        assert words in v.reasons[-1]
    off = PerfusionParams(attenuation_normal_motion_is_normal=False)
    if motion_normal:
        assert _verdict({"ANT-1": 1, "ANT-2": 2}, artefacts=[artefact], sex=Sex.FEMALE,
                        p=off).verdict == "equivocal"


def test_rest_images_that_contradict_an_equivocal_stress_reduction() -> None:
    v = _verdict({"LLAT-2": 2}, {})
    assert v.verdict == "normal"
    assert "do not confirm it" in v.reasons[-1]
    # A stress-induced reduction anywhere — here too near the reduced segment to count
    # towards the score: the rest images do not contradict it.
    kept = _verdict({"LLAT-2": 2}, {}, induced=("LLAT-3",))
    assert kept.verdict == "equivocal"
    assert "is not counted" in kept.reasons[-1]
    assert _verdict({"LLAT-2": 2}, {}, p=PerfusionParams(paired_unconfirmed_normal=False)
                    ).verdict == "equivocal"


def test_an_abnormal_stress_score_contradicted_in_one_view_only() -> None:
    v = _verdict({"LLAT-2": 2, "LLAT-3": 2}, {})
    assert v.verdict == "normal"
    assert "it lies in one view" in v.reasons[-1]
    # Two views: kept abnormal.
    assert _verdict({"LLAT-2": 2, "ANT-3": 2}, {}).verdict == "abnormal"


def test_suboptimal_images_never_read_normal() -> None:
    v = _verdict({}, codes=("LV_NOT_FOUND",))
    assert v.verdict == "equivocal"
    assert "suboptimal images" in v.reasons[-1]
    assert _verdict({}, codes=("HIGH_LUNG_HEART_RATIO",)).verdict == "normal"


def _fit(**segments: list[str]) -> dict[str, Any]:
    return {"named": list(segments), "segments": segments}


def test_a_territory_the_rest_images_name_in_two_views_is_added() -> None:
    rest = _fit(RCA=["ANT-4", "ANT-5", "LAO-3"])
    assert territories_seen_elsewhere(["LAD"], [("rest", rest)], 2) == [
        ("rest", "RCA", ["ANT-4", "ANT-5", "LAO-3"])]
    # Two views are not three.
    assert territories_seen_elsewhere(["LAD"], [("rest", rest)], 3) == []
    # Already named by the stress fit: nothing to add.
    assert territories_seen_elsewhere(["RCA"], [("rest", rest)], 2) == []


def test_a_territory_seen_in_one_view_only_is_not_added() -> None:
    breast = _fit(LAD=["LLAT-1", "LLAT-2", "LLAT-3"])
    assert territories_seen_elsewhere(["RCA"], [("rest", breast)], 2) == []
    named_without_segments = {"named": ["LCX"], "segments": {}}
    assert territories_seen_elsewhere(["RCA"], [("rest", named_without_segments)], 2) == []


def test_the_first_fit_naming_a_territory_is_its_source() -> None:
    rest = _fit(LCX=["LAO-4", "LLAT-5"])
    paired = _fit(LCX=["LAO-5", "LLAT-5"], RCA=["ANT-5", "LLAT-4"])
    assert territories_seen_elsewhere(["LAD"], [("rest", rest), ("paired", paired)], 2) == [
        ("rest", "LCX", ["LAO-4", "LLAT-5"]), ("paired", "RCA", ["ANT-5", "LLAT-4"])]


def test_study_territories_from_stress_and_from_rest() -> None:
    stress = _summary({"ANT-2": 2, "LLAT-2": 2}, {"LAD": ["ANT-2", "LLAT-2"]})
    rest = _summary({"LAO-4": 2, "LLAT-5": 2}, {"LCX": ["LAO-4", "LLAT-5"]})
    abnormal = StudyVerdict("abnormal", (), (), None)
    out = study_territories(stress, rest, None, abnormal, P)
    assert out == {"territories": ["LAD", "LCX"],
                   "territory_segments": {"LAD": ["ANT-2", "LLAT-2"],
                                          "LCX": ["LAO-4", "LLAT-5"]},
                   "territory_sources": {"LAD": "stress", "LCX": "rest"}}
    # Not abnormal, or no rest images: the stress fit's territories only.
    equivocal = StudyVerdict("equivocal", (), (), None)
    assert study_territories(stress, rest, None, equivocal, P)["territories"] == ["LAD"]
    assert study_territories(stress, None, None, abnormal, P)["territories"] == ["LAD"]
    off = PerfusionParams(extra_territory_min_views=0)
    assert study_territories(stress, rest, None, abnormal, off)["territories"] == ["LAD"]


def test_study_territories_from_the_paired_difference_when_stress_names_none() -> None:
    # An LAD-like stress-induced loss (anterior wall and apex in the three views), with
    # nothing reduced on the stress images themselves.
    lad = {"ANT-2": 12.0, "ANT-3": 14.0, "LAO-1": 8.0, "LAO-2": 10.0, "LLAT-2": 12.0,
           "LLAT-3": 14.0}
    reversibility = {"segments": [{"segment": k, "stress_score": 0, "rest_score": 0,
                                   "stress_induced": k in lad,
                                   "induced_deficit": lad.get(k, 0.0)} for k in BY_KEY]}
    decided = StudyVerdict("abnormal", (), tuple(lad), None)
    out = study_territories(_summary({}), _summary({}), reversibility, decided, P)
    assert out["territories"] == ["LAD"]
    assert out["territory_sources"] == {"LAD": "paired"}
    assert "territory_fit_paired" in out
    assert list(out) == ["territories", "territory_segments", "territory_fit_paired",
                         "territory_sources"]


def test_the_segments_no_named_territory_takes() -> None:
    segments = [{"segment": k, "name": BY_KEY[k].name, "territory": BY_KEY[k].territory,
                 "score": s} for k, s in (("ANT-1", 3), ("ANT-4", 1), ("ANT-5", 2),
                                          ("LAO-4", 0), ("LLAT-2", 0))]
    reversibility = _reversibility({"ANT-1": 3, "ANT-4": 1, "ANT-5": 2}, {"ANT-1": 2},
                                   induced=("LAO-4",))
    for g in reversibility["segments"]:
        g["classification"] = "scar" if g["rest_score"] else "ischemia"
    out = unattributed_segments(segments, {"RCA": ["ANT-4", "ANT-5"]}, reversibility)
    # ANT-1 is scored and in no named territory; LAO-4 (found only by the paired
    # difference, which the stress fit does not attribute) and LLAT-2 (normal) are not
    # listed.
    assert out == [{"segment": "ANT-1", "name": BY_KEY["ANT-1"].name, "territory": "LAD",
                    "score": 3, "rest_score": 2, "classification": "scar",
                    "stress_induced": False}]
    # Every scored segment attributed: nothing left; one state only: no rest fields.
    assert unattributed_segments(segments, {"RCA": ["ANT-4", "ANT-5"], "LAD": ["ANT-1"]},
                                 None) == []
    assert unattributed_segments(segments, {}, None)[0] == {
        "segment": "ANT-1", "name": BY_KEY["ANT-1"].name, "territory": "LAD", "score": 3}
