"""The command line, in-process through ``main(argv)``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factories import HEADER, PATIENT, make_images
from planarmpi import write_nm
from planarmpi.cli.main import main
from planarmpi.model import SeriesKind
from testenv import EXAMPLES

RESULT_FIELDS = {
    "schema", "study_instance_uid", "ejection_fractions", "wall_motion", "phase", "perfusion",
    "lung_heart_ratio", "qc", "coding", "software",
}


@pytest.fixture
def study_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for i, kind in enumerate((SeriesKind.STATIC, SeriesKind.GATED)):
        write_nm(folder / f"f{i}.dcm", make_images(kind, seed=i), patient=PATIENT,
                 header=HEADER)
    return folder


def test_analyze_writes_the_result_contract(study_dir: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["analyze", str(study_dir), "--out", str(out)]) == 0
    doc = json.loads((out / HEADER.study_instance_uid / "result.json").read_text())
    assert set(doc) >= RESULT_FIELDS
    assert doc["schema"] == "planarmpi/result@1"
    assert doc["study_instance_uid"] == HEADER.study_instance_uid
    assert doc["qc"]["status"] in ("pass", "warn", "fail")
    assert {"code", "level", "message"} <= set(doc["qc"]["findings"][0])
    assert set(doc["coding"]) >= {"cpt", "rationale", "hcpcs", "rules_year"}
    assert doc["report"]["bottom_line"] in ("normal", "abnormal", "equivocal",
                                            "non-diagnostic")
    assert (out / HEADER.study_instance_uid / "report.pdf").read_bytes().startswith(b"%PDF")
    assert doc["software"]["name"] == "planarmpi"
    assert doc["ejection_fractions"] == []
    assert [s["kind"] for s in doc["series"]] == ["STATIC", "GATED"]
    assert "TEST^PATIENT" not in json.dumps(doc)  # no patient name in machine outputs
    assert capsys.readouterr().err == ""


def test_analyze_is_deterministic(study_dir: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    clock = ["--generated-at", "2026-03-01T10:00"]  # the report's clock is an input
    main(["analyze", str(study_dir), "--out", str(a), *clock])
    main(["analyze", str(study_dir), "--out", str(b), *clock])
    name = f"{HEADER.study_instance_uid}/result.json"
    assert (a / name).read_text() == (b / name).read_text()


def test_inspect_table_and_json(study_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(study_dir)]) == 0
    out = capsys.readouterr().out
    assert HEADER.study_instance_uid in out
    assert "GATED" in out
    assert "STATIC" in out
    assert main(["inspect", "--json", str(study_dir)]) == 0
    (doc,) = json.loads(capsys.readouterr().out)
    gated = next(s for s in doc["series"] if s["kind"] == "GATED")
    assert gated["timing"]["time_slots"] == 8
    assert gated["timing"]["intervals_rejected"] == 12
    assert gated["view"] == "ANT"
    assert gated["vendor"] == "planarmpi"


def test_missing_path_and_no_study(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(tmp_path / "nope")]) == 2
    assert "nope: no such file or folder" in capsys.readouterr().err


def test_usage_error_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze"]) == 2
    assert main(["--help"]) == 0


def test_bad_clinical_file(study_dir: Path, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("- just\n- a list\n")
    assert main(["analyze", str(study_dir), "--out", str(tmp_path / "o"), "--clinical",
                 str(bad)]) == 2
    assert "c.yaml: expected a mapping of clinical fields" in capsys.readouterr().err


def test_impossible_clinical_value_names_the_field(study_dir: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "visit.yaml"
    text = (EXAMPLES / "clinical-exercise.yaml").read_text()
    bad.write_text(text.replace("peak_hr_bpm: 150", "peak_hr_bpm: 400"))
    assert main(["analyze", str(study_dir), "--out", str(tmp_path / "o"), "--clinical",
                 str(bad)]) == 2
    err = capsys.readouterr().err
    assert "visit.yaml: stress.peak_hr_bpm: 400 bpm is impossible (expected 20–250 bpm)" in err
    assert not (tmp_path / "o").exists()  # refused before anything was written


def test_report_on_a_folder_without_results(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path)]) == 2
    assert "no result.json found" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "missing: not a folder" in capsys.readouterr().err


def test_non_dicom_in_folder_is_a_note_named_file_is_an_error(
    study_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (study_dir / "readme").write_text("notes")
    assert main(["analyze", str(study_dir), "--out", str(tmp_path / "o")]) == 0
    assert "note: skipped" in capsys.readouterr().err
    assert main(["analyze", str(study_dir / "readme"), str(study_dir),
                 "--out", str(tmp_path / "o")]) == 1
    assert "readme: not a DICOM file" in capsys.readouterr().err


def test_summary_line_names_territories_only_for_a_verdict_that_is_not_normal() -> None:
    # A normal verdict may keep a reduced segment's territory in result.json (a score of 1,
    # an attenuation pattern read as normal); the line printed by analyze must not name it.
    from planarmpi.analysis.result import EjectionFraction, StudyResult
    from planarmpi.cli.commands import result_summary
    from planarmpi.model import Chamber

    ef = EjectionFraction(Chamber.LV, "gated-perfusion", 61.24, (55.0, 67.5), "1.2.3")
    result = StudyResult("1.2.3.4", PATIENT, (), (), ejection_fractions=(ef,),
                         perfusion={"verdict": "normal", "territories": ["LAD"]})
    assert result_summary(result) == ("  LVEF 61.2% (gated-perfusion, 95% CI 55.0–67.5)"
                                      "  perfusion normal")
    abnormal = StudyResult("1.2.3.4", PATIENT, (), (),
                           perfusion={"verdict": "abnormal", "territories": ["LAD", "RCA"]})
    assert result_summary(abnormal) == "  perfusion abnormal (LAD, RCA)"
