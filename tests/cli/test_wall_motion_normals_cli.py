"""``planarmpi normals wall-motion`` and ``analyze --normals`` with wall-motion normals, on
synthetic beating rings (gated LAO perfusion views)."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import generate_uid

from factories import HEADER, PATIENT, beating_ring_series
from planarmpi import write_nm
from planarmpi.analysis.gated_perfusion import analyze_gated_perfusion
from planarmpi.cli.main import main
from planarmpi.io.reader import read_studies


def _study(folder: Path, seed: int, shortening: float = 0.2) -> None:
    header = replace(HEADER, study_instance_uid=generate_uid())
    series = beating_ring_series(seed, shortening, study_uid=header.study_instance_uid)
    folder.mkdir(parents=True)
    write_nm(folder / "gated.dcm", [series], patient=PATIENT, header=header)


@pytest.fixture(scope="module")
def normals_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wm-normals")
    for i in range(6):
        _study(root / f"n{i}", 100 + i)
    return root


def _shortening(folder: Path) -> dict[str, tuple[float, float]]:
    (study,) = read_studies(folder).studies
    return {w.segment: (w.shortening_percent, w.shortening_sd_percent)
            for w in analyze_gated_perfusion(study.gated[0]).wall_motion}


def test_build_then_grade_against_the_site_normals(
        normals_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A static-only study in the folder is skipped, named, and does not stop the build.
    from test_normals_cli import _study as perfusion_study

    static = tmp_path / "static"
    perfusion_study(static, 3)
    # A ring that barely moves, filed among the normals, is left out and named.
    still = tmp_path / "still"
    _study(still, 400, shortening=0.02)
    out = tmp_path / "site-gated-perfusion.json"
    code = main(["normals", "wall-motion", str(normals_dir), str(static), str(still),
                 "--method", "gated-perfusion", "--out", str(out), "--min-studies", "6"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "from 6 studies" in captured.out
    assert "skipped study" in captured.err
    assert "no gated series of a perfusion agent" in captured.err
    assert "left out study" in captured.err
    assert "SDs below the other normals' mean" in captured.err

    doc = json.loads(out.read_text())
    assert doc["schema"] == "planarmpi/wall-motion-normals@1"
    assert doc["method"] == "gated-perfusion"
    assert doc["name"] == "site-gated-perfusion"
    measured = [_shortening(normals_dir / f"n{i}") for i in range(6)]
    for key, entry in doc["segments"].items():
        values = np.array([m[key][0] for m in measured])
        assert entry["n"] == 6
        assert entry["mean_percent"] == pytest.approx(values.mean())
        assert entry["sd_percent"] == pytest.approx(values.std(ddof=1))
        assert entry["measurement_sd_percent"] == pytest.approx(
            math.sqrt(np.mean([m[key][1] ** 2 for m in measured])))
        # The rings' ridge shortens by 20% and their inner edge by ≈ 28% (factories); the
        # measured border lies near them, less the 8 slots' sampling and smoothing.
        assert 15.0 <= entry["mean_percent"] <= 30.0

    # A ring that barely moves is hypokinetic against them, and the result names them.
    patient = tmp_path / "patient"
    _study(patient, 500, shortening=0.05)
    results = tmp_path / "results"
    assert main(["analyze", str(patient), "--out", str(results), "--normals", str(out)]) == 0
    (result_file,) = results.glob("*/result.json")
    result = json.loads(result_file.read_text())
    (entry,) = [f for f in result["function"] if f["method"] == "gated-perfusion"]
    assert entry["wall_motion_normals"]["name"] == "site-gated-perfusion"
    assert entry["wall_motion_normals"]["path"] == str(out)
    assert {w["grade"] for w in result["wall_motion"]} <= {"hypokinetic", "akinetic"}
    for w in result["wall_motion"]:
        assert w["normal_limit_percent"] <= doc["segments"][w["segment"]]["mean_percent"]
    report = (result_file.parent / "report.txt").read_text()
    assert "Wall-motion normals" in report
    assert "site-gated-perfusion" in report

    # One of the normals reads normal in every segment against them.
    normal_results = tmp_path / "normal-results"
    assert main(["analyze", str(normals_dir / "n0"), "--out", str(normal_results),
                 "--normals", str(out)]) == 0
    (result_file,) = normal_results.glob("*/result.json")
    assert {w["grade"] for w in json.loads(result_file.read_text())["wall_motion"]} == {
        "normal"}


def test_too_few_studies_an_existing_file_and_two_files_are_refused(
        normals_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "few.json"
    assert main(["normals", "wall-motion", str(normals_dir), "--method", "gated-blood-pool",
                 "--out", str(out)]) == 2
    assert "no study with gated-blood-pool wall motion was found" in capsys.readouterr().err
    assert main(["normals", "wall-motion", str(normals_dir), "--method", "gated-perfusion",
                 "--out", str(out)]) == 2
    assert "measured in 6 of 6 normal studies; at least 10 are needed" in \
        capsys.readouterr().err
    assert not out.exists()

    out.write_text("{}")
    assert main(["normals", "wall-motion", str(normals_dir), "--method", "gated-perfusion",
                 "--out", str(out), "--min-studies", "6"]) == 2
    assert "exists; give --force" in capsys.readouterr().err
    assert out.read_text() == "{}"

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for path in (a, b):
        assert main(["normals", "wall-motion", str(normals_dir), "--method",
                     "gated-perfusion", "--out", str(path), "--min-studies", "6"]) == 0
    capsys.readouterr()
    results = tmp_path / "not-written"
    assert main(["analyze", str(normals_dir / "n0"), "--out", str(results), "--normals",
                 str(a), "--normals", str(b)]) == 2
    assert "a second wall-motion normals file for gated-perfusion" in capsys.readouterr().err
    assert not results.exists()
