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
from planarmpi.analysis.wall_motion import builtin_normals
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
