"""Regional wall motion of simulated blood-pool studies with known territory motion."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from planarmpi import analyze_study, read_studies
from planarmpi.analysis.bloodpool import analyze_blood_pool
from planarmpi.simulate import simulate_study
from planarmpi.simulate.phantom import Anatomy
from planarmpi.simulate.presets import preset


@pytest.fixture(scope="module")
def lad_akinetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lad-akinetic")
    spec = replace(preset("muga-normal"),
                   anatomy=Anatomy(lvef_percent=45.0, edv_ml=150.0, wall_motion={"LAD": 0.0}))
    simulate_study(spec, folder, seed=77)
    return folder


def test_normal_ventricle_moves_normally_everywhere(muga_cases: dict) -> None:
    series, truth = muga_cases["normal"]
    segments = analyze_blood_pool(series).wall_motion
    assert len(segments) == 5
    assert all(s.grade == "normal" for s in segments)
    assert all(g["grade"] == "normal" for g in truth["wall_motion"]["segments"])


def test_akinetic_lad_territory_is_found(lad_akinetic: Path) -> None:
    (study,) = read_studies(lad_akinetic).studies
    segments = analyze_blood_pool(study.gated[0]).wall_motion
    lad = [s for s in segments if s.territory == "LAD"]
    others = [s for s in segments if s.territory != "LAD"]
    assert any(s.grade in ("akinetic", "dyskinetic") for s in lad)
    assert all(s.grade != "normal" for s in lad)
    assert all(s.grade == "normal" for s in others)
    # The result.json contract: segment, territory and grade for every segment.
    result = analyze_study(study).to_dict()
    assert {"segment", "territory", "grade"} <= set(result["wall_motion"][0])
    assert {w["territory"] for w in result["wall_motion"]} == {"LAD", "RCA", "LCX"}
