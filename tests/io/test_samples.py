"""Real vendor files: each is read (or declined) as its provenance says.

Expected values come from ../shared/samples/README.md (vendor, matrix, frames, pixel size,
energy window, counts) and from the files' own headers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from planarmpi import DeclinedInputError, read_file
from planarmpi.cli.main import main
from planarmpi.model import SeriesKind, Tracer

REGISTRY = {
    "kanoun_poumonsReins_static_ant_post.dcm": {
        "kind": SeriesKind.STATIC, "images": 2, "shape": (256, 256), "spacing": 2.3976,
        "detectors": [1, 2], "window_kev": (128.575, 149.425), "counts": 1_596_488,
        "frame_ms": 120001.0, "tracer": Tracer.TC99M, "qc_code": "NOT_CARDIAC",
    },
    "nmqc_UNIFORMIDAD_1_flood.dcm": {
        "kind": SeriesKind.STATIC, "images": 1, "shape": (256, 256), "spacing": 2.064999816,
        "detectors": [1], "window_kev": (126.0, 154.0), "counts": 16_000_045,
        "frame_ms": 812390.0, "tracer": Tracer.TC99M, "qc_code": "NO_HEART_FOUND",
    },
    "wg04_NM1_UNC.dcm": {
        "kind": SeriesKind.WHOLE_BODY, "images": 1, "shape": (1024, 256), "spacing": 2.26,
        "detectors": [1], "window_kev": None, "counts": 3_596_452, "frame_ms": 1210434.0,
        "tracer": Tracer.UNKNOWN, "qc_code": "NOT_CARDIAC",
    },
    "wg04_NM1_RLE.dcm": {
        "kind": SeriesKind.WHOLE_BODY, "images": 1, "shape": (1024, 256), "spacing": 2.26,
        "detectors": [1], "window_kev": None, "counts": 3_596_452, "frame_ms": 1210434.0,
        "tracer": Tracer.UNKNOWN, "qc_code": "NOT_CARDIAC",
    },
    "wg04_NM1_JPLL.dcm": {
        "kind": SeriesKind.WHOLE_BODY, "images": 1, "shape": (1024, 256), "spacing": 2.26,
        "detectors": [1], "window_kev": None, "counts": 3_596_452, "frame_ms": 1210434.0,
        "tracer": Tracer.UNKNOWN, "qc_code": "NOT_CARDIAC",
    },
}
DECLINED = {
    "nmqc_Jaszczak_recon_tomo.dcm": "RECON TOMO",
    "barre_NM-MONO2-16-13x-heart.dcm": "RECON TOMO",
}


def test_registry_covers_every_sample(samples: Path) -> None:
    on_disk = {p.name for p in samples.glob("*.dcm")}
    assert on_disk == set(REGISTRY) | set(DECLINED)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_sample_is_read(samples: Path, name: str) -> None:
    expected = REGISTRY[name]
    series, _ = read_file(samples / name)
    assert len(series) == expected["images"]
    assert sorted(s.acquisition.detector for s in series) == expected["detectors"]
    for s in series:
        a = s.acquisition
        assert a.kind is expected["kind"]
        assert s.pixels.shape == expected["shape"]
        assert a.pixel_spacing_mm == pytest.approx((expected["spacing"],) * 2)
        assert s.frame_duration_ms == expected["frame_ms"]
        assert a.tracer is expected["tracer"]
        if expected["window_kev"]:
            assert a.energy_window.ranges_kev == (pytest.approx(expected["window_kev"]),)
    total = sum(float(np.asarray(s.pixels, dtype=np.float64).sum()) for s in series)
    assert total == expected["counts"]


def test_compressed_pixels_equal_uncompressed(samples: Path) -> None:
    reference = read_file(samples / "wg04_NM1_UNC.dcm")[0][0].pixels
    for name in ("wg04_NM1_RLE.dcm", "wg04_NM1_JPLL.dcm"):
        np.testing.assert_array_equal(read_file(samples / name)[0][0].pixels, reference)


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_spect_is_declined_with_reason(samples: Path, name: str) -> None:
    with pytest.raises(DeclinedInputError, match=DECLINED[name]) as info:
        read_file(samples / name)
    assert name in str(info.value)
    assert "78451" in str(info.value)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_inspect_reports_sample(samples: Path, name: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["inspect", "--json", str(samples / name)]) == 0
    docs = json.loads(capsys.readouterr().out)
    assert len(docs) == 1
    codes = {f["code"] for f in docs[0]["qc"]["findings"]}
    assert REGISTRY[name]["qc_code"] in codes
    assert docs[0]["qc"]["status"] == "fail"
    assert [s["rows"] for s in docs[0]["series"]] == [REGISTRY[name]["shape"][0]] * len(
        docs[0]["series"])


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_analyze_runs_end_to_end_on_sample(samples: Path, name: str, tmp_path: Path) -> None:
    """``analyze`` (result, report, coding) on each real file: no traceback, the QC finding
    its provenance expects, and a report that says the study is not diagnostic."""
    import json

    assert main(["analyze", str(samples / name), "--out", str(tmp_path)]) == 0
    (result_file,) = tmp_path.glob("*/result.json")
    doc = json.loads(result_file.read_text())
    assert REGISTRY[name]["qc_code"] in {f["code"] for f in doc["qc"]["findings"]}
    assert doc["report"]["bottom_line"] == "non-diagnostic"


def test_a_dose_of_zero_is_read_as_not_recorded(samples: Path, tmp_path: Path) -> None:
    """The Siemens file records Radionuclide Total Dose 0 (not entered): no dose is read,
    the report states none, and coding goes on (it used to fail on an injection of 0)."""
    import json

    name = "kanoun_poumonsReins_static_ant_post.dcm"
    images, _ = read_file(samples / name)
    assert {s.acquisition.radiopharmaceutical.dose_mbq for s in images} == {None}
    assert main(["analyze", str(samples / name), "--out", str(tmp_path)]) == 0
    (result_file,) = tmp_path.glob("*/result.json")
    assert {s["dose_mbq"] for s in json.loads(result_file.read_text())["series"]} == {None}
    (report,) = tmp_path.glob("*/report.txt")
    assert "0 MBq" not in report.read_text()


def test_coding_leaves_out_an_implausible_recorded_dose() -> None:
    from planarmpi.coding.encounter import _injections_from_series

    notes: list[str] = []
    series = [{"series_number": 7, "state": "rest", "tracer": "Tc-99m sestamibi",
               "dose_mbq": 0.4}, {"series_number": 8, "state": "stress-exercise",
                                  "tracer": "Tc-99m sestamibi", "dose_mbq": 925.0}]
    injections = _injections_from_series(series, notes)
    assert [i.dose_mbq for i in injections] == [925.0]
    assert notes == ["series 7: the DICOM records an injected dose of 0.4 MBq, not a "
                     "plausible dose (1–3000 MBq; 0 usually means not entered): not used"]


def test_inspect_of_spect_explains_and_fails(samples: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(samples / "barre_NM-MONO2-16-13x-heart.dcm")]) == 2
    err = capsys.readouterr().err
    assert "barre_NM-MONO2-16-13x-heart.dcm" in err
    assert "SPECT (RECON TOMO)" in err


@pytest.mark.parametrize("name", ["kanoun_poumonsReins_static_ant_post.dcm",
                                  "wg04_NM1_UNC.dcm", "nmqc_UNIFORMIDAD_1_flood.dcm"])
def test_the_header_alone_tells_tracer_and_state_as_the_full_read(samples: Path,
                                                                  name: str) -> None:
    """``tracer_and_state`` (batch pairing reads headers only) agrees with the full read
    on real vendor files; a SPECT file is declined by both."""
    from planarmpi.io.dataset import tracer_and_state
    from planarmpi.io.reader import read_dataset

    path = str(samples / name)
    series, _ = read_file(path)
    expected = {(s.acquisition.tracer, s.acquisition.state) for s in series}
    assert {tracer_and_state(read_dataset(path, pixels=False), path)} == expected
    spect = str(samples / "nmqc_Jaszczak_recon_tomo.dcm")
    with pytest.raises(DeclinedInputError):
        tracer_and_state(read_dataset(spect, pixels=False), spect)
