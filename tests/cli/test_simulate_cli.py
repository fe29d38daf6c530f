"""``planarmpi simulate`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planarmpi import read_studies
from planarmpi.cli.main import main


def test_preset_with_preview(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sim"
    png = tmp_path / "preview.png"
    assert main(["simulate", "--preset", "first-pass-shunt", "--seed", "3", "--out", str(out),
                 "--preview", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    truth = json.loads((out / "truth.json").read_text())
    assert truth["states"][0]["first_pass"]["qp_qs"] == 2.0
    (study,) = read_studies(out).studies
    (dyn,) = study.dynamics
    assert dyn.pixels.shape == (625, 64, 64)
    assert "first-pass-shunt (seed 3)" in capsys.readouterr().out


def test_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--preset", "nope", "--out", str(tmp_path)]) == 2
    assert main(["simulate", "--seed", "-1", "--out", str(tmp_path)]) == 2
    assert "--seed must be ≥ 0" in capsys.readouterr().err
    assert main(["simulate", "--population", "0", "--out", str(tmp_path)]) == 2


def test_a_one_day_protocol_with_its_doses(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sim"
    assert main(["simulate", "--preset", "lad-ischemia", "--seed", "4", "--out", str(out),
                 "--doses-mbq", "1110,1110", "--one-day-residual"]) == 0
    truth = json.loads((out / "truth.json").read_text())
    assert [s["injection"]["dose_mbq"] for s in truth["states"]] == [1110.0, 1110.0]
    assert truth["states"][1]["earlier_injections_in_pixels"] is True
    results = tmp_path / "results"
    assert main(["analyze", str(out), "--out", str(results), "--no-report"]) == 0
    (result_path,) = results.glob("*/result.json")
    result = json.loads(result_path.read_text())
    assert result["one_day_protocol"]["ratio"] < 3
    (finding,) = [f for f in result["qc"]["findings"] if f["code"] == "ONE_DAY_DOSE_RATIO"]
    assert finding["level"] == "warn"
    capsys.readouterr()
    # One dose for two injections, or not a number: said, nothing written.
    assert main(["simulate", "--preset", "lad-ischemia", "--out", str(tmp_path / "x"),
                 "--doses-mbq", "1110"]) == 2
    err = capsys.readouterr().err
    assert "--doses-mbq for preset lad-ischemia (stress-exercise, rest)" in err
    assert "one dose per injection (2), got 1" in err
    assert main(["simulate", "--preset", "lad-ischemia", "--out", str(tmp_path / "y"),
                 "--doses-mbq", "1110,lots"]) == 2
    assert "give numbers in MBq" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    assert not (tmp_path / "y").exists()


@pytest.mark.slow
def test_population(tmp_path: Path) -> None:
    assert main(["simulate", "--population", "2", "--seed", "5", "--out", str(tmp_path)]) == 0
    index = json.loads((tmp_path / "population.json").read_text())
    assert [case["case"] for case in index] == ["case-00000", "case-00001"]
    for case in index:
        truth = json.loads((tmp_path / case["case"] / "truth.json").read_text())
        assert truth["study_instance_uid"] == case["study_instance_uid"]
        assert len(read_studies(tmp_path / case["case"]).studies) == 1
