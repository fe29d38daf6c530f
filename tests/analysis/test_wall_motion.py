"""Regional wall motion of simulated blood-pool studies with known territory motion.

The global volume curve stays normal (LVEF 62%); only the named territory moves less, not at
all or paradoxically, so remote territories are truly normal.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from planarmpi import analyze_study, read_studies
from planarmpi.analysis.bloodpool import analyze_blood_pool
from planarmpi.analysis.wall_motion import (
    SegmentMotion,
    builtin_normals,
    builtin_signatures,
    territory_motion,
)
from planarmpi.simulate import simulate_study
from planarmpi.simulate.phantom import Anatomy
from planarmpi.simulate.presets import preset

CASES = {"lad-akinetic": {"LAD": 0.0}, "lcx-dyskinetic": {"LCX": -0.3},
         "rca-hypokinetic": {"RCA": 0.4}}


@pytest.fixture(scope="module")
def regional(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for name, motion in CASES.items():
        folder = tmp_path_factory.mktemp(name)
        simulate_study(replace(preset("muga-normal"), anatomy=Anatomy(wall_motion=motion)),
                       folder, seed=77)
        out[name] = folder
    return out


def _territories(folder: Path) -> dict[str, str]:
    (study,) = read_studies(folder).studies
    return {t.territory: t.grade
            for t in analyze_blood_pool(study.gated[0]).wall_motion_territories}


def _grades(folder: Path) -> dict[str, list[str]]:
    (study,) = read_studies(folder).studies
    grades: dict[str, list[str]] = {}
    for s in analyze_blood_pool(study.gated[0]).wall_motion:
        grades.setdefault(s.territory, []).append(s.grade)
    return grades


def test_builtin_normals_cover_the_lao_segments() -> None:
    normals = builtin_normals()
    assert set(normals) == {f"LAO-{i}" for i in range(1, 6)}
    assert all(0 < sd < mean for mean, sd in normals.values())


def test_normal_ventricle_moves_normally_everywhere(muga_cases: dict) -> None:
    series, truth = muga_cases["normal"]
    segments = analyze_blood_pool(series).wall_motion
    assert len(segments) == 5
    assert all(s.grade == "normal" for s in segments)
    assert all(g["grade"] == "normal" for g in truth["wall_motion"]["segments"])


def test_akinetic_lad_territory_is_found(regional: dict[str, Path]) -> None:
    grades = _grades(regional["lad-akinetic"])
    assert any(g in ("akinetic", "dyskinetic") for g in grades["LAD"])
    assert all(g != "normal" for g in grades["LAD"])
    assert all(g == "normal" for g in grades["LCX"])
    # The result.json contract: segment, territory and grade for every segment.
    (study,) = read_studies(regional["lad-akinetic"]).studies
    result = analyze_study(study).to_dict()
    assert {"segment", "territory", "grade"} <= set(result["wall_motion"][0])
    assert {w["territory"] for w in result["wall_motion"]} == {"LAD", "RCA", "LCX"}


def test_dyskinetic_lcx_territory_is_found(regional: dict[str, Path]) -> None:
    grades = _grades(regional["lcx-dyskinetic"])
    assert "dyskinetic" in grades["LCX"]
    assert all(g == "normal" for g in grades["LAD"])


def test_hypokinetic_rca_territory_is_found(regional: dict[str, Path]) -> None:
    grades = _grades(regional["rca-hypokinetic"])
    assert grades["RCA"] == ["hypokinetic"]
    assert all(g == "normal" for g in grades["LCX"])


@pytest.mark.parametrize(("case", "territory"), [("lad-akinetic", "LAD"),
                                                 ("lcx-dyskinetic", "LCX"),
                                                 ("rca-hypokinetic", "RCA")])
def test_the_abnormal_territory_alone_is_named(regional: dict[str, Path], case: str,
                                               territory: str) -> None:
    grades = _territories(regional[case])
    assert set(grades) == {"LAD", "LCX", "RCA"}
    assert grades[territory] != "normal"
    assert all(g == "normal" for t, g in grades.items() if t != territory)


def test_builtin_signatures_cover_the_lao_segments() -> None:
    table = builtin_signatures()
    assert set(table) == {f"LAO-{i}" for i in range(1, 6)}
    # The septum is the LAD's, the posterolateral wall the LCX's.
    assert table["LAO-2"]["LAD"] > max(table["LAO-2"]["LCX"], table["LAO-2"]["RCA"])
    assert table["LAO-4"]["LCX"] > max(table["LAO-4"]["LAD"], table["LAO-4"]["RCA"])


# A synthetic table: the LAD lowers the septum and, through the apex, the inferoapical
# segment; the RCA lowers the inferoapical segment alone.
TABLE = {"LAO-1": {"LAD": 0.8, "LCX": 0.0, "RCA": 0.1},
         "LAO-2": {"LAD": 0.9, "LCX": 0.0, "RCA": 0.2},
         "LAO-3": {"LAD": 0.5, "LCX": 0.1, "RCA": 0.8},
         "LAO-4": {"LAD": 0.0, "LCX": 0.9, "RCA": 0.1},
         "LAO-5": {"LAD": 0.1, "LCX": 0.8, "RCA": 0.0}}
MAPPING = {"LAO-1": "LAD", "LAO-2": "LAD", "LAO-3": "RCA", "LAO-4": "LCX", "LAO-5": "LCX"}
NORMALS = {k: (60.0, 8.0) for k in MAPPING}


def _segments(values: dict[str, float], grades: dict[str, str]) -> list[SegmentMotion]:
    return [SegmentMotion(k, k, MAPPING[k], values[k], grades.get(k, "normal"))
            for k in MAPPING]


def test_an_lad_pattern_takes_the_inferoapical_segment_with_it() -> None:
    # LAD akinetic: septum at 60 × (1 − 0.8/0.9), apex at 60 × (1 − 0.5).
    values = {"LAO-1": 12.0, "LAO-2": 6.0, "LAO-3": 30.0, "LAO-4": 60.0, "LAO-5": 57.0}
    grades = {"LAO-1": "hypokinetic", "LAO-2": "akinetic", "LAO-3": "hypokinetic"}
    out = {t.territory: t for t in territory_motion(_segments(values, grades), values,
                                                    NORMALS, TABLE)}
    assert out["LAD"].grade == "akinetic"
    assert out["LAD"].segments == ("LAO-1", "LAO-2", "LAO-3")
    assert out["LAD"].coefficient == pytest.approx(0.97, abs=0.1)
    assert out["RCA"].grade == "normal"
    assert out["LCX"].grade == "normal"


def test_an_inferoapical_defect_alone_is_the_rca() -> None:
    values = {"LAO-1": 58.0, "LAO-2": 59.0, "LAO-3": 24.0, "LAO-4": 60.0, "LAO-5": 60.0}
    out = {t.territory: t for t in territory_motion(
        _segments(values, {"LAO-3": "hypokinetic"}), values, NORMALS, TABLE)}
    assert out["RCA"].grade == "hypokinetic"
    assert out["RCA"].segments == ("LAO-3",)
    assert out["LAD"].grade == "normal"


def test_an_unexplained_abnormal_segment_keeps_its_own_territory() -> None:
    # The fit cannot give LAO-4 to anyone when its signature row is empty.
    table = {**TABLE, "LAO-4": {"LAD": 0.0, "LCX": 0.0, "RCA": 0.0}}
    values = {"LAO-1": 60.0, "LAO-2": 60.0, "LAO-3": 60.0, "LAO-4": 20.0, "LAO-5": 60.0}
    out = {t.territory: t for t in territory_motion(
        _segments(values, {"LAO-4": "hypokinetic"}), values, NORMALS, table)}
    assert out["LCX"].grade == "hypokinetic"
    assert out["LCX"].segments == ("LAO-4",)


def test_a_normal_study_names_no_territory() -> None:
    values = {k: 58.0 for k in MAPPING}
    out = territory_motion(_segments(values, {}), values, NORMALS, TABLE)
    assert {t.grade for t in out} == {"normal"}


def test_perfusion_weighs_attenuation_against_territory_grades(
        muga_cases: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    # The perfusion analysis judges an attenuation pattern by the wall motion of its
    # territory: it is given the territories named by the signatures, not the segments
    # under their static territories.
    from planarmpi.analysis import pipeline

    (study,) = read_studies(muga_cases["normal"][1]["folder"]).studies
    seen: dict = {}

    def spy(study, **kwargs):  # type: ignore[no-untyped-def]
        seen.update(kwargs)

    monkeypatch.setattr(pipeline, "analyze_perfusion", spy)
    result = pipeline.analyze_study(study)
    assert result.wall_motion_territories
    assert list(seen["wall_motion"]) == list(result.wall_motion_territories)
    assert {w["territory"] for w in seen["wall_motion"]} == {"LAD", "LCX", "RCA"}
