"""Bad input: one clear error naming the file and the problem, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.uid import CTImageStorage

from factories import HEADER, PATIENT, make_images
from planarmpi import InvalidDicomError, read_file, read_studies, write_nm
from planarmpi.cli.main import main
from planarmpi.model import SeriesKind


def _write(tmp_path: Path, kind: SeriesKind = SeriesKind.GATED, name: str = "good.dcm") -> Path:
    path = tmp_path / name
    write_nm(path, make_images(kind, frames=8), patient=PATIENT, header=HEADER)
    return path


def _mutate(path: Path, **changes: object) -> Path:
    ds = pydicom.dcmread(path)
    for keyword, value in changes.items():
        if value is None:
            delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    out = path.with_name("bad.dcm")
    ds.save_as(out)
    return out


def _expect(path: Path, match: str) -> None:
    with pytest.raises(InvalidDicomError, match=match) as info:
        read_file(path)
    assert str(path) in str(info.value)


def test_zero_length(tmp_path: Path) -> None:
    path = tmp_path / "empty.dcm"
    path.write_bytes(b"")
    _expect(path, "empty file")


def test_not_dicom(tmp_path: Path) -> None:
    path = tmp_path / "notes.dcm"
    path.write_text("this is a text file, not an image\n" * 20)
    _expect(path, "not a DICOM file")


@pytest.mark.parametrize("keep", [0.3, 0.9, 0.995])
def test_truncated(tmp_path: Path, keep: float) -> None:
    good = _write(tmp_path)
    data = good.read_bytes()
    path = tmp_path / "cut.dcm"
    path.write_bytes(data[: int(len(data) * keep)])
    _expect(path, "truncated|cannot be parsed|corrupt|Pixel Data")


def test_missing_pixel_data(tmp_path: Path) -> None:
    _expect(_mutate(_write(tmp_path), PixelData=None), r"no Pixel Data \(7FE0,0010\)")


def test_vector_length_mismatch(tmp_path: Path) -> None:
    _expect(_mutate(_write(tmp_path), TimeSlotVector=[1, 2, 3]),
            "TimeSlotVector has 3 values but Number of Frames is 8")


def test_vector_out_of_range(tmp_path: Path) -> None:
    _expect(_mutate(_write(tmp_path), DetectorVector=[2] * 8),
            r"DetectorVector values must run 1–1")


def test_duplicate_time_slots(tmp_path: Path) -> None:
    _expect(_mutate(_write(tmp_path), TimeSlotVector=[1, 1, 2, 3, 4, 5, 6, 7]),
            "expected each of 1–8 once")


@pytest.mark.parametrize("value", [-5, 0])
def test_non_positive_static_frame_time(tmp_path: Path, value: int) -> None:
    _expect(_mutate(_write(tmp_path, SeriesKind.STATIC), ActualFrameDuration=value),
            f"ActualFrameDuration is {value} ms, expected > 0 ms")


def test_non_positive_dynamic_frame_time(tmp_path: Path) -> None:
    ds = pydicom.dcmread(_write(tmp_path, SeriesKind.DYNAMIC))
    ds.PhaseInformationSequence[0].ActualFrameDuration = -40
    ds.save_as(tmp_path / "bad.dcm")
    _expect(tmp_path / "bad.dcm", "ActualFrameDuration is -40 ms")


def test_absurd_matrix(tmp_path: Path) -> None:
    _expect(_mutate(_write(tmp_path), Rows=60000, Columns=60000), "implausible")


def test_gated_without_any_timing(tmp_path: Path) -> None:
    ds = pydicom.dcmread(_write(tmp_path))
    del ds.GatedInformationSequence
    ds.save_as(tmp_path / "bad.dcm")
    _expect(tmp_path / "bad.dcm", "time slot durations unknown")


def test_wrong_modality_is_declined(tmp_path: Path) -> None:
    from planarmpi import DeclinedInputError

    path = _mutate(_write(tmp_path, SeriesKind.STATIC), SOPClassUID=CTImageStorage,
                   Modality="CT")
    with pytest.raises(DeclinedInputError, match="CT Image Storage"):
        read_file(path)


def test_good_files_survive_bad_neighbours(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, SeriesKind.STATIC, "good.dcm")
    (tmp_path / "empty.dcm").write_bytes(b"")
    data = (tmp_path / "good.dcm").read_bytes()
    (tmp_path / "cut.dcm").write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    assert main(["analyze", str(tmp_path), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert any("empty.dcm: empty file" in line for line in err)
    assert any("cut.dcm" in line for line in err)
    assert (out / HEADER.study_instance_uid / "result.json").is_file()


def test_hostile_study_uid_never_becomes_a_path(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = _mutate(_write(tmp_path, SeriesKind.STATIC), StudyInstanceUID="../../evil/x")
    out = tmp_path / "out"
    assert main(["analyze", str(path), "--out", str(out)]) == 1
    written = [p for p in tmp_path.rglob("result.json")]
    assert len(written) == 1
    assert written[0].parent.parent == out
    assert written[0].parent.name.startswith("invalid-uid-")
    assert "invalid Study Instance UID" in capsys.readouterr().err


def test_mixed_patients_in_one_study_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, SeriesKind.STATIC, "a.dcm")
    b = tmp_path / "b"
    b.mkdir()
    path = _mutate(_write(b, SeriesKind.GATED, "g.dcm"), PatientID="SOMEONE-ELSE")
    outcome = read_studies([tmp_path / "a.dcm", path])
    assert outcome.studies == ()
    assert "mixes Patient IDs" in outcome.problems[0].message
