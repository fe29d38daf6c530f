"""User ROIs from a file replace the automatic ones, and the result says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planarmpi.cli.main import main


def _square(r0: float, c0: float, r1: float, c1: float) -> list[list[float]]:
    return [[r0, c0], [r0, c1], [r1, c1], [r1, c0]]


def test_roi_file_is_used(muga_cases: dict, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    series, truth = muga_cases["normal"]
    uid = series.acquisition.series_instance_uid
    rows, cols = series.pixels.shape[1:]
    roi_file = tmp_path / "rois.json"
    roi_file.write_text(json.dumps({uid: {
        "who": "tech-7",
        "lv_ed": _square(rows / 2 - 6, cols / 2 - 4, rows / 2 + 6, cols / 2 + 6),
        "lv_es": _square(rows / 2 - 4, cols / 2 - 2, rows / 2 + 4, cols / 2 + 4),
        "background": _square(rows / 2 + 8, cols / 2 + 6, rows / 2 + 10, cols / 2 + 9),
    }}))
    out = tmp_path / "out"
    assert main(["analyze", truth["folder"], "--out", str(out), "--rois", str(roi_file)]) == 0
    doc = json.loads((out / truth["study_instance_uid"] / "result.json").read_text())
    (function,) = doc["function"]
    assert function["rois_source"] == "manual"
    assert function["rois_by"] == "tech-7"
    assert doc["ejection_fractions"][0]["method"] == "gated-blood-pool"
    assert "LVEF" in capsys.readouterr().out


@pytest.mark.parametrize(("content", "message"), [
    ("[1, 2]", "expected a mapping of ROIs keyed by Series Instance UID"),
    ('{"1.2": {"lv_ed": [[0, 0], [0, 1], [1, 1]]}}', "needs either 'lv'"),
    ("{not json", "not valid YAML/JSON"),
])
def test_bad_roi_files(muga_cases: dict, tmp_path: Path, content: str, message: str,
                       capsys: pytest.CaptureFixture[str]) -> None:
    _, truth = muga_cases["normal"]
    roi_file = tmp_path / "rois.json"
    roi_file.write_text(content)
    assert main(["analyze", truth["folder"], "--out", str(tmp_path / "o"), "--rois",
                 str(roi_file)]) == 2
    err = capsys.readouterr().err
    assert "rois.json" in err
    assert message in err
