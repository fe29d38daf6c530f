"""Every NM kind we write passes dciodvfy (Debian dicom3tools) with no error."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicom_tools import errors_of
from factories import HEADER, PATIENT, make_images
from planarmpi import write_nm
from planarmpi.model import DynamicPhase, SeriesKind

pytestmark = pytest.mark.external


@pytest.mark.parametrize("kind", [SeriesKind.STATIC, SeriesKind.GATED, SeriesKind.DYNAMIC])
@pytest.mark.parametrize("encoding", ["code", "description", "none"])
def test_written_nm_is_valid(tmp_path: Path, kind: SeriesKind, encoding: str) -> None:
    phases = [DynamicPhase(50.0, 4), DynamicPhase(200.0, 2, 100.0, 0.0)]
    images = make_images(kind, detectors=2, windows=2, frames=4,
                         phases=phases if kind is SeriesKind.DYNAMIC else None)
    path = tmp_path / f"{kind.value}.dcm"
    write_nm(path, images, patient=PATIENT, header=HEADER, view_encoding=encoding)
    assert errors_of(path) == []


def test_validator_catches_a_broken_file(tmp_path: Path) -> None:
    """The check above can fail: a file missing a Type 1 attribute is reported."""
    import pydicom

    path = tmp_path / "x.dcm"
    write_nm(path, make_images(SeriesKind.STATIC), patient=PATIENT, header=HEADER)
    ds = pydicom.dcmread(path)
    del ds.ImageType
    ds.save_as(path)
    assert errors_of(path) != []
