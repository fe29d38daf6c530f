"""``planarmpi analyze --combine-studies``: a two-day protocol stored as two studies."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest

from dicom_tools import errors_of
from factories import two_day_protocol
from planarmpi.cli.main import main

CLOCK = ["--generated-at", "2026-03-01T10:00"]


@pytest.fixture(scope="module")
def two_day(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return two_day_protocol(tmp_path_factory.mktemp("two-day"))


def _result(out: Path, uid: object) -> dict:
    return json.loads((out / str(uid) / "result.json").read_text())


def test_combined_studies_read_as_the_one_study_they_were(
        two_day: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, stress_uid, rest_uid = two_day["root"], two_day["stress_uid"], two_day["rest_uid"]
    ref, out = tmp_path / "ref", tmp_path / "out"
    assert main(["analyze", str(two_day["one"]), "--out", str(ref), "--no-report", *CLOCK]) == 0
    assert main(["analyze", str(root / "rest"), str(root / "stress"), "--out", str(out),
                 "--combine-studies", *CLOCK]) == 0
    assert sorted(p.name for p in out.iterdir()) == [stress_uid]  # under the stress study
    alone, combined = _result(ref, stress_uid), _result(out, stress_uid)
    # The same images give the same perfusion reading, reversibility included.
    assert combined["perfusion"] == alone["perfusion"]
    assert combined["perfusion"]["verdict"] == "abnormal"
    assert combined["perfusion"]["territories"] == ["LAD"]
    assert combined["perfusion"]["reversibility"]["overall"] == "ischemia"
    assert [(c["study_instance_uid"], c["states"]) for c in combined["combined_studies"]] == [
        (stress_uid, ["stress-exercise"]), (rest_uid, ["rest"])]
    assert [c["code"] for c in combined["coding"]["cpt"]] == ["78454"]
    (note,) = [f for f in combined["qc"]["findings"] if f["code"] == "STUDIES_COMBINED"]
    assert "2 days before the stress study" in note["message"]
    assert alone["combined_studies"] == []
    # The report dates both studies and both injections; the SR references the rest
    # images in their own study.
    text = (out / stress_uid / "report.txt").read_text()
    assert "Studies combined" in text
    assert "rest 2026-01-13" in text
    assert " at 2026-01-13 " in text
    sr = pydicom.dcmread(out / stress_uid / "report-sr.dcm")
    assert sr.StudyInstanceUID == stress_uid
    assert [s.StudyInstanceUID for s in sr.CurrentRequestedProcedureEvidenceSequence] == [
        stress_uid]
    (other,) = sr.PertinentOtherEvidenceSequence
    assert other.StudyInstanceUID == rest_uid
    assert len(other.ReferencedSeriesSequence) == 3
    assert errors_of(out / stress_uid / "report-sr.dcm") == []
    assert capsys.readouterr().err == ""


def test_without_the_option_the_studies_are_analysed_apart_and_the_user_told(
        two_day: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, stress_uid, rest_uid = two_day["root"], two_day["stress_uid"], two_day["rest_uid"]
    out = tmp_path / "out"
    assert main(["analyze", str(root / "rest"), str(root / "stress"), "--out", str(out),
                 "--no-report"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([stress_uid, rest_uid])
    assert _result(out, stress_uid)["perfusion"].get("reversibility") is None
    err = capsys.readouterr().err
    assert "came as separate studies and were analysed separately" in err
    assert "--combine-studies" in err


def test_studies_that_cannot_be_combined_are_analysed_alone_with_the_reason(
        two_day: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, stress_uid, rest_uid = two_day["root"], two_day["stress_uid"], two_day["rest_uid"]
    out = tmp_path / "out"
    assert main(["analyze", str(root / "rest"), str(root / "stress"), "--out", str(out),
                 "--no-report", "--combine-studies", "--combine-max-days", "1"]) == 1
    assert sorted(p.name for p in out.iterdir()) == sorted([stress_uid, rest_uid])
    err = capsys.readouterr().err
    assert "not combined, 2 days apart (more than 1)" in err
    assert "each analysed alone" in err


def test_the_interval_option_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "x", "--out", "y", "--combine-max-days", "-1"]) == 2
    assert "must be 0 or more" in capsys.readouterr().err


def test_batch_checks_the_interval_before_any_work(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", str(tmp_path), "--out", str(tmp_path / "out"), "--combine-studies",
                 "--combine-max-days", "-2"]) == 2
    assert "--combine-max-days must be 0 or more, got -2" in capsys.readouterr().err
