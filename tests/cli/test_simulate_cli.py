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


@pytest.mark.slow
def test_population(tmp_path: Path) -> None:
    assert main(["simulate", "--population", "2", "--seed", "5", "--out", str(tmp_path)]) == 0
    index = json.loads((tmp_path / "population.json").read_text())
    assert [case["case"] for case in index] == ["case-00000", "case-00001"]
    for case in index:
        truth = json.loads((tmp_path / case["case"] / "truth.json").read_text())
        assert truth["study_instance_uid"] == case["study_instance_uid"]
        assert len(read_studies(tmp_path / case["case"]).studies) == 1
